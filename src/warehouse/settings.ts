/**
 * What of the configuration the warehouse itself must know, written when the worker (or a command) opens it:
 * the settings its views read (REPORT_TZ, STALE_AFTER_HOURS) and the soil thresholds of SOIL_THRESHOLDS_FILE.
 * A changed REPORT_TZ moves the local days of probes without coordinates, so the whole rollup is made again.
 */
import type { Config } from '../config.js';
import { appendRows } from './appender.js';
import { refreshRollup } from './rollup.js';
import { sqlFile } from './sql-files.js';
import type { Warehouse } from './warehouse.js';

export async function applySettings(db: Warehouse, config: Config): Promise<void> {
  await db.write(async (c) => {
    const stored = (await c.runAndReadAll(sqlFile('settings/report-tz'))).getRowObjectsJS()[0]?.value;
    if (stored !== undefined && stored !== config.reportTz) {
      db.log.info({ from: stored, to: config.reportTz }, 'REPORT_TZ changed: rolling every day up again');
      await c.run(sqlFile('rollup/mark-all'));
    }
    await c.run('DELETE FROM warehouse_settings');
    await c.run(sqlFile('settings/replace'), {
      report_tz: config.reportTz,
      stale_after_hours: String(config.staleAfterHours),
    });
    await c.run('DELETE FROM soil_threshold_overrides');
    const source = 'SOIL_THRESHOLDS_FILE';
    await appendRows(
      c,
      'soil_threshold_overrides',
      config.soilThresholds.map((t) => [t.soilKey, t.wiltingPointPct, t.refillPct, t.fieldCapacityPct, source]),
    );
  });
  await refreshRollup(db);
}

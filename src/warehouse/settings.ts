/**
 * What of the configuration the warehouse itself must know, written when the worker (or a command) opens it:
 * the settings its views read (REPORT_TZ, STALE_AFTER_HOURS) and the soil thresholds of SOIL_THRESHOLDS_FILE.
 * A changed REPORT_TZ moves the local days of probes without coordinates, so the whole rollup is made again.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { appendRows } from './appender.js';
import { sqlFile } from './sql-files.js';

const OVERRIDE_COLUMNS = ['soil_key', 'wilting_point_pct', 'refill_pct', 'field_capacity_pct', 'source'] as const;

/** Call in a transaction, and refresh the rollup after it (a changed REPORT_TZ marks every day). */
export async function applySettings(c: DuckDBConnection, config: Config, log: Logger): Promise<void> {
  const stored = (await c.runAndReadAll(sqlFile('settings/report-tz'))).getRowObjectsJS()[0]?.value;
  if (stored !== undefined && stored !== config.reportTz) {
    log.info({ from: stored, to: config.reportTz }, 'REPORT_TZ changed: rolling every day up again');
    await c.run(sqlFile('rollup/mark-all'));
  }
  await c.run('DELETE FROM warehouse_settings');
  await c.run(sqlFile('settings/replace'), {
    report_tz: config.reportTz,
    stale_after_hours: String(config.staleAfterHours),
  });
  await c.run('DELETE FROM soil_threshold_overrides');
  const overrides = config.soilThresholds.map((t) => ({
    soil_key: t.soilKey,
    wilting_point_pct: t.wiltingPointPct,
    refill_pct: t.refillPct,
    field_capacity_pct: t.fieldCapacityPct,
    source: 'SOIL_THRESHOLDS_FILE',
  }));
  await appendRows(c, 'soil_threshold_overrides', OVERRIDE_COLUMNS, overrides);
}

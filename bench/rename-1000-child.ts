/**
 * The work of the rename-1000 benchmark, in a process of its own so that its peak memory is its own. On a warehouse
 * built by warehouse-10m-child.js (`build`: 1,000 probes, 10 million readings, rolled up), every one of the 1,000
 * probes is renamed in the simulator and one probe sync applies it, as jobs/sync-probes.ts and src/job-runtime/runner.ts do:
 * the pages staged (stage_probes, stage_readings), applyProbeSnapshot in one transaction, then refreshRollup in one
 * of its own.
 *   after   the code as it is: the apply marks for the rollup what src/warehouse/snapshots.ts marks (for a rename,
 *           nothing);
 *   before  the same, with the rule of commit 7989e0e first (sql/rollup/mark-probes.sql then marked a probe's whole
 *           history on any version_hash change, a rename included), run in a transaction of its own right before the
 *           apply (it needs the snapshot's desired_probes, which it builds the way the apply does).
 * Usage: node rename-1000-child.js <after|before> DIR. Prints one JSON line of figures (with the process's CPU seconds).
 * Staging (the API's pages) is not timed; the apply and the refresh are, each on its own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { configFor, timed } from './lib/child-steps.js';
import { readRows } from './lib/warehouse-sql.js';
import { createLogger } from '../src/logger.js';
import { SkippedReadings } from '../src/readings/skipped.js';
import { SensoterraClient } from '../src/sensoterra/client.js';
import { Simulator, generateAccount } from '../src/simulator/index.js';
import { probeStageRow, statusReadings } from '../src/sync/probe-rows.js';
import { ts } from '../src/warehouse/duckdb.js';
import { readingRow } from '../src/warehouse/readings-store.js';
import { sqlFile } from '../src/warehouse/sql-files.js';
import { Warehouse } from '../src/warehouse/warehouse.js';

// as warehouse-10m-child.ts builds it: the same account, the same simulated clock, the same configuration
const PROBES = 1_000;
const CUSTOMERS = 20;
const END = '2024-07-01 00:00:00+00';
const log = createLogger('warn');

/**
 * The "before" rule, verbatim from `git show 7989e0e:sql/rollup/mark-probes.sql`: every reading of a probe whose
 * version_hash (name, location, coordinates, customer, soil profile) or time zone changes is marked, so a rename
 * rolls the probe's whole history up again.
 */
const MARK_PROBES_BEFORE = `
-- Marks every reading of a probe whose version or time zone is about to change for a new daily rollup: its
-- readings may now fall on other local days. Needs desired_probes; runs before probes-update.sql.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT r.serial, min(r.ts), max(r.ts)
FROM readings r
WHERE r.serial IN (
  SELECT d.serial FROM desired_probes d LEFT JOIN probes p USING (serial)
  WHERE p.serial IS NULL OR p.version_hash <> d.version_hash OR p.time_zone IS DISTINCT FROM d.time_zone
)
GROUP BY r.serial`;

function status(field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

/** Resets VmHWM to the current RSS (Linux: "5" to clear_refs), so that the next peak is the measured part's own. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function count(db: Warehouse, sql: string): Promise<number> {
  const [row] = (await readRows(db, sql)) as [{ n: number | bigint }];
  return Number(row.n);
}

async function rename(variant: 'after' | 'before', dir: string): Promise<Record<string, number | boolean>> {
  const sim = await Simulator.start({
    account: generateAccount({ seed: 10, probes: PROBES, customers: CUSTOMERS }),
    now: new Date(END),
  });
  for (const p of sim.account.probes) sim.renameProbe(p.serial, `${p.name ?? p.serial} (renamed)`);
  const config = configFor(dir, {
    SENSOTERRA_API_URL: sim.url,
    SENSOTERRA_EMAIL: sim.account.account.email,
    SENSOTERRA_PASSWORD: sim.account.account.password,
  });
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config); // what the worker does on opening; the same settings as the build: marks nothing
  const client = new SensoterraClient(config, log);
  const runId = randomUUID();
  const startedAt = new Date();
  const out: Record<string, number | boolean> = {};
  try {
    // the pages, staged as jobs/sync-probes.ts stages them (not timed: the API and the appender, not the change)
    const skipped = new SkippedReadings();
    let read = 0;
    for await (const page of client.probes()) {
      await db.stage(
        'stage_probes',
        page.map((element) => probeStageRow(runId, element, config.timeZoneOverrides)),
      );
      await db.stage(
        'stage_readings',
        page.flatMap((element) => statusReadings(element, startedAt, skipped)).map((r) => readingRow(runId, r)),
      );
      read += page.length;
    }
    out.probesRead = read;
    out.readings = await count(db, 'SELECT count(*) AS n FROM readings');
    out.rollupRowsBefore = await count(db, 'SELECT count(*) AS n FROM daily_rollup');
    out.setupPeakMb = status('VmHWM');
    out.rssBeforeMb = status('VmRSS');
    out.peakReset = resetPeak();

    if (variant === 'before') {
      // the old rule, in a transaction of its own just before the apply: desired_probes as the apply builds it
      const [, markMs] = await timed(() =>
        db['write'](async (c) => {
          await c.run(sqlFile('sync/probes-desired-from-stage'), { run_id: runId, at: ts(startedAt) });
          await c.run(MARK_PROBES_BEFORE);
        }),
      );
      out.oldMarkMs = markMs;
    } else {
      out.oldMarkMs = 0;
    }
    const [outcome, applyMs] = await timed(() =>
      db.applyProbeSnapshot({
        runId,
        at: startedAt,
        complete: true,
        maxDeleteShare: config.syncMaxDeleteShare,
        changedBy: 'sync-probes',
      }),
    );
    out.applyMs = applyMs;
    out.newVersions = outcome.newVersions;
    out.updated = outcome.updated;
    out.readingsInserted = outcome.readings.inserted;
    out.probesMarked = await count(db, 'SELECT count(DISTINCT serial) AS n FROM rollup_dirty');
    const [written, refreshMs] = await timed(() => db.refreshRollup());
    out.refreshMs = refreshMs;
    out.rowsWritten = written;
    out.peakMb = status('VmHWM');
    out.renamed = await count(db, "SELECT count(*) AS n FROM probes WHERE name LIKE '% (renamed)'");
    out.rollupRowsAfter = await count(db, 'SELECT count(*) AS n FROM daily_rollup');
  } finally {
    await db.clearStaged(runId).catch(() => undefined);
    await client.close();
    await db.close();
    await sim.close();
  }
  // CPU of this whole process (every thread, DuckDB's included): the parent subtracts it to see what else ran
  const cpu = process.cpuUsage();
  out.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return out;
}

const [variant, dir] = process.argv.slice(2);
if ((variant !== 'after' && variant !== 'before') || !dir) {
  process.stderr.write('usage: rename-1000-child.js <after|before> DIR\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await rename(variant, dir))}\n`);

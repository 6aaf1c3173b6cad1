/**
 * The work of the writer-scale benchmark, one step per process so that each step's peak memory is its own:
 *   build HOURS   a warehouse of 5,000 probes (50 customers) synced from the simulator and HOURS hourly readings of
 *                 their 5 series (0: none; 400: 10 million; 4,000: 100 million), with the daily rollup of all
 *                 (child-steps.ts, hourlyWarehouse);
 *   land          the writer under a backlog: BATCHES group-commit batches of PUSHES_PER_BATCH pushes, each landed
 *                 as the consumer lands them (src/ingest/land-pushes.ts in one transaction, then the rollup's
 *                 refresh), one after the other. A push is one probe's uplink of its 5 series, after the last
 *                 reading in the warehouse; 1 % of the pushes are a probe's late uplink of a day three months before
 *                 (a probe that was out of reach sending its backlog), so that a batch spans months;
 *   appender      the same number of readings through a bare DuckDB Appender into an empty table of the same
 *                 columns in a file of its own: what DuckDB itself writes on this machine, as a yardstick.
 * Usage: node writer-scale-child.js <step> DIR [HOURS]. Prints one JSON line of figures on stdout.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DuckDBInstance, timestampTZValue } from '@duckdb/node-api';
import { landPushes } from '../src/ingest/land-pushes.js';
import { jobContext } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import {
  configFor,
  cpuSeconds,
  hourlyWarehouse,
  LARGE_ACCOUNT,
  peakMb,
  progress,
  timed,
  warehouseBytes,
  type Figures,
} from './lib/child-steps.js';
import { readRows } from './lib/warehouse-sql.js';

export type { Figures };

/** Batches as the consumer takes them under a backlog (it takes up to 5,000 pushes, 32 MB, in one transaction). */
const BATCHES = 40;
const PUSHES_PER_BATCH = 5_000;
const LATE_EVERY = 100; // 1 push in 100 is late
const LATE_BY_MS = 91 * 86_400_000;
const DEPTHS = [15, 30, 45, 60];
const log = createLogger('warn');

/** Push `i`'s body: probe i % probes' uplink at its own slot (15 minutes apart per probe), or a late one. */
function body(probe: { serial: string; probeId: number }, at: number, i: number): string {
  const timestamp = new Date(at).toISOString();
  const value = (k: number): number => Math.round(100 + ((i * 7_919 + k * 104_729) % 400)) / 10;
  return JSON.stringify({
    serial: probe.serial,
    probe_id: probe.probeId,
    timestamp,
    battery: 'NORMAL',
    rssi: -79,
    readings: [
      ...DEPTHS.map((depth, d) => ({ type: 'MOISTURE', depth, value: value(d), unit: '%', timestamp })),
      { type: 'TEMPERATURE', value: value(4) / 2, unit: '°C', timestamp },
    ],
  });
}

async function build(dir: string, hours: number): Promise<Figures> {
  return hourlyWarehouse(dir, { ...LARGE_ACCOUNT, hours }, log);
}

async function land(dir: string): Promise<Figures> {
  const config = configFor(dir);
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  const probes = (await readRows(db, 'SELECT serial, probe_id FROM probes ORDER BY serial')).map((r) => ({
    serial: String(r.serial),
    probeId: Number(r.probe_id),
  }));
  const [{ last }] = (await readRows(
    db,
    `SELECT epoch_ms(coalesce(max(ts), TIMESTAMPTZ '${LARGE_ACCOUNT.start}')) AS last FROM readings`,
  )) as [{ last: number | bigint }];
  const before = Number((await readRows(db, 'SELECT count(*) AS n FROM readings'))[0]!.n);
  const first = Number(last) + 3_600_000;
  const deps = {
    db,
    config,
    log,
    api: () => {
      throw new Error('writer-scale: the ingest job needs no API');
    },
  };
  let next = 0;
  const batch = (): { r: number; b: string }[] => {
    const pushes: { r: number; b: string }[] = [];
    for (let k = 0; k < PUSHES_PER_BATCH; k++, next++) {
      const probe = probes[next % probes.length]!;
      const slot = first + Math.floor(next / probes.length) * 900_000;
      const at = next % LATE_EVERY === LATE_EVERY - 1 ? slot - LATE_BY_MS : slot;
      pushes.push({ r: Date.now(), b: body(probe, at, next) });
    }
    return pushes;
  };
  /** The batch's transaction (parse, stage, de-duplicate, store), then the rollup's refresh: milliseconds of each. */
  const landBatch = async (pushes: { r: number; b: string }[]): Promise<[number, number, number]> => {
    const ctx = jobContext(deps, { runId: randomUUID(), startedAt: new Date(), trigger: 'bench', log });
    const [result, transactionMs] = await timed(() => landPushes({ pushes }, ctx));
    const [, refreshMs] = await timed(() => db.refreshRollup());
    return [result.inserted, transactionMs, refreshMs];
  };
  await landBatch(batch()); // warm-up: JIT, DuckDB's first appends
  let landed = 0;
  let landMs = 0;
  let transactionMs = 0;
  let slowestMs = 0;
  for (let n = 0; n < BATCHES; n++) {
    const pushes = batch(); // built outside the timing: the receiver's work, not the writer's
    const [inserted, transaction, refresh] = await landBatch(pushes);
    landed += inserted;
    landMs += transaction + refresh;
    transactionMs += transaction;
    slowestMs = Math.max(slowestMs, transaction + refresh);
    if ((n + 1) % 10 === 0)
      progress(`land: ${n + 1}/${BATCHES} batches, ${Math.round(landed / (landMs / 1000))} readings/s`);
  }
  const after = Number((await readRows(db, 'SELECT count(*) AS n FROM readings'))[0]!.n);
  await db.close();
  return {
    readingsBefore: before,
    readingsAfter: after,
    batches: BATCHES,
    pushesPerBatch: PUSHES_PER_BATCH,
    landed,
    landMs,
    transactionMs,
    refreshMs: landMs - transactionMs,
    slowestMs,
    readingsPerSecond: landed / (landMs / 1000),
    transactionReadingsPerSecond: landed / (transactionMs / 1000),
    warehouseBytes: warehouseBytes(dir),
    peakMb: peakMb(),
    cpuSeconds: cpuSeconds(),
  };
}

/** The readings `land` lands, through DuckDB's Appender into an empty table of readings' columns: rows per second. */
async function appender(dir: string): Promise<Figures> {
  const instance = await DuckDBInstance.create(join(dir, 'appender.duckdb'));
  const c = await instance.connect();
  await c.run(`CREATE TABLE readings (serial VARCHAR NOT NULL, probe_id BIGINT, type VARCHAR NOT NULL,
    depth_cm INTEGER, ts TIMESTAMPTZ NOT NULL, value DOUBLE NOT NULL, unit VARCHAR, source VARCHAR NOT NULL,
    received_at TIMESTAMPTZ NOT NULL, extra JSON)`);
  const rows = (BATCHES + 1) * PUSHES_PER_BATCH * (DEPTHS.length + 1);
  const first = Date.parse('2025-01-01T00:00:00Z');
  const received = timestampTZValue(BigInt(Date.now()) * 1000n);
  const [, ms] = await timed(async () => {
    const a = await c.createAppender('readings');
    for (let i = 0; i < rows; i++) {
      const push = Math.floor(i / 5);
      const series = i % 5;
      a.appendVarchar(String(24_000_000_000 + (push % LARGE_ACCOUNT.probes)));
      a.appendBigInt(BigInt(50_000 + (push % LARGE_ACCOUNT.probes)));
      a.appendVarchar(series === 4 ? 'TEMPERATURE' : 'MOISTURE');
      if (series === 4) a.appendNull();
      else a.appendInteger(DEPTHS[series]!);
      a.appendTimestampTZ(timestampTZValue(BigInt(first + Math.floor(push / LARGE_ACCOUNT.probes) * 900_000) * 1000n));
      a.appendDouble(20 + (i % 100) / 10);
      a.appendVarchar(series === 4 ? '°C' : '%');
      a.appendVarchar('push');
      a.appendTimestampTZ(received);
      a.appendNull();
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
    await c.run('CHECKPOINT');
  });
  c.closeSync();
  instance.closeSync();
  return { rows, ms, readingsPerSecond: rows / (ms / 1000), peakMb: peakMb(), cpuSeconds: cpuSeconds() };
}

const [step, dir, hours] = process.argv.slice(2);
const steps: Record<string, (dir: string) => Promise<Figures>> = {
  build: (d) => build(d, Number(hours)),
  land,
  appender,
};
const run = steps[step ?? ''];
if (!run || !dir || (step === 'build' && !Number.isInteger(Number(hours)))) {
  process.stderr.write('usage: writer-scale-child.js <build HOURS|land|appender> DIR\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run(dir))}\n`);

/**
 * What the benchmarks' child processes share: the configuration of a bench warehouse, a warehouse with an account
 * pulled from the simulator (and one with hourly readings on top), timing a step, and the figures a step reports
 * about its own process.
 */
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { runJob } from '../../src/job-runtime/runner.js';
import type { Logger } from '../../src/logger.js';
import { SensoterraClient } from '../../src/sensoterra/client.js';
import { loadConfig } from '../../src/service/load-config.js';
import { Simulator, generateAccount } from '../../src/simulator/index.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { readAll, readRows, runSql } from './warehouse-sql.js';

/** What a step prints as its one JSON line. */
export type Figures = Record<string, number | string>;

/** The process's peak resident set (VmHWM), in MB. */
export function peakMb(): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

/** CPU seconds the process has used, user and system. */
export function cpuSeconds(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1e6;
}

/** A progress line on stderr, which the bench passes on. */
export function progress(message: string): void {
  process.stderr.write(`[progress] ${message}\n`);
}

/** Bytes of the warehouse file and its WAL in `dir`. */
export function warehouseBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.startsWith('warehouse.duckdb') && lstatSync(join(dir, f)).isFile())
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** The account of the large bench warehouses (publish-100m, writer-scale): its seed and size, and when its readings start. */
export const LARGE_ACCOUNT = {
  seed: 100,
  probes: 5_000,
  customers: 50,
  start: '2024-01-01 00:00:00+00',
  chunkHours: 400, // 10 million readings per INSERT: one sort of the 10M build's size at a time
} as const;

/** The series every probe of an hourly warehouse measures: moisture at 15, 30, 45 and 60 cm, and temperature. */
export const SERIES = 5;
export const SERIES_SQL = `(VALUES (0, 'MOISTURE', 15), (1, 'MOISTURE', 30), (2, 'MOISTURE', 45), (3, 'MOISTURE', 60), (4, 'TEMPERATURE', NULL)) s(n, type, depth_cm)`;

/** The configuration of the bench warehouse in `dir` (the API, when given, is the simulator's). */
export function configFor(dir: string, api: Record<string, string> = {}): Config {
  return loadConfig({
    WAREHOUSE_PATH: join(dir, 'warehouse.duckdb'),
    EXPORT_DIR: join(dir, 'export'),
    SENSOTERRA_RATE_LIMIT: '1000',
    ...api,
  });
}

/** The value of `fn` and how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/**
 * The bench warehouse in `dir`, with a generated account (`seed`, `probes` of `customers`) pulled from the simulator
 * through the real jobs, on the simulator's clock at `now`: the metadata as a sync writes it, for the caller to add
 * readings to. close() closes the warehouse and stops the simulator.
 */
export async function syncedWarehouse(
  dir: string,
  account: { seed: number; probes: number; customers: number; now: Date },
  log: Logger,
): Promise<{ db: Warehouse; syncMs: number; close: () => Promise<void> }> {
  const sim = await Simulator.start({
    account: generateAccount({ seed: account.seed, probes: account.probes, customers: account.customers }),
    now: account.now,
  });
  const config = configFor(dir, {
    SENSOTERRA_API_URL: sim.url,
    SENSOTERRA_EMAIL: sim.account.account.email,
    SENSOTERRA_PASSWORD: sim.account.account.password,
  });
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config);
  const client = new SensoterraClient(config, log);
  const [, syncMs] = await timed(async () => {
    for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
      await runJob(job, {}, { db, config, log, api: () => client }, { trigger: 'command' });
  });
  await client.close();
  return {
    db,
    syncMs,
    close: async () => {
      await db.close();
      await sim.close();
    },
  };
}

/**
 * A bench warehouse of `probes` probes (of `customers`) synced from the simulator, then `hours` hourly readings of
 * every probe's SERIES from `start` and the battery and RSSI of each of those hourly uplinks (probe_status, a row
 * per uplink as pushes leave it), written straight into the file by SQL in chunks of `chunkHours` (oldest first,
 * each in time order: what ingest would have written, much faster), and the daily rollup of all of them.
 */
export async function hourlyWarehouse(
  dir: string,
  spec: { seed: number; probes: number; customers: number; start: string; hours: number; chunkHours: number },
  log: Logger,
): Promise<Figures> {
  const end = new Date(Date.parse(spec.start.replace(' ', 'T').replace(/\+00$/, 'Z')) + spec.hours * 3_600_000);
  progress(`build: syncing ${spec.probes.toLocaleString('en-US')} probes from the simulator`);
  const { db, syncMs, close } = await syncedWarehouse(
    dir,
    { seed: spec.seed, probes: spec.probes, customers: spec.customers, now: end },
    log,
  );
  const count = async (sql: string): Promise<number> => Number((await readRows(db, sql))[0]!.n);
  const probes = await count('SELECT count(*) AS n FROM probes');
  const chunks = Math.ceil(spec.hours / spec.chunkHours);
  const [, insertMs] = await timed(async () => {
    for (let k = 0; k < chunks; k++) {
      const from = k * spec.chunkHours;
      const to = Math.min(spec.hours, from + spec.chunkHours);
      const [, ms] = await timed(() =>
        runSql(
          db,
          `
    INSERT INTO readings
    SELECT p.serial, p.probe_id, s.type, s.depth_cm, TIMESTAMPTZ '${spec.start}' + to_hours(h.i) AS ts,
           round(20 + 10 * sin(h.i / 24.0 + hash(p.serial) % 7), 2), CASE s.type WHEN 'TEMPERATURE' THEN '°C' ELSE '%' END,
           'backfill', now(), NULL
    FROM probes p
    CROSS JOIN ${SERIES_SQL}
    CROSS JOIN range(${from}, ${to}) h(i)
    ORDER BY ts`,
        ).then(() =>
          runSql(
            db,
            `
    INSERT INTO probe_status (serial, last_update, battery, rssi, connectivity, run_id)
    SELECT p.serial, TIMESTAMPTZ '${spec.start}' + to_hours(h.i) AS last_update, 'NORMAL', -60 - (h.i + hash(p.serial)) % 40,
           NULL, NULL
    FROM probes p
    CROSS JOIN range(${from}, ${to}) h(i)
    ORDER BY last_update`,
          ),
        ),
      );
      progress(
        `build: readings chunk ${k + 1}/${chunks} (hours ${from}-${to - 1}) written in ${(ms / 1000).toFixed(1)} s`,
      );
    }
  });
  progress('build: daily rollup of all readings');
  const [rollupRows, rollupMs] = await timed(async () => {
    await runSql(db, 'INSERT INTO rollup_dirty SELECT serial, min(ts), max(ts) FROM readings GROUP BY serial');
    return db.refreshRollup();
  });
  const readings = await count('SELECT count(*) AS n FROM readings');
  const statuses = await count('SELECT count(*) AS n FROM probe_status');
  await close();
  return {
    probes,
    readings,
    statuses,
    chunks,
    syncMs,
    insertMs,
    rollupMs,
    rollupRows,
    warehouseBytes: warehouseBytes(dir),
    peakMb: peakMb(),
    cpuSeconds: cpuSeconds(),
  };
}

/**
 * The two views agronomists query most, for one month of the customer with the most probes, five times each (every
 * row read into the process): readings_daily by its local day, readings_enriched by ts. Median and slowest of each.
 */
export async function timeViews(db: Warehouse, month: { from: string; to: string }): Promise<Figures> {
  const [{ customer_id: customer, probes }] = (await readRows(
    db,
    'SELECT customer_id, count(*) AS probes FROM probes GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1',
  )) as [{ customer_id: number; probes: number }];
  const daily = `SELECT * FROM readings_daily WHERE customer_id = ${customer} AND day >= DATE '${month.from}' AND day < DATE '${month.to}'`;
  const enriched = `SELECT * FROM readings_enriched WHERE customer_id = ${customer} AND ts >= TIMESTAMPTZ '${month.from} 00:00:00+00' AND ts < TIMESTAMPTZ '${month.to} 00:00:00+00'`;
  const out: Figures = { customer, probes };
  for (const [name, sql] of [
    ['daily', daily],
    ['enriched', enriched],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [rows, ms] = await timed(() => readAll(db, sql));
      out[`${name}Rows`] = rows;
      times.push(ms);
    }
    times.sort((a, b) => a - b);
    out[`${name}MedianMs`] = times[2]!;
    out[`${name}MaxMs`] = times[4]!;
  }
  return out;
}

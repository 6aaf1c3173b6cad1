/**
 * The work of the publish-100m benchmark, one step per process so that each step's peak memory is its own:
 *   build               an account of 5,000 probes of 50 customers synced from the simulator, 100 million hourly
 *                       readings (5 series per probe, 4,000 hours: 2024-01-01 to END) written straight into the file
 *                       in chunks of 400 hours (10 million readings each, oldest first), and the daily rollup of all;
 *   publish-full        a first publish (snapshot + Parquet) into EXPORT_DIR;
 *   ingest              what ten minutes of ingest at 2,000 readings/s lands after it: 1,200,000 readings received
 *                       now, 99 % of them in the two hours before END (the newest month) and 1 % a late backfill
 *                       of one day in March (an older month), written by plain SQL (the writer's own cost is
 *                       measured by other benchmarks), then marked for the rollup and rolled up as the writer does;
 *                       then `sync`: what the kernel writes back in those ten minutes is written before the next step;
 *   publish-incremental a second publish into the same EXPORT_DIR, and what of the previous version it reused
 *                       (files of the new version with the same inode as the same path in the previous one).
 * Usage: node publish-100m-child.js <step> DIR. Progress on stderr as "[progress] ..." lines; prints one JSON line
 * of figures on stdout, including VmHWM and the process's CPU seconds.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { configFor, syncedWarehouse, timed } from './lib/child-steps.js';
import { readRows, runSql } from './lib/warehouse-sql.js';
import { publish } from '../src/export/publish.js';
import { createLogger } from '../src/logger.js';
import { Warehouse } from '../src/warehouse/warehouse.js';

export type Figures = Record<string, number | string>;

const PROBES = 5_000;
const CUSTOMERS = 50;
const SERIES = 5; // moisture at 15/30/45/60 cm and temperature
const HOURS = 4_000; // 5,000 probes x 5 series x 4,000 hours = 100 million readings
const CHUNK_HOURS = 400; // 10 million readings per INSERT: one sort of the 10M build's size at a time
const START = '2024-01-01 00:00:00+00'; // the first reading; the last is at END - 1 hour
const END = '2024-06-15 16:00:00+00'; // START + 4,000 hours, mid-June: the status readings fall into June too
/** Ten minutes at 2,000 readings/s, and the share of them that are late (an older month's backfill). */
const INGESTED = 1_200_000;
const LATE_PROBES = 100; // 100 probes x 5 series x 24 hours = 12,000 readings (1 %), on one day in March
const LATE_DAY = '2024-03-10 00:00:00+00';
const RECENT = INGESTED - LATE_PROBES * SERIES * 24; // 1,188,000, in the two hours before END
const SERIES_SQL = `(VALUES (0, 'MOISTURE', 15), (1, 'MOISTURE', 30), (2, 'MOISTURE', 45), (3, 'MOISTURE', 60), (4, 'TEMPERATURE', NULL)) s(n, type, depth_cm)`;
const log = createLogger('warn');

function peakMb(): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

function cpuSeconds(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1e6;
}

function progress(message: string): void {
  process.stderr.write(`[progress] ${message}\n`);
}

async function count(db: Warehouse, sql: string): Promise<number> {
  const [row] = (await readRows(db, sql)) as [{ n: number | bigint }];
  return Number(row.n);
}

/** Every file under `dir`, by its path relative to `dir`. */
function filesUnder(dir: string): Map<string, { ino: number; size: number }> {
  const out = new Map<string, { ino: number; size: number }>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const st = statSync(path);
        out.set(relative(dir, path), { ino: st.ino, size: st.size });
      }
    }
  };
  walk(dir);
  return out;
}

/** The bytes of the files under `dir`, each inode once (a file linked into two versions takes its space once). */
function bytesUnder(dir: string): number {
  const sizes = new Map<number, number>();
  for (const { ino, size } of filesUnder(dir).values()) sizes.set(ino, size);
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}

/** The warehouse's files (the database and its WAL, if any). */
function warehouseBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.startsWith('warehouse.duckdb') && lstatSync(join(dir, f)).isFile())
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** The version EXPORT_DIR/current points at, as a folder path. */
function currentVersionDir(exportDir: string): string {
  return join(exportDir, readlinkSync(join(exportDir, 'current')));
}

/** Metadata through the real pulls; readings generated by SQL (what ingest would have written, much faster). */
async function build(dir: string): Promise<Figures> {
  progress(`build: syncing ${PROBES.toLocaleString('en-US')} probes from the simulator`);
  const { db, syncMs, close } = await syncedWarehouse(
    dir,
    { seed: 100, probes: PROBES, customers: CUSTOMERS, now: new Date(END) },
    log,
  );
  const probes = await count(db, 'SELECT count(*) AS n FROM probes');
  const chunks = Math.ceil(HOURS / CHUNK_HOURS);
  const [, insertMs] = await timed(async () => {
    for (let k = 0; k < chunks; k++) {
      const from = k * CHUNK_HOURS;
      const to = Math.min(HOURS, from + CHUNK_HOURS);
      const [, ms] = await timed(() =>
        runSql(
          db,
          `
    INSERT INTO readings
    SELECT p.serial, p.probe_id, s.type, s.depth_cm, TIMESTAMPTZ '${START}' + to_hours(h.i) AS ts,
           round(20 + 10 * sin(h.i / 24.0 + hash(p.serial) % 7), 2), CASE s.type WHEN 'TEMPERATURE' THEN '°C' ELSE '%' END,
           'backfill', now(), NULL
    FROM probes p
    CROSS JOIN ${SERIES_SQL}
    CROSS JOIN range(${from}, ${to}) h(i)
    ORDER BY ts`,
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
  const readings = await count(db, 'SELECT count(*) AS n FROM readings');
  await close();
  return {
    probes,
    readings,
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

async function publishOnce(dir: string): Promise<{ figures: Figures; versionDir: string }> {
  const config = configFor(dir);
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  const [report, publishMs] = await timed(() => publish(db, config.exportDir, config.exportKeepVersions, log));
  await db.close();
  const slowest = Object.entries(report.phases)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`);
  process.stderr.write(`[progress] where the publish's time went: ${slowest.join('; ')}\n`);
  return {
    versionDir: report.path,
    figures: {
      publishMs,
      readings: report.tables.readings ?? 0,
      snapshotBytes: statSync(join(report.path, 'warehouse.duckdb')).size,
      versionBytes: bytesUnder(report.path),
      parquetFiles: [...filesUnder(report.path).keys()].filter((f) => f.endsWith('.parquet')).length,
      readingsParquetFiles: [...filesUnder(join(report.path, 'parquet', 'readings')).keys()].filter((f) =>
        f.endsWith('.parquet'),
      ).length,
      readingsPartitions: readdirSync(join(report.path, 'parquet', 'readings'), { recursive: true }).filter((f) =>
        /month=\d+$/.test(String(f)),
      ).length,
      pruned: report.pruned.length,
    },
  };
}

async function publishFull(dir: string): Promise<Figures> {
  const { figures } = await publishOnce(dir);
  return { ...figures, peakMb: peakMb(), cpuSeconds: cpuSeconds() };
}

/**
 * 1,200,000 readings received now: 1,188,000 in the two hours before END (every probe and series, every 150 s off
 * the hour, so none repeats a stored reading) and 12,000 late ones, a day in March of 100 probes (on the half hour).
 */
async function ingest(dir: string): Promise<Figures> {
  const config = configFor(dir);
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  const [{ since }] = (await readRows(db, 'SELECT CAST(now() AS VARCHAR) AS since')) as [{ since: string }];
  const numbered = 'SELECT serial, probe_id, row_number() OVER (ORDER BY serial) - 1 AS n FROM probes';
  const probes = await count(db, 'SELECT count(*) AS n FROM probes');
  const [recent, recentMs] = await timed(() =>
    runSql(
      db,
      `
    INSERT INTO readings
    SELECT p.serial, p.probe_id, s.type, s.depth_cm,
           TIMESTAMPTZ '${END}' - INTERVAL 2 HOUR + to_seconds(37 + 150 * (r.i // ${probes * SERIES})) AS ts,
           round(20 + 10 * sin(r.i / 1000.0), 2), CASE s.type WHEN 'TEMPERATURE' THEN '°C' ELSE '%' END,
           'push', now(), NULL
    FROM range(${RECENT}) r(i)
    JOIN (${numbered}) p ON p.n = r.i % ${probes}
    JOIN ${SERIES_SQL} ON s.n = (r.i // ${probes}) % ${SERIES}
    ORDER BY ts`,
    ),
  );
  const [late, lateMs] = await timed(() =>
    runSql(
      db,
      `
    INSERT INTO readings
    SELECT p.serial, p.probe_id, s.type, s.depth_cm, TIMESTAMPTZ '${LATE_DAY}' + INTERVAL 30 MINUTE + to_hours(h.i) AS ts,
           round(20 + 10 * sin(h.i / 24.0), 2), CASE s.type WHEN 'TEMPERATURE' THEN '°C' ELSE '%' END,
           'push', now(), NULL
    FROM (${numbered}) p
    CROSS JOIN ${SERIES_SQL}
    CROSS JOIN range(24) h(i)
    WHERE p.n < ${LATE_PROBES}
    ORDER BY ts`,
    ),
  );
  // as the writer marks a batch (rollup/mark-batch.sql: per probe, the span of what it stored), one batch for the
  // recent readings and one for the late ones
  const [rollupRows, rollupMs] = await timed(async () => {
    for (const source of [
      `ts >= TIMESTAMPTZ '${END}' - INTERVAL 2 HOUR`,
      `ts < TIMESTAMPTZ '${END}' - INTERVAL 2 HOUR`,
    ])
      await runSql(
        db,
        `INSERT INTO rollup_dirty SELECT serial, min(ts), max(ts) FROM readings WHERE received_at >= TIMESTAMPTZ '${since}' AND ${source} GROUP BY serial`,
      );
    return db.refreshRollup();
  });
  const readings = await count(db, 'SELECT count(*) AS n FROM readings');
  await db.close();
  // the ten minutes compressed into seconds: the kernel would have written back by now what the full publish and
  // this ingest wrote (dirty pages expire after 30 s); without this, that writeback competes with the next publish
  const [, diskSyncMs] = await timed(async () => execFileSync('sync'));
  return {
    recent,
    late,
    insertMs: recentMs + lateMs,
    rollupMs,
    rollupRows,
    readings,
    diskSyncMs,
    warehouseBytes: warehouseBytes(dir),
    peakMb: peakMb(),
    cpuSeconds: cpuSeconds(),
  };
}

/** The second publish, and which files of the new version are the previous version's (the same inode). */
async function publishIncremental(dir: string): Promise<Figures> {
  const config = configFor(dir);
  const previousDir = currentVersionDir(config.exportDir);
  const previous = filesUnder(previousDir);
  const { figures, versionDir } = await publishOnce(dir);
  const peak = peakMb();
  const cpu = cpuSeconds();
  const next = filesUnder(versionDir);
  const reused = (f: string): boolean => previous.get(f)?.ino === next.get(f)!.ino;
  const parquet = [...next.keys()].filter((f) => f.endsWith('.parquet'));
  const readingsRoot = `${join('parquet', 'readings')}/`;
  const readingsParquet = parquet.filter((f) => f.startsWith(readingsRoot));
  // the readings files written now, by their path under parquet/readings
  const written = readingsParquet.filter((f) => !reused(f)).map((f) => f.slice(readingsRoot.length));
  const shown = written.length > 12 ? [...written.slice(0, 12), `... ${written.length - 12} more`] : written;
  return {
    ...figures,
    files: next.size,
    filesReused: [...next.keys()].filter(reused).length,
    parquetReused: parquet.filter(reused).length,
    readingsParquetReused: readingsParquet.filter(reused).length,
    bytesReused: [...next.entries()].filter(([f]) => reused(f)).reduce((sum, [, { size }]) => sum + size, 0),
    snapshotReused: reused('warehouse.duckdb') ? 1 : 0,
    readingsWritten: shown.join(', '),
    versions: readdirSync(join(config.exportDir, 'versions')).length,
    exportDirBytes: bytesUnder(config.exportDir),
    peakMb: peak,
    cpuSeconds: cpu,
  };
}

const [step, dir] = process.argv.slice(2);
const steps: Record<string, (dir: string) => Promise<Figures>> = {
  build,
  'publish-full': publishFull,
  ingest,
  'publish-incremental': publishIncremental,
};
const run = steps[step ?? ''];
if (!run || !dir) {
  process.stderr.write('usage: publish-100m-child.js <build|publish-full|ingest|publish-incremental> DIR\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run(dir))}\n`);

/**
 * Publishing for BI: a read-only DuckDB snapshot (the tables and the views, in a storage version older DuckDB
 * builds inside BI drivers can open) and Parquet per table, readings partitioned by year and month. Written beside
 * the current version and then switched to (versions.ts), so a reader never sees a half-written export.
 *
 * Types BI tools read everywhere: JSON columns become text, and the open ends of history intervals (-infinity,
 * infinity), which no BI tool can hold, become 1900-01-01 and 2200-01-01 (UTC).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  DEFAULT_EXPORT_FILE_MODE,
  DEFAULT_PARQUET_COMPRESSION,
  PARQUET_COMPRESSIONS,
  type ParquetCompression,
} from '../config.js';
import type { Logger } from '../logger.js';
import { ident, literal, QuotedSql, sqlFile } from '../warehouse/sql-files.js';
import { createViews, MATERIALIZED_IN_SNAPSHOT } from '../warehouse/views.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { applyMode, newVersionName, partialDir, prune, switchTo } from './versions.js';

/** The tables copied into the snapshot (everything the views need, and everything a user may ask about). */
export const SNAPSHOT_TABLES = [
  'readings',
  'probes',
  'probe_history',
  'probe_status',
  'locations',
  'customers',
  'customer_probes',
  'soil_types',
  'soil_type_history',
  'parameters',
  'sync_runs',
  'reading_conflicts',
  'rejected_pushes',
  'uplink_extras',
  'daily_rollup',
  'warehouse_settings',
  'soil_threshold_defaults',
  'soil_threshold_overrides',
] as const;
/** What goes to Parquet besides readings: the user-facing tables, and views worth having as files. */
export const PARQUET_TABLES = [
  'probes',
  'probe_history',
  'probe_status',
  'locations',
  'customers',
  'customer_probes',
  'soil_types',
  'soil_type_history',
  'parameters',
  'sync_runs',
  'reading_conflicts',
  'rejected_pushes',
  'uplink_extras',
  'probe_soil_layers',
  'soil_thresholds',
  'readings_daily',
  'probe_latest',
  'probe_health',
] as const;
const STORAGE_VERSION = 'v1.0.0'; // as in sql/export/attach.sql
const SNAPSHOT = 'export_snapshot';
const OPEN_START = "TIMESTAMPTZ '1900-01-01 00:00:00+00'";
const OPEN_END = "TIMESTAMPTZ '2200-01-01 00:00:00+00'";

export interface PublishReport {
  version: string;
  path: string; // the version's folder; EXPORT_DIR/current points at it
  tables: Record<string, number>; // rows per table or view
  ms: number;
  pruned: string[];
}

/** How the files are written; each defaults to its variable's default. */
export interface PublishOptions {
  fileMode?: number; // EXPORT_FILE_MODE
  parquetCompression?: ParquetCompression; // EXPORT_PARQUET_COMPRESSION
}

let publishing: Promise<unknown> = Promise.resolve();

/** One publish at a time per process (a scheduled export and an `export` command may meet). */
export function publish(
  db: Warehouse,
  exportDir: string,
  keepVersions: number,
  log: Logger,
  options: PublishOptions = {},
): Promise<PublishReport> {
  const settled = {
    fileMode: options.fileMode ?? DEFAULT_EXPORT_FILE_MODE,
    parquetCompression: options.parquetCompression ?? DEFAULT_PARQUET_COMPRESSION,
  };
  const run = publishing.then(() => publishNow(db, exportDir, keepVersions, log, settled));
  publishing = run.catch(() => undefined);
  return run;
}

async function publishNow(
  db: Warehouse,
  exportDir: string,
  keepVersions: number,
  log: Logger,
  { fileMode, parquetCompression }: Required<PublishOptions>,
): Promise<PublishReport> {
  const started = Date.now();
  const version = newVersionName(new Date(), exportDir);
  const dir = partialDir(exportDir, version);
  let tables: Record<string, number>;
  try {
    const connection = await db.connect();
    try {
      tables = await writeSnapshot(connection, join(dir, 'warehouse.duckdb'));
      await writeParquet(connection, join(dir, 'parquet'), parquetCompression);
      await connection.run(`DETACH ${ident(SNAPSHOT).text}`);
      const manifest = {
        version,
        published_at: new Date().toISOString(),
        storage_version: STORAGE_VERSION,
        parquet_compression: parquetCompression,
        tables,
      };
      writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    } finally {
      await connection.run(`DETACH DATABASE IF EXISTS ${ident(SNAPSHOT).text}`).catch(() => undefined);
      connection.closeSync();
    }
  } catch (err) {
    // a full disk, or anything else: the previous version stays current, and no partial files stay behind
    rmSync(dir, { recursive: true, force: true });
    db.observe(err);
    throw err;
  }
  applyMode(exportDir, dir, fileMode); // EXPORT_FILE_MODE, before anyone can be pointed at it
  const path = switchTo(exportDir, version);
  const pruned = prune(exportDir, keepVersions);
  const report = { version, path, tables, ms: Date.now() - started, pruned };
  log.info({ version, ms: report.ms, readings: report.tables.readings, pruned: pruned.length }, 'export published');
  return report;
}

/**
 * Copies the tables in one transaction (one consistent moment of the warehouse), and the views that need an
 * extension as tables (MATERIALIZED_IN_SNAPSHOT), then adds the other views.
 */
async function writeSnapshot(c: DuckDBConnection, file: string): Promise<Record<string, number>> {
  const home = String((await c.runAndReadAll('SELECT current_database() AS db')).getRowObjectsJS()[0]!.db);
  await c.run(sqlFile('export/attach', { path: literal(file), snapshot: ident(SNAPSHOT) }));
  const rows: Record<string, number> = {};
  await c.run('BEGIN TRANSACTION');
  try {
    for (const table of [...SNAPSHOT_TABLES, ...MATERIALIZED_IN_SNAPSHOT]) {
      const sql = sqlFile('export/snapshot-table', {
        snapshot: ident(SNAPSHOT),
        table: ident(table),
        columns: await exportColumns(c, table),
      });
      await c.run(sql);
      const counted = await c.runAndReadAll(`SELECT count(*) AS n FROM ${ident(SNAPSHOT).text}.${ident(table).text}`);
      rows[table] = Number(counted.getRowObjectsJS()[0]!.n);
    }
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await c.run(`USE ${ident(SNAPSHOT).text}`);
  try {
    await createViews(c, MATERIALIZED_IN_SNAPSHOT);
  } finally {
    await c.run(`USE ${ident(home).text}`);
  }
  await c.run(`CHECKPOINT ${ident(SNAPSHOT).text}`);
  return rows;
}

/** Each column as BI tools read it: JSON as text, infinite timestamps as far-away dates, the rest as it is. */
async function exportColumns(c: DuckDBConnection, table: string): Promise<QuotedSql> {
  const columns = (await c.runAndReadAll(sqlFile('export/columns'), { name: table })).getRowObjectsJS();
  const list = columns.map(({ column_name, data_type }) => {
    const col = ident(String(column_name)).text;
    if (data_type === 'JSON') return `CAST(${col} AS VARCHAR) AS ${col}`;
    if (data_type === 'TIMESTAMP WITH TIME ZONE') {
      return `CASE WHEN ${col} = '-infinity' THEN ${OPEN_START} WHEN ${col} = 'infinity' THEN ${OPEN_END} ELSE ${col} END AS ${col}`;
    }
    return col;
  });
  return new QuotedSql(list.join(', '));
}

/** The codec is one of PARQUET_COMPRESSIONS (checked here too, for a caller past the config), spliced as a literal. */
async function writeParquet(c: DuckDBConnection, dir: string, codec: ParquetCompression): Promise<void> {
  if (!PARQUET_COMPRESSIONS.includes(codec))
    throw new Error(`Parquet compression ${JSON.stringify(codec)}: expected one of ${PARQUET_COMPRESSIONS.join(', ')}`);
  const compression = literal(codec);
  mkdirSync(dir, { recursive: true });
  await c.run(
    sqlFile('export/parquet-readings', {
      snapshot: ident(SNAPSHOT),
      path: literal(join(dir, 'readings')),
      compression,
    }),
  );
  for (const table of PARQUET_TABLES) {
    await c.run(
      sqlFile('export/parquet', {
        snapshot: ident(SNAPSHOT),
        table: ident(table),
        path: literal(join(dir, `${table}.parquet`)),
        compression,
      }),
    );
  }
}

/**
 * The warehouse's side of publishing (src/export/publish.ts owns versions, the manifest and the switch): into a
 * new version's folder, a read-only DuckDB snapshot (the tables and the views, in a storage version older DuckDB
 * builds inside BI drivers can open) and Parquet per table, readings partitioned by year and month.
 *
 * Types BI tools read everywhere: JSON columns become text, and the open ends of history intervals (-infinity,
 * infinity), which no BI tool can hold, become 1900-01-01 and 2200-01-01 (UTC).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARQUET_COMPRESSIONS, type ParquetCompression } from '../config.js';
import { ident, literal, QuotedSql, sqlFile } from './sql-files.js';
import { createViews, MATERIALIZED_IN_SNAPSHOT } from './views.js';

/** The tables a user asks about, in the snapshot and each as Parquet (readings apart: partitioned by month). */
const USER_TABLES = [
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
] as const;
/** The tables copied into the snapshot (everything the views need, and everything a user may ask about). */
export const SNAPSHOT_TABLES = [
  'readings',
  ...USER_TABLES,
  'daily_rollup',
  'warehouse_settings',
  'soil_threshold_defaults',
  'soil_threshold_overrides',
] as const;
/** What goes to Parquet besides readings: the user-facing tables, and views worth having as files. */
export const PARQUET_TABLES = [
  ...USER_TABLES,
  'probe_soil_layers',
  'soil_thresholds',
  'readings_daily',
  'probe_latest',
  'probe_health',
] as const;
/** The DuckDB storage version of the snapshot file, as in sql/export/attach.sql. */
export const STORAGE_VERSION = 'v1.0.0';
const SNAPSHOT = 'export_snapshot';
const OPEN_START = "TIMESTAMPTZ '1900-01-01 00:00:00+00'";
const OPEN_END = "TIMESTAMPTZ '2200-01-01 00:00:00+00'";

/**
 * Writes `dir`/warehouse.duckdb and `dir`/parquet/ from one consistent moment of the warehouse, on a connection of
 * its own; returns the rows per table or view.
 */
export async function writeExport(
  c: DuckDBConnection,
  dir: string,
  codec: ParquetCompression,
): Promise<Record<string, number>> {
  try {
    const tables = await writeSnapshot(c, join(dir, 'warehouse.duckdb'));
    await writeParquet(c, join(dir, 'parquet'), codec);
    await c.run(`DETACH ${ident(SNAPSHOT).text}`);
    return tables;
  } finally {
    await c.run(`DETACH DATABASE IF EXISTS ${ident(SNAPSHOT).text}`).catch(() => undefined);
  }
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

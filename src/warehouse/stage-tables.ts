/**
 * The stage tables (where a pull stages its pages and the writer its batches before one set-based apply) and their
 * columns, in the order the migrations made them. Rows are built by column name (StageRow), never by position; the
 * appender feeds DuckDB in this order, and `checkStageColumns` refuses to open a warehouse whose tables no longer
 * have exactly these columns in this order (a migration that added, dropped or moved one), instead of landing
 * values in the wrong columns.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ErrorCodes, SyncError } from '../errors.js';
import { appendRows, type Cell } from './appender.js';
import { sqlFile } from './sql-files.js';

export const STAGE_COLUMNS = {
  // prettier-ignore
  stage_probes: [
    'run_id', 'serial', 'probe_id', 'name', 'sku', 'state', 'location_id', 'latitude', 'longitude', 'customer_id',
    'interval_minutes', 'unit', 'dev_eui', 'soil_profile', 'battery', 'rssi', 'connectivity', 'last_update', 'raw',
    'time_zone',
  ],
  stage_locations: ['run_id', 'id', 'name', 'customer_id', 'code', 'raw'],
  stage_customers: ['run_id', 'id', 'name', 'email', 'raw'],
  stage_parameters: ['run_id', 'type', 'key', 'name', 'raw'],
  stage_customer_probes: ['run_id', 'customer_id', 'serial', 'probe_id'],
  // prettier-ignore
  stage_readings: [
    'run_id', 'serial', 'probe_id', 'type', 'depth_cm', 'ts', 'value', 'unit', 'source', 'received_at', 'extra',
  ],
  stage_pushes: ['run_id', 'received_at', 'reason', 'body'],
  stage_status: ['run_id', 'serial', 'last_update', 'battery', 'rssi'],
  stage_uplink_extras: ['run_id', 'serial', 'uplink_ts', 'received_at', 'extra'],
} as const;

export type StageTable = keyof typeof STAGE_COLUMNS;
export const STAGE_TABLES = Object.keys(STAGE_COLUMNS) as StageTable[];

/** One row of a stage table: every column by name (undefined or null stages NULL). */
export type StageRow<T extends StageTable> = { [C in (typeof STAGE_COLUMNS)[T][number]]: Cell };

/** Appends rows to a stage table, each value under its column's name (the Appender takes them in STAGE_COLUMNS order). */
export function stage<T extends StageTable>(
  c: DuckDBConnection,
  table: T,
  rows: Iterable<StageRow<T>>,
): Promise<number> {
  return appendRows(c, table, STAGE_COLUMNS[table], rows);
}

/** Throws E_STAGE_COLUMNS, naming the table and both column lists, if a stage table's columns are not the declared ones. */
export async function checkStageColumns(connection: DuckDBConnection): Promise<void> {
  const present = new Set(
    (await connection.runAndReadAll(sqlFile('stage/tables'))).getRowObjectsJS().map((row) => String(row.table_name)),
  );
  for (const table of STAGE_TABLES) {
    const expected: readonly string[] = STAGE_COLUMNS[table];
    const actual = present.has(table) ? await columnsOf(connection, table) : [];
    if (actual.length === expected.length && actual.every((column, i) => column === expected[i])) continue;
    throw new SyncError(
      ErrorCodes.STAGE_COLUMNS,
      `the warehouse's ${table} has the columns (${actual.join(', ') || 'none: no such table'}), this build stages (${expected.join(', ')}): a migration changed the stage table without src/warehouse/stage-tables.ts; make the two agree before starting`,
    );
  }
}

async function columnsOf(connection: DuckDBConnection, table: StageTable): Promise<string[]> {
  const [row] = (
    await connection.runAndReadAll(sqlFile('stage/columns'), { table: `main.${table}` })
  ).getRowObjectsJS();
  return ((row?.columns ?? []) as unknown[]).map(String);
}

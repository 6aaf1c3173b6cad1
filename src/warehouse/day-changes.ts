/**
 * The days the writer changed in the tables the export keeps by day (probe_status by the UTC day of last_update,
 * daily_rollup by its local day), stamped in day_changes in the same transaction as the change: a publish compares
 * each day's row count and stamp with what the previous version recorded instead of hashing every row of those
 * tables (src/warehouse/export.ts). Every statement that writes those tables is followed by markChangedDays with the
 * days it may have changed: more is harmless (a day's files written again), fewer would leave a published day stale
 * (test/export-incremental.test.ts compares an incremental publish with a full one after each kind of write).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { dateArray } from './days.js';
import { sqlFile } from './sql-files.js';

/** The tables whose days are stamped, each kept by day in the export (export.ts, BY_DAY). */
export type DayTrackedTable = 'probe_status' | 'daily_rollup';

/** Stamps `days` ('YYYY-MM-DD') of `table` as changed now. Call in the transaction that changed them. */
export async function markChangedDays(
  c: DuckDBConnection,
  table: DayTrackedTable,
  days: readonly string[],
): Promise<void> {
  if (days.length === 0) return;
  await c.run(sqlFile('export/mark-changed-days', { days: dateArray(days) }), { table_name: table });
}

/**
 * The daily rollup behind readings_daily. Landing readings (or changing a probe's version) marks spans in
 * rollup_dirty within the same transaction; the refresh then rolls exactly those probe-days up again, in a
 * transaction of its own right after, so that the writer's hot path stays short.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { markChangedDays } from './day-changes.js';
import { dateList, daysScan } from './days.js';
import { ident, sqlFile } from './sql-files.js';

/** Rolls up every marked probe-day again; returns how many rollup rows were written. Call in a transaction. */
export async function refreshRollup(c: DuckDBConnection): Promise<number> {
  const marks = Number((await c.runAndReadAll('SELECT count(*) AS n FROM rollup_dirty')).getRowObjectsJS()[0]!.n);
  if (marks === 0) return 0;
  await c.run(sqlFile('rollup/dirty-days'));
  const days = (await c.runAndReadAll('SELECT DISTINCT CAST(day AS VARCHAR) AS day FROM dirty_days'))
    .getRowObjectsJS()
    .map((d) => String(d.day));
  await c.run(sqlFile('rollup/delete-dirty', { days: dateList(days) }));
  const readings = daysScan(ident('readings'), 'serial, type, depth_cm, ts, value', days, 'ts', 1);
  const written = (await c.run(sqlFile('rollup/insert-dirty', { readings }))).rowsChanged;
  await markChangedDays(c, 'daily_rollup', days);
  await c.run(sqlFile('rollup/clear-dirty'));
  await c.run('DROP TABLE dirty_days');
  return written;
}

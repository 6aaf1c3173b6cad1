/**
 * Days as SQL: the export, the writer and the rollup select the days a piece of work touches, so that DuckDB skips
 * the rest of a large table by its zone maps (the min and max of each row group's column) and the work follows the
 * days touched, not the table. A day is a 'YYYY-MM-DD' key, checked before it is spliced into SQL.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, QuotedSql, sqlFile } from './sql-files.js';

export const DAY_MS = 86_400_000;
/** A day as the export, the manifest and these helpers name it. */
export const DAY_KEY = /^\d{4}-\d\d-\d\d$/;

function checked(key: string): number {
  const at = DAY_KEY.test(key) ? Date.parse(`${key}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(at)) throw new Error(`not a day: ${JSON.stringify(key)}`);
  return at;
}

/** Checked 'YYYY-MM-DD' days as a list of DATE literals: (DATE '2024-06-15', ...); (NULL), which matches nothing, for none. */
export function dateList(days: readonly string[]): QuotedSql {
  for (const day of days) checked(day);
  return new QuotedSql(days.length === 0 ? '(NULL)' : `(${days.map((day) => `DATE '${day}'`).join(', ')})`);
}

/** Checked 'YYYY-MM-DD' days as a DATE[] literal: [DATE '2024-06-15', ...]. */
export function dateArray(days: readonly string[]): QuotedSql {
  for (const day of days) checked(day);
  return new QuotedSql(`CAST([${days.map((day) => `DATE '${day}'`).join(', ')}] AS DATE[])`);
}

/** 'YYYY-MM-DD' day keys (UTC) as time ranges [from, to) in ms, consecutive days merged, each widened by `around` days. */
function dayRanges(keys: readonly string[], around: number): [number, number][] {
  const starts = keys.map(checked).sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const day of starts) {
    const [from, to] = [day - around * DAY_MS, day + (1 + around) * DAY_MS];
    const last = ranges.at(-1);
    if (last !== undefined && last[1] >= from) last[1] = Math.max(last[1], to);
    else ranges.push([from, to]);
  }
  return ranges;
}

/** A time range on a TIMESTAMPTZ column, as SQL. */
function timeRange(column: string, from: number, to: number): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return `(${column} >= TIMESTAMPTZ '${iso(from)}' AND ${column} < TIMESTAMPTZ '${iso(to)}')`;
}

/**
 * 'YYYY-MM-DD' day keys (UTC) as a condition on a TIMESTAMPTZ column: time ranges, consecutive days merged into
 * one, each widened by `around` days either side; FALSE for no days. Several ranges come inside the one range that
 * spans them all: DuckDB skips row groups by a column's zone maps only for a range it can push down, never for an
 * OR of ranges (two days of 100 million readings months apart: 1.5 s read through the OR alone, 0.5 s with it).
 * Where the days are far apart, daysScan reads less still.
 */
export function daysCondition(keys: readonly string[], column = 'ts', around = 0): QuotedSql {
  const ranges = dayRanges(keys, around);
  if (ranges.length === 0) return new QuotedSql('FALSE');
  if (ranges.length === 1) return new QuotedSql(timeRange(column, ...ranges[0]!));
  const each = ranges.map(([from, to]) => timeRange(column, from, to)).join(' OR ');
  return new QuotedSql(`(${timeRange(column, ranges[0]![0], ranges.at(-1)![1])} AND (${each}))`);
}

/**
 * The rows of a table on some days (as daysCondition selects them), as a subquery of `columns`: one scan per range
 * of days, put together with UNION ALL (the ranges never overlap). Each scan skips every row group outside its own
 * range by the zone maps of `column`, where one condition over several ranges reads every row group between the
 * first and the last (a batch with today's readings and a late one from three months ago: three months read).
 */
export function daysScan(
  table: QuotedSql,
  columns: string,
  keys: readonly string[],
  column = 'ts',
  around = 0,
): QuotedSql {
  const ranges = dayRanges(keys, around);
  const scans = (ranges.length === 0 ? ['FALSE'] : ranges.map(([from, to]) => timeRange(column, from, to))).map(
    (condition) => `SELECT ${columns} FROM ${table.text} WHERE ${condition}`,
  );
  return new QuotedSql(`(${scans.join(' UNION ALL ')})`);
}

/** The UTC day of a TIMESTAMPTZ column as a DATE, by arithmetic on microseconds (no calendar, no extension). */
export function epochDay(column: string): string {
  return `CAST(DATE '1970-01-01' + CAST(floor(epoch_us(${column}) / 86400000000) AS INTEGER) AS DATE)`;
}

/** The UTC days ('YYYY-MM-DD') a run's rows staged in `stage` fall on, by their instant `column`. */
export async function stagedDays(c: DuckDBConnection, stage: string, column: string, runId: string): Promise<string[]> {
  const sql = sqlFile('stage/days', { stage: ident(stage), day: new QuotedSql(epochDay(ident(column).text)) });
  return (await c.runAndReadAll(sql, { run_id: runId })).getRowObjectsJS().map((d) => String(d.day));
}

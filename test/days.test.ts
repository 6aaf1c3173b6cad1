/**
 * Days as SQL (src/warehouse/days.ts): the conditions the writer, the rollup and the export select a table's days
 * by. Whatever the days, a condition selects exactly the instants of those days (widened as asked), checked by
 * DuckDB itself on instants at and around every day boundary.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateArray, dateList, DAY_MS, daysCondition, daysScan } from '../src/warehouse/days.js';
import { ident } from '../src/warehouse/sql-files.js';

const FIRST = Date.parse('2023-12-20T00:00:00Z');
const dayKey = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Instants the tests check: each day's first and last microsecond, its noon, and the day's neighbours'. */
function instants(days: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++)
    out.push(FIRST + d * DAY_MS, FIRST + d * DAY_MS + DAY_MS / 2, FIRST + (d + 1) * DAY_MS - 1);
  return out;
}

describe('daysCondition and daysScan', () => {
  it('select exactly the instants of the given days, each widened by `around` days, however the days are spread', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run("SET TimeZone = 'Australia/Adelaide'"); // a session far from UTC: the days stay UTC days
      const span = 40;
      await c.run(
        `CREATE TABLE t AS SELECT make_timestamptz(CAST(ms AS BIGINT) * 1000) AS ts
         FROM unnest([${instants(span).join(', ')}]) AS u(ms)`,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: span - 2 }), { maxLength: 12 }),
          fc.integer({ min: 0, max: 1 }),
          async (picked, around) => {
            const keys = picked.map((d) => dayKey(FIRST + d * DAY_MS));
            const condition = daysCondition(keys, 'ts', around).text;
            const rows = (
              await c.runAndReadAll(`SELECT CAST(epoch_ms(ts) AS DOUBLE) AS ms FROM t WHERE ${condition} ORDER BY 1`)
            ).getRowObjectsJS();
            // and daysScan, a scan per range, reads the same rows
            const scan = daysScan(ident('t'), 'ts', keys, 'ts', around).text;
            const scanned = (
              await c.runAndReadAll(`SELECT CAST(epoch_ms(ts) AS DOUBLE) AS ms FROM ${scan} s ORDER BY 1`)
            ).getRowObjectsJS();
            expect(scanned).toEqual(rows);
            const selected = new Set(
              picked.flatMap((d) => Array.from({ length: 2 * around + 1 }, (_, i) => d - around + i)),
            );
            const expected = instants(span).filter((ms) => selected.has(Math.floor((ms - FIRST) / DAY_MS)));
            expect(rows.map((r) => Number(r.ms))).toEqual(expected);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('is FALSE for no days, and refuses what is not a day', () => {
    expect(daysCondition([]).text).toBe('FALSE');
    expect(() => daysCondition(["2024-01-01' OR TRUE --"])).toThrow(/not a day/);
    expect(() => dateList(['2024-02-30x'])).toThrow(/not a day/);
    expect(() => dateArray(['24-01-01'])).toThrow(/not a day/);
  });
});

/**
 * Rows as an aligned text table, CSV or JSON: how `query` and the demo print answers. `query`'s values arrive
 * already JSON-safe (query/values.ts): numbers, text (exact digits past a JS number, 'NaN', 'Infinity', ISO 8601
 * times, 'infinity'), and arrays and objects for nested types.
 *
 *   table  one line per row, columns aligned; a number column (numbers, and the exact digits, 'NaN' or 'Infinity'
 *          that stand in for numbers in it) right-aligned; nested values as compact JSON; a line break, carriage
 *          return or tab inside a value shown as \n, \r, \t so that a row stays one line
 *   csv    RFC 4180 quoting (a field with a comma, a double quote or a line break is quoted, quotes doubled), lines
 *          ending in \n; nested values as compact JSON; every digit kept
 *   json   an array of objects, the values as they are
 */
import type { Row } from '../warehouse/warehouse.js';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function formatRows(columns: string[], rows: Row[], format: Format): string {
  if (format === 'json')
    return JSON.stringify(
      rows.map((r) => Object.fromEntries(columns.map((c) => [c, jsonValue(r[c])]))),
      null,
      2,
    );
  if (format === 'csv')
    return [
      columns.map(csvCell).join(','),
      ...rows.map((r) => columns.map((c) => csvCell(text(r[c], false))).join(',')),
    ].join('\n');
  return textTable(columns, rows);
}

/** Text that stands in for a number: exact digits past a JS number's, and what JSON has no number for. */
const NUMBER_TEXT = /^(-?\d+(\.\d+)?|NaN|-?Infinity)$/;

function textTable(columns: string[], rows: Row[]): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(text(r[c]))));
  // a loop, not Math.max(...): 200,000 rows as arguments overflow the stack
  const widths = columns.map((c, i) => cells.reduce((width, row) => Math.max(width, row[i]!.length), c.length));
  const numeric = columns.map(
    (c) =>
      rows.some((r) => typeof r[c] === 'number') &&
      rows.every(
        (r) =>
          r[c] === null ||
          r[c] === undefined ||
          typeof r[c] === 'number' ||
          (typeof r[c] === 'string' && NUMBER_TEXT.test(r[c])),
      ),
  );
  const line = (values: string[]): string =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map(oneLine)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

/** Table cells round to 3 decimals for reading; CSV keeps every digit. */
function text(value: unknown, round = true): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number')
    return !round || Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  if (typeof value === 'object')
    return JSON.stringify(jsonValue(value), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

const LINE_BREAKING = /[\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function oneLine(cell: string): string {
  return cell.replace(LINE_BREAKING, (ch) => ESCAPES[ch]!);
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return value ?? null;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Result rows as plain JS values: numbers (BIGINT too, while it fits; past 2^53 a string, never a silently
 * rounded number), Dates for timestamps, 'YYYY-MM-DD' strings for dates, and 'infinity' / '-infinity' for the
 * open ends of history intervals, which a JS Date cannot hold.
 */
import {
  DuckDBDateValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBResultReader,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';

export type Value = JS | string | number | null;
export type Row = Record<string, Value>;

const convert: DuckDBValueConverter<Value> = (value, type, self) => {
  if (value === null) return null;
  if ((value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) && !value.isFinite) {
    return value.micros > 0n ? 'infinity' : '-infinity';
  }
  if (value instanceof DuckDBDateValue) return value.toString(); // a day is a day: 2024-03-31, not a midnight instant
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (type.typeId === DuckDBTypeId.DECIMAL) return JSDuckDBValueConverter(value, type, JSDuckDBValueConverter);
  return JSDuckDBValueConverter(value, type, self);
};

export function rowsOf(reader: DuckDBResultReader): Row[] {
  return reader.convertRowObjects(convert) as Row[];
}

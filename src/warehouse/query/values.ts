/**
 * What `query` answers, value by value: JSON-safe (the answer travels from the worker to the command as JSON,
 * through Redis) and exact, for every DuckDB type, so that each of `table`, `csv` and `json` prints it. No value
 * makes the answer fail: one this module cannot read prints as DuckDB's own text of it.
 *
 *   BOOLEAN                          true / false
 *   TINYINT … UINTEGER               a number
 *   BIGINT, UBIGINT, HUGEINT,        a number while it is a safe integer (at most 2^53 − 1 either side); past that
 *     UHUGEINT, BIGNUM (VARINT)      the exact digits as a string, never a rounded number
 *   DECIMAL                          a number when that number prints as the same decimal (1.5 for 1.50); otherwise
 *                                    DuckDB's exact text as a string ('12345678901234567890.123456789')
 *   DOUBLE                           a number
 *   FLOAT                            the shortest number that is the same FLOAT, as DuckDB prints it (0.1, not
 *                                    0.10000000149011612)
 *   NaN, ±inf (DOUBLE, FLOAT)        the strings 'NaN', 'Infinity', '-Infinity' (JSON has no such numbers)
 *   TIMESTAMP, TIMESTAMPTZ,          ISO 8601 in UTC, always with milliseconds: '2024-07-08T09:05:00.000Z'; with
 *     TIMESTAMP_S / _MS / _NS        micro- or nanoseconds only when there are any ('…:00.123456Z'). Years outside
 *                                    0000–9999 are written as JavaScript writes them, sign and six digits or more
 *                                    ('+294000-01-01T00:00:00.000Z', '-000001-…', year 0 being 1 BC), so a value
 *                                    past a JS Date's range prints too; 'infinity' / '-infinity'
 *   DATE                             'YYYY-MM-DD', years as above ('+5881580-07-10'); 'infinity' / '-infinity'
 *   TIME, TIME_NS, TIMETZ            DuckDB's text: '13:14:15.123456', '01:02:03.123456789', '13:14:15+02:30'
 *   INTERVAL                         DuckDB's text: '1 year 2 days 03:00:00', '-1 month 00:00:03.5', '100000:00:00'
 *   VARCHAR, ENUM, UUID, BIT         their text
 *   BLOB                             DuckDB's escaped text: '\xAA\x00ab' (a backslash itself is \x5C)
 *   GEOMETRY                         WKT as DuckDB writes it: 'POINT (1 2)', 'POLYGON Z ((0 0 1, …))'
 *   LIST, ARRAY                      an array, each item by these rules
 *   STRUCT                           an object, each entry by these rules
 *   MAP                              an array of { key, value } (a key need not be a string)
 *   UNION                            { tag, value }
 *   VARIANT                          what it holds, by these rules
 *
 * The nested shapes are @duckdb/node-api's own (JsonDuckDBValueConverter), recursing through the rules here.
 */
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBGeometryValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBResultReader,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
} from '@duckdb/node-api';
import type { Row } from '../rows.js';

export type QueryValue = Json;

/** The rows of an answer, every value converted by `queryValue`. */
export function queryRowsOf(reader: DuckDBResultReader): Row[] {
  return reader.convertRowObjects(queryValue) as Row[];
}

/** One value of an answer, by the rules in the header; never throws. */
const queryValue: DuckDBValueConverter<QueryValue> = (value, type, self) => {
  if (value === null || value === undefined) return null;
  try {
    return convert(value, type, self);
  } catch {
    return fallbackText(value);
  }
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function convert(value: DuckDBValue, type: DuckDBType, self: DuckDBValueConverter<QueryValue>): QueryValue {
  if (typeof value === 'bigint') return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value); // 'NaN', 'Infinity', '-Infinity'
    return type.typeId === DuckDBTypeId.FLOAT ? shortestFloat(value) : value;
  }
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof DuckDBDecimalValue) return decimal(value);
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) {
    return value.isFinite ? isoTimestamp(value.micros, 1_000_000n) : infinity(value.micros);
  }
  if (value instanceof DuckDBTimestampNanosecondsValue)
    return value.isFinite ? isoTimestamp(value.nanos, 1_000_000_000n) : infinity(value.nanos);
  if (value instanceof DuckDBTimestampMillisecondsValue)
    return value.isFinite ? isoTimestamp(value.millis, 1_000n) : infinity(value.millis);
  if (value instanceof DuckDBTimestampSecondsValue)
    return value.isFinite ? isoTimestamp(value.seconds, 1n) : infinity(value.seconds);
  if (value instanceof DuckDBDateValue) return value.isFinite ? isoDate(value.days) : infinity(value.days);
  if (value instanceof DuckDBGeometryValue) {
    try {
      return wkt(value.bytes);
    } catch {
      return blobText(value.bytes); // WKB this reader does not know: its bytes, as a BLOB's
    }
  }
  if (value instanceof DuckDBBlobValue) return blobText(value.bytes);
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
    case DuckDBTypeId.VARIANT:
      return JsonDuckDBValueConverter(value, type, self);
    default:
      // INTERVAL, TIME, TIME_NS, TIMETZ, UUID, BIT, and whatever DuckDB adds next: its own text
      return fallbackText(value);
  }
}

function fallbackText(value: DuckDBValue): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * As DuckDB's BLOB-to-VARCHAR writes it: printable ASCII as itself, any other byte as \xNN, and so are a quote and
 * the backslash (which DuckDBBlobValue.toString leaves bare, making '\x41' two ways to read).
 */
function blobText(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text +=
      byte < 0x20 || byte >= 0x7f || byte === 0x22 || byte === 0x27 || byte === 0x5c
        ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
  }
  return text;
}

function infinity(raw: bigint | number): string {
  return raw > 0 ? 'infinity' : '-infinity';
}

/** A FLOAT widened to a double carries digits nobody wrote (0.10000000149011612): the shortest that is the same FLOAT. */
function shortestFloat(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const shorter = Number(value.toPrecision(digits));
    if (Math.fround(shorter) === value) return shorter;
  }
  return value;
}

/** A number if it prints as the same decimal; otherwise the exact text. */
function decimal(value: DuckDBDecimalValue): number | string {
  const negative = value.value < 0n;
  const digits = (negative ? -value.value : value.value).toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale);
  const text = `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  const trimmed = fraction.replace(/0+$/, '');
  const canonical = `${negative ? '-' : ''}${whole}${trimmed ? `.${trimmed}` : ''}`;
  const number = Number(canonical);
  return String(number) === canonical ? number : text;
}

const SECONDS_PER_DAY = 86_400n;

/** `epoch` units since 1970-01-01 UTC, `perSecond` of them a second: ISO 8601, whatever the year. */
function isoTimestamp(epoch: bigint, perSecond: bigint): string {
  const perDay = SECONDS_PER_DAY * perSecond;
  let days = epoch / perDay;
  let rest = epoch % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const seconds = Number(rest / perSecond);
  const nanos = ((rest % perSecond) * (1_000_000_000n / perSecond)).toString().padStart(9, '0');
  const fraction = nanos.endsWith('000000') ? nanos.slice(0, 3) : nanos.endsWith('000') ? nanos.slice(0, 6) : nanos;
  const time = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return `${isoDate(Number(days))}T${time}.${fraction}Z`;
}

/** Days since 1970-01-01 as an ISO 8601 date of the proleptic Gregorian calendar (H. Hinnant's civil_from_days). */
function isoDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153); // months from March
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const yyyy =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${yyyy}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const GEOMETRY_NAMES = [
  '',
  'POINT',
  'LINESTRING',
  'POLYGON',
  'MULTIPOINT',
  'MULTILINESTRING',
  'MULTIPOLYGON',
  'GEOMETRYCOLLECTION',
];

/** WKB (ISO, or EWKB's flags) as WKT, written as DuckDB's GEOMETRY-to-VARCHAR writes it. Throws on anything else. */
function wkt(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let little = true;
  const u32 = (): number => {
    const v = view.getUint32(at, little);
    at += 4;
    return v;
  };
  const f64 = (): number => {
    const v = view.getFloat64(at, little);
    at += 8;
    return v;
  };
  const header = (): { kind: number; dims: number; tag: string } => {
    little = view.getUint8(at++) === 1;
    const code = u32();
    if (code & 0x20000000) at += 4; // an EWKB SRID
    const iso = Math.floor((code & 0x0fffffff) / 1000);
    const kind = (code & 0x0fffffff) % 1000;
    const z = (code & 0x80000000) !== 0 || iso === 1 || iso === 3;
    const m = (code & 0x40000000) !== 0 || iso === 2 || iso === 3;
    if (kind < 1 || kind > 7 || iso > 3) throw new Error(`WKB geometry type ${code}`);
    return { kind, dims: 2 + (z ? 1 : 0) + (m ? 1 : 0), tag: z && m ? ' ZM' : z ? ' Z' : m ? ' M' : '' };
  };
  const list = (item: () => string): string => {
    const count = u32();
    if (count === 0) return 'EMPTY';
    const items: string[] = [];
    for (let i = 0; i < count; i++) items.push(item());
    return `(${items.join(', ')})`;
  };
  /** A point's coordinates, or EMPTY (all NaN, as WKB writes an empty point). */
  const point = (dims: number): string => {
    const coordinates: number[] = [];
    for (let i = 0; i < dims; i++) coordinates.push(f64());
    return coordinates.every(Number.isNaN) ? 'EMPTY' : coordinates.map(wktNumber).join(' ');
  };
  const body = (kind: number, dims: number): string => {
    switch (kind) {
      case 1: {
        const p = point(dims);
        return p === 'EMPTY' ? p : `(${p})`;
      }
      case 2:
        return list(() => point(dims));
      case 3:
        return list(() => list(() => point(dims)));
      case 7:
        return list(geometry);
      default: // MULTIPOINT, MULTILINESTRING, MULTIPOLYGON: each part with a header of its own, written without it
        return list(() => {
          const part = header();
          return part.kind === 1 ? point(part.dims) : body(part.kind, part.dims);
        });
    }
  };
  function geometry(): string {
    const { kind, dims, tag } = header();
    return `${GEOMETRY_NAMES[kind]}${tag} ${body(kind, dims)}`;
  }
  const text = geometry();
  if (at !== bytes.byteLength) throw new Error('WKB with bytes left over');
  return text;
}

/** As DuckDB writes a coordinate: the shortest digits, an exponent below 1e-4 and from 1e16 ('1e-05', '1e+16'). */
function wktNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exponentText] = n.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16)
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(n);
}

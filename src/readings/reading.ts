/**
 * A reading as the warehouse stores it, and the rules every source (push, status, backfill) applies before a
 * reading is stored. Natural key: (serial, type, depth_cm, ts), NULL depth included.
 */

export type ReadingSource = 'push' | 'status' | 'backfill' | 'reconcile';

export interface Reading {
  serial: string;
  probeId: number | null;
  type: string;
  depthCm: number | null;
  ts: Date;
  value: number;
  unit: string | null;
  source: ReadingSource;
  receivedAt: Date;
  extra: string | null; // JSON of fields we do not know
}

/** Readings before this are not from a Sensoterra probe. */
export const EARLIEST_READING = Date.UTC(2000, 0, 1);
/** Clock skew tolerated for a timestamp "from the future". */
export const FUTURE_TOLERANCE_MS = 10 * 60_000;
/** No probe reaches deeper than this. */
export const MAX_DEPTH_CM = 500;

/** Historic readings carry no type: it follows from the unit [seen]; an unknown unit is kept as its own type. */
export function typeFromUnit(unit: string | null | undefined): string {
  const u = (unit ?? '').trim();
  if (u === '%') return 'MOISTURE';
  if (u.toUpperCase() === 'SI') return 'SI';
  if (u === '°C' || u === 'C' || u === '℃') return 'TEMPERATURE';
  return u === '' ? 'UNKNOWN' : u;
}

/** Numbers, or numeric strings ("6.3"); anything else is NaN. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}

export function checkTimestamp(value: unknown, now: number): { ts: Date } | { reason: string } {
  if (value === undefined || value === null || value === '') return { reason: 'timestamp is missing' };
  if (typeof value !== 'string' && typeof value !== 'number') return { reason: 'timestamp is not a string' };
  // a time without an offset is read as UTC (not as the local time of whichever process reads it)
  const text = typeof value === 'string' && /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
  const ms = typeof text === 'number' ? text * 1000 : Date.parse(text);
  if (Number.isNaN(ms)) return { reason: `timestamp ${JSON.stringify(value)} is not ISO-8601` };
  if (ms < EARLIEST_READING) return { reason: `timestamp ${JSON.stringify(value)} is before 2000` };
  if (ms > now + FUTURE_TOLERANCE_MS) return { reason: `timestamp ${JSON.stringify(value)} is in the future` };
  return { ts: new Date(ms) };
}

export function checkDepth(value: unknown): { depthCm: number | null } | { reason: string } {
  if (value === undefined || value === null) return { depthCm: null };
  const depth = toNumber(value);
  if (!Number.isInteger(depth)) return { reason: `depth ${JSON.stringify(value)} is not a whole number of cm` };
  if (depth < 0 || depth > MAX_DEPTH_CM) return { reason: `depth ${depth} is outside 0..${MAX_DEPTH_CM} cm` };
  return { depthCm: depth };
}

export function checkValue(value: unknown): { value: number } | { reason: string } {
  const number = toNumber(value);
  if (!Number.isFinite(number)) return { reason: `value ${typeof value === 'number' ? String(value) : JSON.stringify(value)} is not a finite number` };
  return { value: number };
}

/** The fields of an object other than `known`, as JSON, or null when there are none. */
export function extraFields(object: Record<string, unknown>, known: readonly string[]): string | null {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) (extra ??= {})[key] = object[key];
  }
  return extra === undefined ? null : JSON.stringify(extra);
}

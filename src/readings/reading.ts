/**
 * A reading as the warehouse stores it, and the one function that turns a raw reading from any source (a push, a
 * probe's status.last_readings, the historic-readings endpoint) into one: the same checks and the same rules
 * everywhere, so that the same reading arriving by two paths is the same row. Natural key: (serial, type,
 * depth_cm, ts), NULL depth included.
 *
 * Rules:
 * - type: up to 32 ASCII letters, digits or _, stored upper-cased; when absent, derived from the unit (`%` MOISTURE,
 *   `SI` SI, `°C`/`C` TEMPERATURE, any other unit upper-cased as its own type, none at all UNKNOWN).
 * - unit: up to 16 characters, none of them invisible (control or formatting characters), no spaces around.
 * - value: a JSON number or a plain decimal string ("6.3", "-1.25"); nothing else ("0x1A", "1e2", " 5", "NaN").
 * - depth: absent/null for readings without a depth, else whole centimetres 0..500, as a JSON number or a string of
 *   digits.
 * - time: src/time.ts (ISO 8601, UTC without an offset), not before 2000 and not more than 10 minutes ahead of
 *   when the reading was received. A reading without its own time takes the fallback its source gives (the
 *   uplink's timestamp, the probe's status.last_update).
 * Whatever does not pass is returned with its reason: the caller keeps it in rejected_pushes or counts it in
 * sync_runs, never drops it silently.
 */
import { parseInstant, quote } from '../time.js';

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

/** A reading as some source sent it, field by field, unchecked. */
export interface RawReading {
  type?: unknown;
  depth?: unknown;
  value?: unknown;
  unit?: unknown;
  timestamp?: unknown;
}

export interface ReadingOrigin {
  serial: string;
  probeId: number | null;
  source: ReadingSource;
  receivedAt: Date;
  /** The time a reading without one of its own takes (an uplink's timestamp, a probe's last_update). */
  fallbackTimestamp?: unknown;
  /** Checks a timestamp; the push parser passes one that remembers the timestamps its body repeats. */
  checkTime?: (value: unknown) => Checked<Date>;
}

export type Checked<T> = { ok: T } | { reason: string };

/** Readings before this are not from a Sensoterra probe. */
const EARLIEST_READING = Date.UTC(2000, 0, 1);
/** Clock skew tolerated for a timestamp "from the future". */
const FUTURE_TOLERANCE_MS = 10 * 60_000;
/** No probe reaches deeper than this. */
const MAX_DEPTH_CM = 500;
const MAX_TYPE_LENGTH = 32;
const MAX_UNIT_LENGTH = 16;

const DECIMAL = /^-?\d{1,20}(\.\d{1,20})?$/;
const DIGITS = /^\d{1,3}$/;
/** A type as sent: ASCII letters, digits and _ (stored upper-cased), so that look-alikes cannot start series of their own. */
const TYPE = new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${MAX_TYPE_LENGTH - 1}}$`);
// control characters, line and paragraph separators, and invisible formatting (zero-width spaces, bidi overrides)
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The stored reading, or why the raw one cannot be stored. `extra` is the JSON of its unknown fields, or null. */
export function toReading(raw: RawReading, origin: ReadingOrigin, extra: string | null): Reading | { reason: string } {
  const checkTime = origin.checkTime ?? ((value: unknown) => checkTimestamp(value, origin.receivedAt.getTime()));
  const own = raw.timestamp;
  const when = checkTime(own === undefined || own === null ? origin.fallbackTimestamp : own);
  if ('reason' in when) return when;
  const value = checkValue(raw.value);
  if ('reason' in value) return value;
  const depth = checkDepth(raw.depth);
  if ('reason' in depth) return depth;
  const unit = checkUnit(raw.unit);
  if ('reason' in unit) return unit;
  const type = checkType(raw.type, unit.ok);
  if ('reason' in type) return type;
  return {
    serial: origin.serial,
    probeId: origin.probeId,
    type: type.ok,
    depthCm: depth.ok,
    ts: when.ok,
    value: value.ok,
    unit: unit.ok,
    source: origin.source,
    receivedAt: origin.receivedAt,
    extra,
  };
}

/** Historic readings carry no type: it follows from the unit [seen]; an unknown unit is kept as its own type. */
function typeFromUnit(unit: string | null | undefined): string {
  const u = (unit ?? '').trim();
  if (u === '%') return 'MOISTURE';
  if (u.toUpperCase() === 'SI') return 'SI';
  if (u === '°C' || u === 'C' || u === '℃') return 'TEMPERATURE';
  return u === '' ? 'UNKNOWN' : u.toUpperCase();
}

export function checkTimestamp(value: unknown, receivedAtMs: number): Checked<Date> {
  if (value === undefined || value === null || value === '') return { reason: 'timestamp is missing' };
  if (typeof value !== 'string') return { reason: `timestamp ${shown(value)} is not ISO-8601 text` };
  const ts = parseInstant(value);
  if (!(ts instanceof Date)) return { reason: `timestamp ${ts.reason}` };
  const ms = ts.getTime();
  if (ms < EARLIEST_READING) return { reason: `timestamp ${quote(value)} is before 2000` };
  if (ms > receivedAtMs + FUTURE_TOLERANCE_MS) return { reason: `timestamp ${quote(value)} is in the future` };
  return { ok: ts };
}

export function checkValue(value: unknown): Checked<number> {
  if (value === undefined || value === null) return { reason: 'value is missing' };
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) return { reason: `value ${shown(value)} is not a finite decimal number` };
  return { ok: number };
}

function checkDepth(value: unknown): Checked<number | null> {
  if (value === undefined || value === null) return { ok: null };
  const depth =
    typeof value === 'number' ? value : typeof value === 'string' && DIGITS.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(depth)) return { reason: `depth ${shown(value)} is not a whole number of cm` };
  if (depth < 0 || depth > MAX_DEPTH_CM) return { reason: `depth ${depth} is outside 0..${MAX_DEPTH_CM} cm` };
  return { ok: depth };
}

function checkUnit(value: unknown): Checked<string | null> {
  if (value === undefined || value === null) return { ok: null };
  if (typeof value !== 'string')
    return { reason: `unit ${shown(value)} is not a unit (up to ${MAX_UNIT_LENGTH} visible characters)` };
  return remembered<string | null>(UNITS, value, () =>
    value === '' || value.length > MAX_UNIT_LENGTH || INVISIBLE.test(value) || value.trim() !== value
      ? { reason: `unit ${shown(value)} is not a unit (up to ${MAX_UNIT_LENGTH} visible characters)` }
      : { ok: value },
  );
}

function checkType(value: unknown, unit: string | null): Checked<string> {
  if (value === undefined || value === null || value === '') return { ok: typeFromUnit(unit) };
  if (typeof value !== 'string')
    return { reason: `type ${shown(value)} is not a reading type (up to ${MAX_TYPE_LENGTH} letters, digits or _)` };
  // checked before upper-casing: "moısture" (dotless i) or "ß" would otherwise become MOISTURE or SS
  return remembered<string>(TYPES, value, () =>
    TYPE.test(value)
      ? { ok: value.toUpperCase() }
      : { reason: `type ${shown(value)} is not a reading type (up to ${MAX_TYPE_LENGTH} letters, digits or _)` },
  );
}

/**
 * The verdicts on the few types and units a deployment sees, remembered: the push hot path checks the same
 * "MOISTURE" and "%" thousands of times a second. Bounded: past MAX_REMEMBERED texts, new ones are checked each time.
 */
const TYPES = new Map<string, Checked<string>>();
const UNITS = new Map<string, Checked<string | null>>();
const MAX_REMEMBERED = 256;

function remembered<T>(cache: Map<string, Checked<T>>, text: string, check: () => Checked<T>): Checked<T> {
  let verdict = cache.get(text);
  if (verdict === undefined) {
    verdict = check();
    if (cache.size < MAX_REMEMBERED && text.length <= MAX_TYPE_LENGTH) cache.set(text, verdict);
  }
  return verdict;
}

/** True for text that holds a control character or an invisible one: no name (a serial, a type) may. */
export function hasControlCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

/** A value for a message: short, and safe whatever it is (never a whole nested structure). */
export function shown(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * The fields of an object other than `known`, as JSON, or null when there are none. Copied into an object without a
 * prototype, so that a field named `__proto__` is kept as data. The caller bounds the object's depth and size.
 */
export function extraFields(object: Record<string, unknown>, known: ReadonlySet<string>): string | null {
  let extra: Record<string, unknown> | undefined;
  // for..in, not Object.keys: no array per object on the hot path (JSON.parse's objects have no inherited keys)
  for (const key in object) {
    if (!known.has(key)) (extra ??= Object.create(null) as Record<string, unknown>)[key] = object[key];
  }
  return extra === undefined ? null : JSON.stringify(extra);
}

/**
 * fast-check generators of push bodies, shared by the property tests and `npm run fuzz` (which runs them longer:
 * FUZZ_RUNS). Two kinds:
 * - hostile bodies: arbitrary JSON (deep, wide, huge, unicode, odd keys) and push-shaped bodies with such values
 *   in every field, for "the parser always returns a verdict";
 * - good readings with the instant, value and depth they stand for computed here, independently of the parser,
 *   in every form the format allows (number or decimal text, T or space, with or without an offset).
 */
import fc from 'fast-check';

/** How many runs a property makes: a bounded slice in `npm test`, more under `npm run fuzz`. */
export function runs(inTests: number): number {
  const fuzz = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(fuzz) && fuzz > 0 ? fuzz : inTests;
}

/** Keys a JavaScript object may treat specially, and the push format's own. */
const ODD_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '\u0000',
  'readings',
  'serial',
  'timestamp',
  'value',
  'depth',
  'type',
  'unit',
];

const key = fc.oneof(
  fc.constantFrom(...ODD_KEYS),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom(
    '\ud800',
    'a\udc00b',
    '0x1A',
    '0b101',
    '1e2',
    'NaN',
    'Infinity',
    '-0',
    ' 5',
    '5 ',
    '2024-02-30T00:00:00Z',
    '1',
    '2024-06-01 12:00',
    '24000092104',
  ),
  fc.integer({ min: 0, max: 5_000 }).map((n) => 'x'.repeat(n)),
);

/** Any JSON value, keys odd and values unicode, nested a little. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    text,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(key, tie('value'), { maxKeys: 6 }),
  ),
})).value;

/** A value nested `depth` levels deep in arrays or objects, built without recursion (a parser must not recurse either). */
export function nested(depth: number, leaf: unknown = 1, kind: 'array' | 'object' = 'array'): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** Push-shaped bodies whose fields hold anything at all, including values nested thousands deep. */
export const hostileBody: fc.Arbitrary<string> = fc
  .tuple(
    fc.dictionary(key, jsonish, { maxKeys: 4 }),
    fc.array(fc.dictionary(key, jsonish, { maxKeys: 6 }), { maxLength: 5 }),
    fc.constantFrom('readings', 'value', 'depth', 'timestamp', 'type', 'serial', 'unknown', 'none'),
    fc.integer({ min: 1, max: 20_000 }),
    fc.boolean(),
  )
  .map(([uplinkExtra, readings, deepIn, depth, asArray]) => {
    const deep = nested(depth, 'x', depth % 2 === 0 ? 'array' : 'object');
    const reading: Record<string, unknown> = {
      type: 'MOISTURE',
      depth: 15,
      value: 1,
      unit: '%',
      timestamp: '2024-07-08T09:05:00Z',
    };
    if (['value', 'depth', 'timestamp', 'type'].includes(deepIn)) reading[deepIn] = deep;
    const uplink: Record<string, unknown> = { serial: '24000092104', ...uplinkExtra, readings: [reading, ...readings] };
    if (deepIn === 'readings') uplink.readings = deep;
    if (deepIn === 'serial') uplink.serial = deep;
    if (deepIn === 'unknown') uplink.extra_field = deep;
    // JSON.stringify would overflow on the deep value: write the text by hand, as a hostile client would
    return serialize(asArray ? [uplink] : uplink);
  });

/** JSON text for a value of any depth, without recursion. */
export function serialize(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  const COMMA = Symbol('comma');
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'symbol') {
      out.push(v === COMMA ? ',' : (v.description ?? ''));
      continue;
    }
    if (Array.isArray(v)) {
      out.push('[');
      stack.push(Symbol(']'));
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]);
        if (i > 0) stack.push(COMMA);
      }
      continue;
    }
    if (typeof v === 'object' && v !== null) {
      out.push('{');
      stack.push(Symbol('}'));
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((v as Record<string, unknown>)[keys[i]!]);
        stack.push(Symbol(`${JSON.stringify(keys[i])}:`));
        if (i > 0) stack.push(COMMA);
      }
      continue;
    }
    out.push(JSON.stringify(v) ?? 'null');
  }
  return out.join('');
}

/** A reading the format must accept, with what it stands for worked out here, not by the parser. */
export interface GoodReading {
  json: Record<string, unknown>;
  type: string;
  depthCm: number | null;
  ts: number; // ms since the epoch
  value: number;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** An instant between 2000 and the arrival time, written in one of the forms the format allows. */
export const goodTimestamp = (arrivalMs: number): fc.Arbitrary<{ text: string; ms: number }> =>
  fc
    .record({
      ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: arrivalMs }).map((ms) => ms - (ms % 1000)),
      offsetMinutes: fc.constantFrom(0, 60, -300, 570, 630, -150, 345),
      form: fc.constantFrom('T', ' '),
      zone: fc.constantFrom('Z', 'offset', 'none'),
    })
    .map(({ ms, offsetMinutes, form, zone }) => {
      const shift = zone === 'offset' ? offsetMinutes : 0;
      const local = new Date(ms + shift * 60_000); // wall-clock time at that offset, read through the UTC getters
      const wall = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}${form}${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
      const suffix =
        zone === 'Z'
          ? 'Z'
          : zone === 'offset'
            ? `${shift < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(shift) / 60))}:${pad(Math.abs(shift) % 60)}`
            : '';
      return { text: wall + suffix, ms };
    });

export const goodReading = (arrivalMs: number): fc.Arbitrary<GoodReading> =>
  fc
    .record({
      type: fc.constantFrom('MOISTURE', 'moisture', 'SI', 'Temperature', 'EC'),
      depth: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
      depthAsText: fc.boolean(),
      cents: fc.integer({ min: -100_000, max: 100_000 }),
      valueAsText: fc.boolean(),
      when: goodTimestamp(arrivalMs),
      unit: fc.constantFrom('%', 'SI', '°C', null),
    })
    .map(({ type, depth, depthAsText, cents, valueAsText, when, unit }) => {
      const value = cents / 100;
      const json: Record<string, unknown> = {
        type,
        value: valueAsText ? value.toFixed(2) : value,
        timestamp: when.text,
      };
      if (depth !== null) json.depth = depthAsText ? String(depth) : depth;
      if (unit !== null) json.unit = unit;
      return { json, type: type.toUpperCase(), depthCm: depth, ts: when.ms, value };
    });

/** The natural key the warehouse stores a reading under. */
export function readingKey(serial: string, r: { type: string; depthCm: number | null; ts: number }): string {
  return `${serial}|${r.type}|${r.depthCm ?? ''}|${r.ts}`;
}

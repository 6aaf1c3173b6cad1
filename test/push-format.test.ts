/**
 * The push format, judged in-process (src/push/format.ts): every body gets a verdict in bounded work, whatever it
 * holds; what is accepted is exactly what was sent; what is not is kept with a reason. The receiver and the writer
 * both call this one function with the same text, arrival time and limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REJECTED_PARTS, parsePush, type ParsedPush } from '../src/push/format.js';
import { DEFAULT_PUSH_LIMITS, nestsDeeperThan, type PushLimits } from '../src/push/limits.js';
import { goodReading, hostileBody, jsonish, nested, runs, serialize } from './helpers/push-arbitraries.js';

const ARRIVED = new Date('2024-07-08T10:30:00Z');
const AT = '2024-07-08T09:05:00Z';
const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS };

const parse = (body: unknown, lim: PushLimits = limits): ParsedPush =>
  parsePush(typeof body === 'string' ? body : serialize(body), ARRIVED, lim);
const reading = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'MOISTURE',
  depth: 15,
  value: 27.4,
  unit: '%',
  timestamp: AT,
  ...fields,
});
const uplink = (readings: unknown, fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  serial: '24000092104',
  probe_id: 49205,
  timestamp: AT,
  readings,
  ...fields,
});

describe('a body nested deeper than PUSH_MAX_DEPTH', () => {
  const DEEP = nested(10_000, 1);
  const cases: [string, unknown][] = [
    ['as its readings', uplink(DEEP)],
    ["as a reading's value", uplink([reading({ value: DEEP })])],
    ["as a reading's depth", uplink([reading({ depth: DEEP })])],
    ["as a reading's timestamp", uplink([reading({ timestamp: DEEP })])],
    ["as a reading's type", uplink([reading({ type: DEEP })])],
    ['in an uplink without a serial', { readings: [reading()], note: DEEP }],
    ['as a non-uplink beside a real uplink', [uplink([reading()]), DEEP]],
    ['in an unknown field', uplink([reading()], { gateway: { path: DEEP } })],
  ];
  for (const [where, body] of cases) {
    it(`is refused whole with 413 naming the limit, without an error: ${where}`, () => {
      const parsed = parse(body);
      expect(parsed.fatal).toEqual({
        reason: 'the body nests deeper than PUSH_MAX_DEPTH=16 levels of arrays and objects',
        status: 413,
        limit: 'PUSH_MAX_DEPTH',
      });
      expect(parsed.readings).toEqual([]);
    });
  }

  it('is refused before it is built when it is long: a megabyte of brackets, even one that is not valid JSON after them', () => {
    const brackets = `${'['.repeat(500_000)}1x${']'.repeat(500_000)}`;
    expect(parse(brackets).fatal).toEqual({
      reason: 'the body nests deeper than PUSH_MAX_DEPTH=16 levels of arrays and objects',
      status: 413,
      limit: 'PUSH_MAX_DEPTH',
    });
  });

  it('is measured the same by the scan of the text as by the walk of the parsed body', () => {
    fc.assert(
      fc.property(jsonish, fc.integer({ min: 1, max: 8 }), (value, max) => {
        const text = serialize(value);
        expect(nestsDeeperThan(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
      { numRuns: runs(500) },
    );
  });

  it('passes at exactly the limit', () => {
    // array > uplink > readings > reading: 4 levels of the format, then 12 more in an unknown field of the reading
    const parsed = parse([uplink([reading({ note: nested(12, 1) })])]);
    expect(parsed.fatal).toBeUndefined();
    expect(parsed.readings).toHaveLength(1);
    expect(parse([uplink([reading({ note: nested(13, 1) })])]).fatal?.limit).toBe('PUSH_MAX_DEPTH');
  });
});

describe('the other limits', () => {
  it('PUSH_MAX_STRING: a string (a serial of 100,000 characters, a 50,000-character type, a key) longer than it', () => {
    expect(parse(uplink([reading()], { serial: '1'.repeat(100_000) })).fatal).toEqual({
      reason: 'the body holds a string of 100000 characters, more than PUSH_MAX_STRING=4096',
      status: 413,
      limit: 'PUSH_MAX_STRING',
    });
    expect(parse(uplink([reading({ type: 'M'.repeat(50_000) })])).fatal?.limit).toBe('PUSH_MAX_STRING');
    expect(parse(uplink([reading({ ['k'.repeat(5_000)]: 1 })])).fatal?.limit).toBe('PUSH_MAX_STRING');
  });

  it('PUSH_MAX_UPLINKS and PUSH_MAX_READINGS: more uplinks in a body, more readings in an uplink', () => {
    const small = { ...limits, maxUplinks: 3, maxReadings: 2 };
    expect(
      parse([uplink([reading()]), uplink([reading()]), uplink([reading()]), uplink([reading()])], small).fatal,
    ).toEqual({
      reason: 'the body holds 4 uplinks, more than PUSH_MAX_UPLINKS=3',
      status: 413,
      limit: 'PUSH_MAX_UPLINKS',
    });
    expect(parse(uplink([reading({ depth: 1 }), reading({ depth: 2 }), reading({ depth: 3 })]), small).fatal).toEqual({
      reason: 'an uplink holds 3 readings, more than PUSH_MAX_READINGS=2',
      status: 413,
      limit: 'PUSH_MAX_READINGS',
    });
    expect(
      parse([uplink([reading()]), uplink([reading({ depth: 1 }), reading({ depth: 2 })])], small).readings,
    ).toHaveLength(3);
  });

  it('PUSH_MAX_EXTRA: more unknown fields than it, for an uplink or for a reading', () => {
    const small = { ...limits, maxExtra: 100 };
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`field${i}`, i]));
    expect(parse(uplink([reading()], wide), small).fatal).toEqual({
      reason: 'uplink 24000092104 has 241 bytes of unknown fields, more than PUSH_MAX_EXTRA=100',
      status: 413,
      limit: 'PUSH_MAX_EXTRA',
    });
    expect(parse(uplink([reading(wide)]), small).fatal?.reason).toBe(
      'a reading of 24000092104 has 241 bytes of unknown fields, more than PUSH_MAX_EXTRA=100',
    );
  });

  it('the amplification body (a 200 KB unknown field, 4,000 readings) is refused before any reading is built', () => {
    const body = uplink(
      Array.from({ length: 4_000 }, (_, i) =>
        reading({ depth: i % 500, timestamp: new Date(ARRIVED.getTime() - i * 60_000).toISOString() }),
      ),
      { blob: 'x'.repeat(200_000) },
    );
    expect(parse(body).fatal?.limit).toBe('PUSH_MAX_STRING');
    expect(parse({ ...body, blob: 'small' }).fatal?.limit).toBe('PUSH_MAX_READINGS');
  });

  it('PUSH_MAX_EXTRA also bounds all unknown fields of a body together: never more than the body itself', () => {
    // 9e20 is 4 characters in the body and 21 as JSON writes it again: kept as is, 10 such uplinks would outgrow the body
    const uplinks = Array.from({ length: 10 }, (_, i) =>
      uplink([reading({ depth: i })], { x: Array.from({ length: 200 }, () => 9e20) }),
    );
    const text = JSON.stringify(uplinks).replaceAll('900000000000000000000', '9e20');
    const parsed = parsePush(text, ARRIVED, limits);
    // each uplink's {"x":[...]} is kept as 6 + 200 x 21 + 199 + 2 = 4,407 bytes: the third passes the body's length
    expect(parsed.fatal).toEqual({
      reason: `the unknown fields of the body take ${3 * 4_407} bytes as kept, more than the ${text.length} of the body itself (PUSH_MAX_EXTRA)`,
      status: 413,
      limit: 'PUSH_MAX_EXTRA',
    });
  });

  it('keeps a rejected part that JSON would write longer than it came as the whole body instead', () => {
    const text = JSON.stringify([
      uplink([reading()]),
      uplink([], { serial: 'bad!', x: Array.from({ length: 700 }, () => 9e20) }),
    ]).replaceAll('900000000000000000000', '9e20');
    const parsed = parsePush(text, ARRIVED, limits);
    expect(parsed.readings).toHaveLength(1);
    expect(parsed.rejected).toEqual([
      {
        reason:
          '1 uplinks or readings rejected, the first: uplink has no serial: serial "bad!" is not a Sensoterra serial (up to 32 letters, digits, - or _)',
        body: text,
      },
    ]);
  });

  it('counts the readings of an uplink before anything else about it: a bad serial does not hide 1,001 readings', () => {
    const parsed = parse(
      uplink(
        Array.from({ length: 1_001 }, () => reading()),
        { serial: 'bad!' },
      ),
    );
    expect(parsed.fatal?.limit).toBe('PUSH_MAX_READINGS');
  });

  it("keeps an uplink's unknown fields once, not in each of its readings", () => {
    const parsed = parse(
      uplink(
        Array.from({ length: 1_000 }, (_, i) =>
          reading({ depth: i % 500, timestamp: new Date(ARRIVED.getTime() - i * 60_000).toISOString() }),
        ),
        { gateway: 'gw-7', rx: { snr: 7.5 } },
      ),
    );
    expect(parsed.readings).toHaveLength(1_000);
    expect(parsed.readings.every((r) => r.extra === null)).toBe(true);
    expect(parsed.uplinkExtras).toEqual([
      { serial: '24000092104', uplinkTs: new Date(AT), extra: '{"gateway":"gw-7","rx":{"snr":7.5}}' },
    ]);
  });
});

describe('strict formats', () => {
  const rejected: [string, Record<string, unknown>, string][] = [
    ['a hexadecimal value', { value: '0x1A' }, 'value "0x1A" is not a finite decimal number'],
    ['a binary value', { value: '0b101' }, 'value "0b101" is not a finite decimal number'],
    ['a value in exponent form as text', { value: '1e2' }, 'value "1e2" is not a finite decimal number'],
    ['a value with spaces', { value: ' 5' }, 'value " 5" is not a finite decimal number'],
    ['a value that is a boolean', { value: true }, 'value true is not a finite decimal number'],
    ['a value that is an object', { value: { v: 1 } }, 'value an object is not a finite decimal number'],
    ['a depth in exponent form as text', { depth: '1e2' }, 'depth "1e2" is not a whole number of cm'],
    ['a depth in hexadecimal', { depth: '0x10' }, 'depth "0x10" is not a whole number of cm'],
    [
      'a date that does not exist',
      { timestamp: '2024-02-30T00:00:00Z' },
      'timestamp "2024-02-30T00:00:00Z" is not a calendar date',
    ],
    [
      'a timestamp that is a bare number as text',
      { timestamp: '1' },
      'timestamp "1" is not an ISO-8601 time (such as 2024-07-08T10:05:00Z)',
    ],
    ['a timestamp that is a number', { timestamp: 1720429500 }, 'timestamp 1720429500 is not ISO-8601 text'],
    [
      'a type that is too long',
      { type: 'T'.repeat(33) },
      `type "${'T'.repeat(33)}" is not a reading type (up to 32 letters, digits or _)`,
    ],
    [
      'a type with a control character',
      { type: 'MOIST\u0007' },
      'type "MOIST\\u0007" is not a reading type (up to 32 letters, digits or _)',
    ],
    ['a unit with a line break', { unit: '%\n' }, 'unit "%\\n" is not a unit (up to 16 visible characters)'],
    ['a unit with a space around it', { unit: ' %' }, 'unit " %" is not a unit (up to 16 visible characters)'],
    [
      'a unit with a zero-width space',
      { unit: '%\u200b' },
      'unit "%\u200b" is not a unit (up to 16 visible characters)',
    ],
    [
      'a type that upper-cases to more than 32 letters',
      { type: 'ß'.repeat(32) },
      `type "${'ß'.repeat(32)}" is not a reading type (up to 32 letters, digits or _)`,
    ],
    [
      'a type with spaces around it',
      { type: ' moisture ' },
      'type " moisture " is not a reading type (up to 32 letters, digits or _)',
    ],
    [
      'a type that upper-cases into another (a dotless i)',
      { type: 'moısture' },
      'type "moısture" is not a reading type (up to 32 letters, digits or _)',
    ],
    ['a type that is a ligature', { type: 'ﬀ' }, 'type "ﬀ" is not a reading type (up to 32 letters, digits or _)'],
    [
      'a type with a zero-width space',
      { type: 'MOISTURE\u200b' },
      'type "MOISTURE\u200b" is not a reading type (up to 32 letters, digits or _)',
    ],
    [
      'a type written backwards behind a bidirectional override',
      { type: '\u202eERUTSIOM' },
      'type "\u202eERUTSIOM" is not a reading type (up to 32 letters, digits or _)',
    ],
  ];
  for (const [what, fields, reason] of rejected) {
    it(`rejects ${what}, with the reason`, () => {
      const parsed = parse(uplink([reading(fields)]));
      expect(parsed.readings).toEqual([]);
      expect(parsed.rejected).toEqual([{ reason: `24000092104: ${reason}`, body: JSON.stringify(reading(fields)) }]);
    });
  }

  const serials: [string, unknown, string][] = [
    ['with a NUL byte', '2400009\u00002104', 'uplink has no serial: serial holds control characters'],
    [
      'of 33 characters',
      '1'.repeat(33),
      `uplink has no serial: serial "${'1'.repeat(33)}" is not a Sensoterra serial (up to 32 letters, digits, - or _)`,
    ],
    [
      'of 100 characters',
      '1'.repeat(100),
      `uplink has no serial: serial "${'1'.repeat(40)}…" is not a Sensoterra serial (up to 32 letters, digits, - or _)`,
    ],
    [
      'with a space',
      '2400 0092104',
      'uplink has no serial: serial "2400 0092104" is not a Sensoterra serial (up to 32 letters, digits, - or _)',
    ],
    [
      'that is an object',
      { id: 1 },
      'uplink has no serial: serial an object is not a Sensoterra serial (up to 32 letters, digits, - or _)',
    ],
    ['that is missing', undefined, 'uplink has no serial: serial is missing'],
  ];
  for (const [what, serial, reason] of serials) {
    it(`rejects an uplink whose serial is ${what}`, () => {
      const parsed = parse(uplink([reading()], { serial }));
      expect(parsed.readings).toEqual([]);
      expect(parsed.rejected.map((r) => r.reason)).toEqual([reason]);
    });
  }

  it('reads a time without an offset as UTC, in the T and in the space form', () => {
    const parsed = parse(
      uplink([
        reading({ depth: 15, timestamp: '2024-06-01 12:00' }),
        reading({ depth: 30, timestamp: '2024-06-01T12:00:00' }),
      ]),
    );
    expect(parsed.readings.map((r) => r.ts.toISOString())).toEqual([
      '2024-06-01T12:00:00.000Z',
      '2024-06-01T12:00:00.000Z',
    ]);
  });

  it('accepts a serial written as a JSON number, and values and depths as decimal text', () => {
    const parsed = parse(uplink([reading({ value: '-6.30', depth: '045' })], { serial: 24000092104 }));
    expect(parsed.readings.map((r) => [r.serial, r.value, r.depthCm])).toEqual([['24000092104', -6.3, 45]]);
  });

  it("keeps odd keys such as __proto__ as data in a reading's unknown fields", () => {
    const parsed = parse(
      '{"serial":"24000092104","readings":[{"type":"SI","value":1,"timestamp":"2024-07-08T09:05:00Z","__proto__":{"x":1},"constructor":2}]}',
    );
    expect(parsed.readings.map((r) => r.extra)).toEqual(['{"__proto__":{"x":1},"constructor":2}']);
  });

  it('refuses a body holding half a surrogate pair (DuckDB would refuse it in the writer): 400', () => {
    expect(parse('{"serial":"24000092104","note":"\\ud800","readings":[]}').fatal).toEqual({
      reason: 'the body holds a string that is not valid Unicode (an unpaired surrogate such as \\ud800)',
      status: 400,
    });
  });

  it('keeps battery and RSSI only with a readable uplink timestamp, and says why otherwise', () => {
    const parsed = parse([
      uplink([reading()], { battery: 'NORMAL', rssi: '-97' }),
      uplink([reading({ depth: 30 })], { timestamp: undefined, battery: 'FAIR' }),
      uplink([reading({ depth: 45 })], { battery: 'FULL OF\u0000', rssi: -90 }),
    ]);
    expect(parsed.statuses).toEqual([
      { serial: '24000092104', lastUpdate: new Date(AT), battery: 'NORMAL', rssi: -97 },
    ]);
    expect(parsed.rejected.map((r) => r.reason)).toEqual([
      '24000092104: battery and rssi without an uplink timestamp',
      '24000092104: battery "FULL OF\\u0000" is not a battery level (such as NORMAL)',
    ]);
    expect(parsed.readings).toHaveLength(3);
    expect(parse(uplink([reading()], { battery: 'NORMAL', rssi: 1e308 })).rejected.map((r) => r.reason)).toEqual([
      '24000092104: rssi 1e+308 is outside -200..50 dBm',
    ]);
  });

  it(`keeps a push with more than ${MAX_REJECTED_PARTS} rejected parts once, whole, rather than part by part`, () => {
    const body = serialize(
      uplink(Array.from({ length: MAX_REJECTED_PARTS + 1 }, (_, i) => reading({ depth: i, value: 'n/a' }))),
    );
    const parsed = parse(body);
    expect(parsed.rejected).toEqual([
      {
        reason: `${MAX_REJECTED_PARTS + 1} uplinks or readings rejected, the first: 24000092104: value "n/a" is not a finite decimal number`,
        body,
      },
    ]);
  });
});

describe('every body, whatever it holds', () => {
  const verdictOf = (text: string): ParsedPush => {
    const parsed = parsePush(text, ARRIVED, limits);
    // a verdict: refused whole with a documented status, or read, each rejected part with a reason
    if (parsed.fatal) expect([400, 413]).toContain(parsed.fatal.status);
    else for (const r of parsed.rejected) expect(r.reason.length).toBeGreaterThan(0);
    return parsed;
  };

  it('gets a verdict and never an error: arbitrary JSON', () => {
    fc.assert(
      fc.property(jsonish, (value) => void verdictOf(serialize(value))),
      { numRuns: runs(500) },
    );
  });

  it('gets a verdict and never an error: push-shaped bodies with anything in any field, nested up to 20,000 deep', () => {
    fc.assert(
      fc.property(hostileBody, (text) => void verdictOf(text)),
      { numRuns: runs(200) },
    );
  });

  it('gets a verdict and never an error: arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => void verdictOf(text)),
      { numRuns: runs(500) },
    );
  });

  it('gets the same verdict each time it is read (the receiver answers with the one the writer stores)', () => {
    fc.assert(
      fc.property(hostileBody, (text) => {
        expect(parsePush(text, ARRIVED, limits)).toEqual(parsePush(text, ARRIVED, limits));
      }),
      { numRuns: runs(100) },
    );
  });

  it('keeps every part it rejects small enough to store: never more than the body itself', () => {
    fc.assert(
      fc.property(hostileBody, (text) => {
        const kept = parsePush(text, ARRIVED, limits).rejected.reduce((n, r) => n + r.body.length, 0);
        expect(kept).toBeLessThanOrEqual(text.length * 2);
      }),
      { numRuns: runs(100) },
    );
  });
});

describe('every good reading', () => {
  it('is accepted with exactly the value, instant, depth and type that were sent, in any of the allowed forms', () => {
    fc.assert(
      fc.property(fc.array(goodReading(ARRIVED.getTime()), { minLength: 1, maxLength: 20 }), (good) => {
        const parsed = parse(uplink(good.map((g) => g.json)));
        expect(parsed.rejected).toEqual([]);
        expect(
          parsed.readings.map((r) => ({ type: r.type, depthCm: r.depthCm, ts: r.ts.getTime(), value: r.value })),
        ).toEqual(good.map((g) => ({ type: g.type, depthCm: g.depthCm, ts: g.ts, value: g.value })));
      }),
      { numRuns: runs(300) },
    );
  });
});

/** How deeply a parsed value nests arrays and objects (1 for `[]` or `{}`, 0 for a scalar), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d);
    for (const inner of Object.values(v)) stack.push([inner, d + 1]);
  }
  return deepest;
}

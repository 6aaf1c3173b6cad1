/**
 * The one rule for reading a time (src/time.ts): Sensoterra's times are UTC, so a time without an offset is UTC on
 * every host, and only real calendar times are times. The suite runs this file in Australia/Adelaide
 * (vitest.config.ts): the expected instants below are written out in UTC and must hold there.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant } from '../src/time.js';

const iso = (text: string, opts?: { dateOnly?: boolean }): string => {
  const parsed = parseInstant(text, opts);
  return parsed instanceof Date ? parsed.toISOString() : `refused: ${parsed.reason}`;
};

describe('a time', () => {
  const same: [string, string][] = [
    ['2024-07-08T10:05:00Z', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T10:05:00+00:00', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T10:05:00', '2024-07-08T10:05:00.000Z'], // no offset: UTC, not the host's zone
    ['2024-07-08 10:05:00', '2024-07-08T10:05:00.000Z'], // the space form too
    ['2024-07-08 10:05', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T10:05', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08t10:05:00z', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T10:05:00.123456789Z', '2024-07-08T10:05:00.123Z'], // fractions past milliseconds are cut, not rounded
    ['2024-07-08T10:05:00,5Z', '2024-07-08T10:05:00.500Z'],
    ['2024-07-08T19:35:00+09:30', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T19:35:00+0930', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08T05:05:00-05', '2024-07-08T10:05:00.000Z'],
    ['2024-07-09T00:05:00+14:00', '2024-07-08T10:05:00.000Z'], // Kiribati
    ['2024-07-07T22:05:00-12:00', '2024-07-08T10:05:00.000Z'],
    ['2024-07-08 00:30:00+01:00', '2024-07-07T23:30:00.000Z'], // an offset crossing midnight changes the day
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'], // a leap day
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000Z'], // divisible by 400: a leap year
  ];
  for (const [text, instant] of same) {
    it(`${text} is ${instant}`, () => expect(iso(text)).toBe(instant));
  }

  const refused: [string, RegExp][] = [
    ['2024-02-30T00:00:00Z', /is not a calendar date/], // no roll-over into March
    ['2023-02-29T00:00:00Z', /is not a calendar date/],
    ['1900-02-29T00:00:00Z', /is not a calendar date/],
    ['2024-13-01T00:00:00Z', /is not a calendar date/],
    ['2024-04-31T00:00:00Z', /is not a calendar date/],
    ['2024-07-08T24:00:00Z', /is not a time of day/],
    ['2024-07-08T10:60:00Z', /is not a time of day/],
    ['2024-07-08T10:05:60Z', /is not a time of day/],
    ['2024-07-08T10:05:00+24:00', /impossible UTC offset/],
    ['2024-07-08T10:05:00+23:59', /impossible UTC offset/], // the zones of the world lie within -12:00..+14:00
    ['2024-07-08T10:05:00-14:01', /impossible UTC offset/],
    ['1', /is not an ISO-8601 time/], // Date.parse reads this as the year 2001
    ['12345', /is not an ISO-8601 time/],
    ['2024-07-08', /has a date but no time of day/],
    ['Mon, 08 Jul 2024 10:05:00 GMT', /is not an ISO-8601 time/],
    ['2024/07/08 10:05', /is not an ISO-8601 time/],
    [' 2024-07-08T10:05:00Z', /is not an ISO-8601 time/],
    ['2024-07-08T10:05:00Z ', /is not an ISO-8601 time/],
    ['2024-07-08T10:05:00ZZ', /is not an ISO-8601 time/],
    ['+002024-07-08T10:05:00Z', /is not an ISO-8601 time/],
    ['2024-07-08T10:05:00.1234567890Z', /is not an ISO-8601 time/],
    ['', /is not an ISO-8601 time/],
  ];
  for (const [text, reason] of refused) {
    it(`${JSON.stringify(text)} is refused`, () => expect(iso(text)).toMatch(reason));
  }

  it('may be a date alone where the caller allows it: midnight UTC', () => {
    expect(iso('2024-07-08', { dateOnly: true })).toBe('2024-07-08T00:00:00.000Z');
    expect(iso('2024-02-30', { dateOnly: true })).toMatch(/is not a calendar date/);
  });

  it('quotes only the start of a long text in its reason', () => {
    const reason = iso('x'.repeat(100_000));
    expect(reason.length).toBeLessThan(150);
  });

  it('reads back every instant written as ISO-8601, with or without the Z, in T or space form', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (date) => {
          const text = date.toISOString();
          expect(iso(text)).toBe(text);
          expect(iso(text.slice(0, -1))).toBe(text);
          expect(iso(text.replace('T', ' '))).toBe(text);
        },
      ),
    );
  });

  it('agrees with the calendar JavaScript keeps: a date is refused exactly when it would roll over', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2400 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          const text = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:00:00Z`;
          const rolled = new Date(Date.UTC(y, m - 1, d, 12)).getUTCDate() !== d;
          expect(parseInstant(text) instanceof Date).toBe(!rolled);
        },
      ),
    );
  });
});

/**
 * The one rule for reading a time, used by every path: pushes, API answers (probe status, historic readings), the
 * command line's dates and the simulator. Sensoterra's times are UTC, so a time without an offset is UTC whatever
 * the host's zone; a time is ISO 8601 / RFC 3339 text with a real calendar date, never whatever `Date.parse`
 * happens to accept on this engine (it reads "2024-06-01 12:00" in the host's zone, rolls 2024-02-30 over into
 * March and takes "1" for the year 2001).
 *
 * Accepted:  2024-07-08T10:05:00Z   2024-07-08T10:05:00.123+02:00   2024-07-08 10:05   2024-07-08T10:05:00
 *            (the `T` or a space; seconds and up to 9 fraction digits optional; `Z`, `±HH:MM`, `±HHMM` or `±HH`)
 *            2024-07-08 (a date alone) only where a caller allows it: the command line's --from/--to.
 */

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
/** Longer text is not a timestamp, whatever it says: bounded work on untrusted input. */
const MAX_LENGTH = 40;

export interface ParseInstantOptions {
  /** Accept a date without a time (midnight UTC). */
  dateOnly?: boolean;
}

/** The instant a text names, or why it names none. */
export function parseInstant(text: string, opts: ParseInstantOptions = {}): Date | { reason: string } {
  const match = text.length <= MAX_LENGTH ? INSTANT.exec(text) : null;
  if (match === null) return { reason: `${quote(text)} is not an ISO-8601 time (such as 2024-07-08T10:05:00Z)` };
  const [, y, mo, d, h, mi, s, fraction, , sign, offH, offM] = match;
  if (h === undefined && !opts.dateOnly) return { reason: `${quote(text)} has a date but no time of day` };
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    return { reason: `${quote(text)} is not a calendar date` };
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return { reason: `${quote(text)} is not a time of day` };
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM ?? 0));
  // the zones of the world lie between -12:00 and +14:00
  if (Math.abs(offsetMinutes) > 14 * 60 || Number(offM ?? 0) > 59)
    return { reason: `${quote(text)} has an impossible UTC offset` };
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute - offsetMinutes, second, millis));
  // Date.UTC maps the years 0..99 to 1900..1999: setUTCFullYear does not
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A text quoted for a message, cut short: an error must not carry a megabyte of someone else's input. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

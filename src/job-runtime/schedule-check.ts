/**
 * Checks a cron pattern the way the worker will run it. BullMQ parses patterns with cron-parser and `cron` is our
 * validator; they agree on plain 5-field patterns built from digits, `*`, `,`, `-`, `/` and names, so only those
 * pass. That way a pattern that passes here is one BullMQ runs the same way.
 */
import { CronTime, validateCronExpression } from 'cron';

/** Sensoterra asks integrators not to poll more often than this. */
const MIN_POLL_INTERVAL_MS = 5 * 60_000;

const FIELD = /^[0-9A-Za-z*,/-]+$/;

export function checkTimeZone(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return 'expected an IANA time zone such as UTC, Europe/Amsterdam or America/Chicago';
  }
}

/** Returns what is wrong with the pattern, or undefined when it is fine. */
export function checkSchedule(pattern: string, tz: string, pollsApi: boolean): string | undefined {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `expected a 5-field cron pattern (minute hour day-of-month month day-of-week), got ${fields.length} fields`;
  }
  if (!fields.every((f) => FIELD.test(f)) || /[LW#?]/.test(pattern.replace(/[A-Za-z]{3}/g, ''))) {
    return 'use only digits, names (JAN, MON), *, ",", "-" and "/" in a cron pattern';
  }
  const verdict = validateCronExpression(pattern);
  if (!verdict.valid) return `not a valid cron pattern (${verdict.error?.message ?? 'unknown error'})`;
  if (pollsApi && checkTimeZone(tz) === undefined) {
    const gap = shortestGapMs(pattern, tz);
    if (gap < MIN_POLL_INTERVAL_MS) {
      return `runs every ${Math.round(gap / 60_000)} min at times; Sensoterra asks for at most one poll per 5 minutes (e.g. */5 * * * *)`;
    }
  }
  return undefined;
}

/**
 * The shortest time between two consecutive runs, from the minute and hour fields as `cron` expands them
 * (day, month and weekday fields only ever skip days, so they cannot make runs closer together).
 */
function shortestGapMs(pattern: string, tz: string): number {
  const [, minuteField, hourField] = new CronTime(pattern, tz).toJSON();
  const expand = (field: string | undefined, size: number): number[] =>
    field === undefined || field === '*' ? Array.from({ length: size }, (_, i) => i) : field.split(',').map(Number);
  const minutes = expand(minuteField, 60);
  const times = expand(hourField, 24)
    .flatMap((h) => minutes.map((m) => h * 60 + m))
    .sort((a, b) => a - b);
  let shortest = times[0]! + 24 * 60 - times[times.length - 1]!; // from the day's last run to the next day's first
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i]! - times[i - 1]!);
  return shortest * 60_000;
}

/**
 * The HTTP Push format. Sensoterra has not published it, so this is our assumption (shared/docs/sensoterra-api.md,
 * "HTTP Push"), and this module is the one place that knows it: when the real format is known, replace this file.
 *
 * A body is one uplink object or an array of them:
 *   {"serial": "...", "probe_id": 49205, "customer_id": 39, "timestamp": "...", "battery": "NORMAL", "rssi": -97,
 *    "readings": [{"type", "depth", "value", "unit", "timestamp"}]}
 * A reading without a timestamp takes its uplink's; each reading is judged by toReading (src/readings/reading.ts),
 * the rules every source shares. Unknown fields are kept: a reading's in its `extra`, an uplink's once, in
 * uplink_extras (not copied into each of its readings). Everything rejected is returned with the reason.
 *
 * Bounded work: the body is checked against PushLimits (nesting, string lengths, counts, unknown fields) before
 * and while it is read; over a limit, the whole body is refused (413) and kept verbatim. parsePush never throws.
 *
 * The receiver parses a body to answer the pusher; the writer parses the same text with the same receivedAt and
 * limits to store it: one function, the same input, so the two cannot disagree.
 */
import { errorMessage } from '../errors.js';
import {
  checkTimestamp,
  checkValue,
  extraFields,
  hasControlCharacters,
  shown,
  toReading,
  type Checked,
  type Reading,
  type ReadingOrigin,
} from '../readings/reading.js';
import {
  checkShape,
  nestsDeeperThan,
  SCAN_BEFORE_PARSE,
  tooDeep,
  type PushLimits,
  type ShapeProblem,
} from './limits.js';

export interface PushStatus {
  serial: string;
  lastUpdate: Date;
  battery: string | null;
  rssi: number | null;
}

/** The unknown fields of one uplink, kept once. */
export interface UplinkExtra {
  serial: string;
  uplinkTs: Date | null;
  extra: string;
}

export interface Rejection {
  reason: string;
  body: string; // the uplink or reading that was rejected, as JSON (the whole body when nothing could be read)
}

export interface Fatal {
  reason: string;
  /** 400: not JSON or not the push format; 413: over one of the limits (named in `limit`). */
  status: 400 | 413;
  limit?: ShapeProblem['limit'];
}

export interface ParsedPush {
  /** Set when the body cannot be read at all: the pusher gets `status` and the body is kept verbatim. */
  fatal?: Fatal;
  uplinks: number;
  readings: Reading[]; // the readings that can be stored
  statuses: PushStatus[];
  uplinkExtras: UplinkExtra[];
  rejected: Rejection[];
}

/** Past this many rejected parts, a push is kept once, whole, rather than part by part. */
export const MAX_REJECTED_PARTS = 100;
const SERIAL = /^[0-9A-Za-z][0-9A-Za-z_-]{0,31}$/;
const BATTERY = /^[A-Za-z_]{1,32}$/;
/** What a radio can report, in dBm, with room to spare. */
const MIN_RSSI = -200;
const MAX_RSSI = 50;
const UPLINK_FIELDS = new Set(['serial', 'probe_id', 'customer_id', 'timestamp', 'battery', 'rssi', 'readings']);
const READING_FIELDS = new Set(['type', 'depth', 'value', 'unit', 'timestamp']);

/** Thrown inside the parser only, to leave it at once; never escapes parsePush. */
class Refused {
  constructor(readonly fatal: Fatal) {}
}

export function parsePush(text: string, receivedAt: Date, limits: PushLimits): ParsedPush {
  try {
    return parseBody(text, receivedAt, limits);
  } catch (err) {
    if (err instanceof Refused) return refused(err.fatal);
    // a bug of ours, not the pusher's: the body is still kept verbatim, with what went wrong
    return refused({ reason: `the body could not be read (${errorMessage(err)})`, status: 400 });
  }
}

function parseBody(text: string, receivedAt: Date, limits: PushLimits): ParsedPush {
  if (text.length > SCAN_BEFORE_PARSE && nestsDeeperThan(text, limits.maxDepth)) return refused(tooDeep(limits));
  let body: unknown;
  try {
    body = JSON.parse(text); // V8 parses without recursion: any depth is safe here, and checked right after
  } catch (err) {
    return refused({ reason: `the body is not valid JSON (${errorMessage(err)})`, status: 400 });
  }
  const tooMuch = checkShape(body, limits);
  if (tooMuch)
    return refused(
      tooMuch.limit
        ? { reason: tooMuch.reason, status: 413, limit: tooMuch.limit }
        : { reason: tooMuch.reason, status: 400 },
    );
  const uplinks = Array.isArray(body) ? body : [body];
  if (uplinks.length === 0) return refused({ reason: 'the body is an empty array: no uplinks', status: 400 });
  if (uplinks.length > limits.maxUplinks) {
    return refused({
      reason: `the body holds ${uplinks.length} uplinks, more than PUSH_MAX_UPLINKS=${limits.maxUplinks}`,
      status: 413,
      limit: 'PUSH_MAX_UPLINKS',
    });
  }
  if (!uplinks.some(looksLikeUplink)) {
    return refused({
      reason:
        'the body is not the push format: expected an uplink object {"serial", "readings": [...]} or an array of them',
      status: 400,
    });
  }
  const out: ParsedPush = { uplinks: uplinks.length, readings: [], statuses: [], uplinkExtras: [], rejected: [] };
  const reader = new UplinkReader(receivedAt, limits, text.length, out);
  for (const uplink of uplinks) reader.read(uplink);
  // what is kept of a push never outgrows the push: many parts, or parts that JSON writes longer than they came
  // (9e20 is written 900000000000000000000), are kept as the one body, verbatim
  const keptBytes = out.rejected.reduce((n, r) => n + r.body.length, 0);
  if (out.rejected.length > MAX_REJECTED_PARTS || keptBytes > text.length) {
    out.rejected = [
      {
        reason: `${out.rejected.length} uplinks or readings rejected, the first: ${out.rejected[0]!.reason}`,
        body: text,
      },
    ];
  }
  return out;
}

function refused(fatal: Fatal): ParsedPush {
  return { fatal, uplinks: 0, readings: [], statuses: [], uplinkExtras: [], rejected: [] };
}

function looksLikeUplink(value: unknown): value is Record<string, unknown> & { readings: unknown[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray((value as { readings?: unknown }).readings)
  );
}

class UplinkReader {
  /** Timestamps already checked: the readings of an uplink, and often a whole body, share one. */
  private readonly times = new Map<unknown, Checked<Date>>();
  private readonly checkTime = (value: unknown): Checked<Date> => {
    let checked = this.times.get(value);
    if (checked === undefined) {
      checked = checkTimestamp(value, this.receivedAt.getTime());
      this.times.set(value, checked);
    }
    return checked;
  };

  /** Bytes of unknown fields kept so far: never more than the body itself. */
  private extraBytes = 0;

  constructor(
    private readonly receivedAt: Date,
    private readonly limits: PushLimits,
    private readonly bodyLength: number,
    private readonly out: ParsedPush,
  ) {}

  read(uplink: unknown): void {
    if (!looksLikeUplink(uplink)) return this.reject('uplink is not an object with a "readings" array', uplink);
    if (uplink.readings.length > this.limits.maxReadings) {
      throw new Refused({
        reason: `an uplink holds ${uplink.readings.length} readings, more than PUSH_MAX_READINGS=${this.limits.maxReadings}`,
        status: 413,
        limit: 'PUSH_MAX_READINGS',
      });
    }
    const serial = serialOf(uplink.serial);
    if (typeof serial !== 'string') return this.reject(`uplink has no serial: ${serial.reason}`, uplink);
    const uplinkTime =
      uplink.timestamp === undefined || uplink.timestamp === null ? undefined : this.checkTime(uplink.timestamp);
    const extra = this.extraOf(uplink, UPLINK_FIELDS, `uplink ${serial}`);
    if (extra !== null)
      this.out.uplinkExtras.push({ serial, uplinkTs: uplinkTime && 'ok' in uplinkTime ? uplinkTime.ok : null, extra });
    this.readStatus(uplink, serial, uplinkTime);
    const origin: ReadingOrigin = {
      serial,
      probeId: typeof uplink.probe_id === 'number' && Number.isSafeInteger(uplink.probe_id) ? uplink.probe_id : null,
      source: 'push',
      receivedAt: this.receivedAt,
      fallbackTimestamp: uplink.timestamp,
      checkTime: this.checkTime,
    };
    for (const raw of uplink.readings) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        this.reject(`${serial}: reading is not an object`, raw);
        continue;
      }
      const reading = toReading(
        raw,
        origin,
        this.extraOf(raw as Record<string, unknown>, READING_FIELDS, `a reading of ${serial}`),
      );
      if ('reason' in reading) this.reject(`${serial}: ${reading.reason}`, raw);
      else this.out.readings.push(reading);
    }
  }

  /** Battery and RSSI, dated by the uplink's timestamp: without a valid one they cannot be kept as status. */
  private readStatus(uplink: Record<string, unknown>, serial: string, uplinkTime: Checked<Date> | undefined): void {
    const { battery, rssi } = uplink;
    if ((battery === undefined || battery === null) && (rssi === undefined || rssi === null)) return;
    const part = (): unknown => ({ serial: uplink.serial, timestamp: uplink.timestamp, battery, rssi });
    if (uplinkTime === undefined) return this.reject(`${serial}: battery and rssi without an uplink timestamp`, part());
    if ('reason' in uplinkTime) return this.reject(`${serial}: battery and rssi: uplink ${uplinkTime.reason}`, part());
    if (battery !== undefined && battery !== null && (typeof battery !== 'string' || !BATTERY.test(battery))) {
      return this.reject(`${serial}: battery ${shown(battery)} is not a battery level (such as NORMAL)`, part());
    }
    const signal = rssi === undefined || rssi === null ? undefined : checkValue(rssi);
    if (signal && 'reason' in signal) return this.reject(`${serial}: rssi: ${signal.reason}`, part());
    if (signal && (signal.ok < MIN_RSSI || signal.ok > MAX_RSSI))
      return this.reject(`${serial}: rssi ${signal.ok} is outside ${MIN_RSSI}..${MAX_RSSI} dBm`, part());
    this.out.statuses.push({
      serial,
      lastUpdate: uplinkTime.ok,
      battery: typeof battery === 'string' ? battery : null,
      rssi: signal ? signal.ok : null,
    });
  }

  private extraOf(object: Record<string, unknown>, known: ReadonlySet<string>, what: string): string | null {
    const extra = extraFields(object, known);
    if (extra === null) return null;
    if (extra.length > this.limits.maxExtra) {
      throw new Refused({
        reason: `${what} has ${extra.length} bytes of unknown fields, more than PUSH_MAX_EXTRA=${this.limits.maxExtra}`,
        status: 413,
        limit: 'PUSH_MAX_EXTRA',
      });
    }
    this.extraBytes += extra.length;
    if (this.extraBytes > this.bodyLength) {
      throw new Refused({
        reason: `the unknown fields of the body take ${this.extraBytes} bytes as kept, more than the ${this.bodyLength} of the body itself (PUSH_MAX_EXTRA)`,
        status: 413,
        limit: 'PUSH_MAX_EXTRA',
      });
    }
    return extra;
  }

  private reject(reason: string, value: unknown): void {
    this.out.rejected.push({ reason, body: JSON.stringify(value) ?? String(value) });
  }
}

/** A serial as Sensoterra writes them (digits; letters, - and _ tolerated), at most 32 characters. */
function serialOf(value: unknown): string | { reason: string } {
  if (value === undefined || value === null || value === '') return { reason: 'serial is missing' };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && SERIAL.test(value)) return value;
  if (typeof value === 'string' && hasControlCharacters(value)) return { reason: 'serial holds control characters' };
  return { reason: `serial ${shown(value)} is not a Sensoterra serial (up to 32 letters, digits, - or _)` };
}

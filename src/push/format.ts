/**
 * The HTTP Push format. Sensoterra has not published it, so this is our assumption (shared/docs/sensoterra-api.md,
 * "HTTP Push"), and this module is the one place that knows it: when the real format is known, replace this file.
 *
 * A body is one uplink object or an array of them:
 *   {"serial": "...", "probe_id": 49205, "customer_id": 39, "timestamp": "...", "battery": "NORMAL", "rssi": -97,
 *    "readings": [{"type", "depth", "value", "unit", "timestamp"}]}
 * Unknown fields are kept (in the reading's `extra`). A reading without a timestamp takes its uplink's; one with
 * neither is rejected. Everything rejected is returned with the reason, never dropped silently.
 *
 * The receiver parses a body to answer the pusher; the writer parses the same body again (with the same
 * receivedAt) to store it, so the two always agree.
 */
import { checkDepth, checkTimestamp, checkValue, extraFields, typeFromUnit, type Reading } from '../readings/reading.js';

export interface PushStatus {
  serial: string;
  lastUpdate: Date;
  battery: string | null;
  rssi: number | null;
}

export interface Rejection {
  reason: string;
  body: string; // the uplink or reading that was rejected, as JSON (the whole body when nothing could be read)
}

export interface ParsedPush {
  /** Set when the body is not JSON or not the push format at all: the pusher gets a 400 and the body is kept. */
  fatal?: string;
  uplinks: number;
  accepted: number; // readings that can be stored
  readings: Reading[]; // those readings; left empty when parsing only to count (the receiver's answer)
  statuses: PushStatus[];
  rejected: Rejection[];
}

const UPLINK_FIELDS = ['serial', 'probe_id', 'customer_id', 'timestamp', 'battery', 'rssi', 'readings'] as const;
const READING_FIELDS = ['type', 'depth', 'value', 'unit', 'timestamp'] as const;

/**
 * `count` only counts what would be accepted and rejected, without building the readings: the receiver's answer
 * needs no more, on the hot path. The checks are the same either way.
 */
export function parsePush(text: string, receivedAt: Date, opts: { count?: boolean } = {}): ParsedPush {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return fatal(`the body is not valid JSON (${(err as Error).message})`);
  }
  const uplinks = Array.isArray(body) ? body : [body];
  if (uplinks.length === 0) return fatal('the body is an empty array: no uplinks');
  if (!uplinks.some(looksLikeUplink)) {
    return fatal('the body is not the push format: expected an uplink object {"serial", "readings": [...]} or an array of them');
  }
  const out: ParsedPush = { uplinks: uplinks.length, accepted: 0, readings: [], statuses: [], rejected: [] };
  const clock: Clock = { now: receivedAt.getTime(), receivedAt, seen: new Map(), count: opts.count === true };
  for (const uplink of uplinks) readUplink(uplink, clock, out);
  return out;
}

function fatal(reason: string): ParsedPush {
  return { fatal: reason, uplinks: 0, accepted: 0, readings: [], statuses: [], rejected: [] };
}

/** When the push arrived, and the timestamps already checked: the readings of an uplink share one. */
interface Clock {
  now: number;
  receivedAt: Date;
  seen: Map<unknown, ReturnType<typeof checkTimestamp>>;
  count: boolean;
}

function timestampOf(value: unknown, clock: Clock): ReturnType<typeof checkTimestamp> {
  let checked = clock.seen.get(value);
  if (checked === undefined) {
    checked = checkTimestamp(value, clock.now);
    clock.seen.set(value, checked);
  }
  return checked;
}

function looksLikeUplink(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Array.isArray((value as { readings?: unknown }).readings);
}

function readUplink(uplink: unknown, clock: Clock, out: ParsedPush): void {
  if (!looksLikeUplink(uplink)) return reject(out, 'uplink is not an object with a "readings" array', uplink);
  const serial = serialOf(uplink.serial);
  if (serial === undefined) return reject(out, 'uplink has no serial', uplink);
  const probeId = typeof uplink.probe_id === 'number' && Number.isInteger(uplink.probe_id) ? uplink.probe_id : null;
  const uplinkTime = uplink.timestamp === undefined || uplink.timestamp === null ? undefined : timestampOf(uplink.timestamp, clock);
  const uplinkExtra = clock.count ? null : extraFields(uplink, UPLINK_FIELDS);
  if (!clock.count && uplinkTime && 'ts' in uplinkTime && (uplink.battery !== undefined || uplink.rssi !== undefined)) {
    out.statuses.push({ serial, lastUpdate: uplinkTime.ts, battery: stringOrNull(uplink.battery), rssi: finiteOrNull(uplink.rssi) });
  }
  const ctx: UplinkContext = { serial, probeId, uplinkTimestamp: uplink.timestamp, uplinkExtra, clock };
  for (const reading of uplink.readings as unknown[]) {
    const problem = readReading(reading, ctx, out);
    if (problem !== undefined) reject(out, `${serial}: ${problem}`, reading);
  }
}

interface UplinkContext {
  serial: string;
  probeId: number | null;
  uplinkTimestamp: unknown;
  uplinkExtra: string | null;
  clock: Clock;
}

/** Adds the reading to `out`, or returns why it cannot be stored. */
function readReading(reading: unknown, ctx: UplinkContext, out: ParsedPush): string | undefined {
  if (typeof reading !== 'object' || reading === null || Array.isArray(reading)) return 'reading is not an object';
  const r = reading as Record<string, unknown>;
  const when = timestampOf(r.timestamp ?? ctx.uplinkTimestamp, ctx.clock);
  if ('reason' in when) return when.reason;
  const value = checkValue(r.value);
  if ('reason' in value) return value.reason;
  const depth = checkDepth(r.depth);
  if ('reason' in depth) return depth.reason;
  if (r.type !== undefined && r.type !== null && typeof r.type !== 'string') return 'type is not a string';
  out.accepted++;
  if (ctx.clock.count) return undefined;
  const unit = typeof r.unit === 'string' ? r.unit : null;
  out.readings.push({
    serial: ctx.serial,
    probeId: ctx.probeId,
    type: typeof r.type === 'string' && r.type !== '' ? r.type.toUpperCase() : typeFromUnit(unit),
    depthCm: depth.depthCm,
    ts: when.ts,
    value: value.value,
    unit,
    source: 'push',
    receivedAt: ctx.clock.receivedAt,
    extra: mergeExtra(extraFields(r, READING_FIELDS), ctx.uplinkExtra),
  });
  return undefined;
}

function mergeExtra(reading: string | null, uplink: string | null): string | null {
  if (uplink === null) return reading;
  return JSON.stringify({ ...(reading === null ? {} : (JSON.parse(reading) as object)), uplink: JSON.parse(uplink) as unknown });
}

function reject(out: ParsedPush, reason: string, value: unknown): void {
  out.rejected.push({ reason, body: JSON.stringify(value) ?? String(value) });
}

function serialOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return String(value);
  return undefined;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function finiteOrNull(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * From the API's probe to the rows a sync stages: the probe itself (stage_probes, in column order) and the
 * readings of its status.last_readings (source 'status').
 */
import type { Config } from '../config.js';
import type { Element } from '../sensoterra/paging.js';
import { probeTimeZone } from './time-zone.js';
import type { ApiProbe } from '../sensoterra/schemas.js';
import { extraFields, toReading, type Reading } from '../readings/reading.js';
import type { SkippedReadings } from '../readings/skipped.js';
import type { Cell } from '../warehouse/appender.js';

/** Sorted by depth, only the fields that define the calibration: a stable text for hashing and comparing. */
function soilProfileJson(profile: ApiProbe['soil_profile']): string | null {
  if (!profile) return null;
  const layers = profile.map((l) => ({ depth: l.depth, soil: l.soil })).sort((a, b) => a.depth - b.depth);
  return JSON.stringify(layers);
}

/** In stage_probes' column order (time_zone last: migration 0004 added it). */
export function probeStageRow(
  runId: string,
  { value: p, raw }: Element<ApiProbe>,
  timeZones: Config['timeZoneOverrides'],
): Cell[] {
  return [
    runId,
    p.serial,
    p.id,
    p.name ?? p.serial,
    p.sku,
    p.state,
    p.location_id,
    p.latitude,
    p.longitude,
    p.customer_id,
    p.interval,
    p.unit,
    p.dev_eui,
    soilProfileJson(p.soil_profile),
    p.status?.battery,
    p.status?.rssi,
    p.status?.connectivity,
    p.status?.last_update,
    JSON.stringify(raw),
    probeTimeZone(p, timeZones),
  ];
}

const STATUS_READING_FIELDS = new Set(['type', 'depth', 'value', 'unit', 'timestamp']);

/**
 * The readings of a probe's status.last_readings (source 'status'), judged by toReading like every reading; one
 * without a timestamp takes the probe's last_update. Those that cannot be stored go to `skipped` with the reason.
 */
export function statusReadings(
  { value: p, raw }: Element<ApiProbe>,
  receivedAt: Date,
  skipped: SkippedReadings,
): Reading[] {
  const readings: Reading[] = [];
  const status = (raw as { status?: { last_update?: unknown } } | null)?.status;
  const origin = {
    serial: p.serial,
    probeId: p.id,
    source: 'status',
    receivedAt,
    fallbackTimestamp: status?.last_update,
  } as const;
  for (const r of p.status?.last_readings ?? []) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      skipped.add(`${p.serial}: reading is not an object`);
      continue;
    }
    const reading = toReading(r, origin, extraFields(r as Record<string, unknown>, STATUS_READING_FIELDS));
    if ('reason' in reading) skipped.add(`${p.serial}: ${reading.reason}`);
    else readings.push(reading);
  }
  return readings;
}

/**
 * From the API's probe to the rows a sync stages: the probe itself (stage_probes, by column name) and the
 * readings of its status.last_readings (source 'status').
 */
import type { Config } from '../config.js';
import type { Element } from '../sensoterra/paging.js';
import { probeTimeZone } from './time-zone.js';
import type { ApiProbe } from '../sensoterra/schemas.js';
import { extraFields, toReading, type Reading } from '../readings/reading.js';
import type { SkippedReadings } from '../readings/skipped.js';
import type { StageRow } from '../warehouse/stage-tables.js';

/** Sorted by depth, only the fields that define the calibration: a stable text for hashing and comparing. */
function soilProfileJson(profile: ApiProbe['soil_profile']): string | null {
  if (!profile) return null;
  const layers = profile.map((l) => ({ depth: l.depth, soil: l.soil })).sort((a, b) => a.depth - b.depth);
  return JSON.stringify(layers);
}

export function probeStageRow(
  runId: string,
  { value: p, raw }: Element<ApiProbe>,
  timeZones: Config['timeZoneOverrides'],
): StageRow<'stage_probes'> {
  return {
    run_id: runId,
    serial: p.serial,
    probe_id: p.id,
    name: p.name ?? p.serial,
    sku: p.sku,
    state: p.state,
    location_id: p.location_id,
    latitude: p.latitude,
    longitude: p.longitude,
    customer_id: p.customer_id,
    interval_minutes: p.interval,
    unit: p.unit,
    dev_eui: p.dev_eui,
    soil_profile: soilProfileJson(p.soil_profile),
    battery: p.status?.battery,
    rssi: p.status?.rssi,
    connectivity: p.status?.connectivity,
    last_update: p.status?.last_update,
    raw: JSON.stringify(raw),
    time_zone: probeTimeZone(p, timeZones),
  };
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

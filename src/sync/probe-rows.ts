/**
 * From the API's probe to the rows a sync stages: the probe itself (stage_probes, in column order) and the
 * readings of its status.last_readings (source 'status').
 */
import type { Config } from '../config.js';
import type { Element } from '../sensoterra/paging.js';
import { probeTimeZone } from './time-zone.js';
import type { ApiProbe } from '../sensoterra/schemas.js';
import { checkDepth, checkTimestamp, extraFields, typeFromUnit, type Reading } from '../readings/reading.js';
import type { Cell } from '../warehouse/appender.js';

const KNOWN_READING_FIELDS = ['type', 'depth', 'value', 'unit', 'timestamp'] as const;

/** Sorted by depth, only the fields that define the calibration: a stable text for hashing and comparing. */
export function soilProfileJson(profile: ApiProbe['soil_profile']): string | null {
  if (!profile) return null;
  const layers = profile.map((l) => ({ depth: l.depth, soil: l.soil })).sort((a, b) => a.depth - b.depth);
  return JSON.stringify(layers);
}

/** In stage_probes' column order (time_zone last: migration 0004 added it). */
export function probeStageRow(runId: string, { value: p, raw }: Element<ApiProbe>, timeZones: Config['timeZoneOverrides']): Cell[] {
  return [
    runId, p.serial, p.id, p.name ?? p.serial, p.sku, p.state, p.location_id, p.latitude, p.longitude, p.customer_id,
    p.interval, p.unit, p.dev_eui, soilProfileJson(p.soil_profile),
    p.status?.battery, p.status?.rssi, p.status?.connectivity, p.status?.last_update, JSON.stringify(raw),
    probeTimeZone(p, timeZones),
  ];
}

export interface StatusReadings {
  readings: Reading[];
  skipped: string[]; // why a reading of the status could not be stored
}

/** A status reading without a timestamp takes the probe's last_update. */
export function statusReadings(p: ApiProbe, receivedAt: Date): StatusReadings {
  const out: StatusReadings = { readings: [], skipped: [] };
  const lastUpdate = p.status?.last_update ?? undefined;
  for (const r of p.status?.last_readings ?? []) {
    const when = checkTimestamp((r.timestamp ?? lastUpdate)?.toISOString(), receivedAt.getTime());
    const depth = checkDepth(r.depth);
    const problem = 'reason' in when ? when.reason : 'reason' in depth ? depth.reason : r.value == null ? 'value is missing' : undefined;
    if (problem !== undefined || 'reason' in when || 'reason' in depth) {
      out.skipped.push(`${p.serial}: ${problem}`);
      continue;
    }
    out.readings.push({
      serial: p.serial,
      probeId: p.id,
      type: r.type ?? typeFromUnit(r.unit),
      depthCm: depth.depthCm,
      ts: when.ts,
      value: r.value!,
      unit: r.unit ?? null,
      source: 'status',
      receivedAt,
      extra: extraFields(r as Record<string, unknown>, KNOWN_READING_FIELDS),
    });
  }
  return out;
}

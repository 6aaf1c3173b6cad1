/**
 * The shapes the API answers with, built from the account state and the reading model. GET /probe, the write routes
 * and Simulator.readings all use these, so a probe looks the same wherever it appears.
 *
 * An optional field without a value is left out, never sent as null (see "What the simulator sends" in index.ts):
 * the official Python client calls int() on `location_id` whenever the key is there, so a null would break its poll.
 */
import type { FixtureProbe } from './account.js';
import { sortedProfile } from './account-state.js';
import { UNIT, latestSlot, slotReadings, slotsBetween, intervalOf } from './readings.js';

export interface HistoricReading {
  timestamp: string;
  height: number | null;
  unit: string;
  value: number | string;
}

export function probeJson(probe: FixtureProbe, nowMs: number, seed: number): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: probe.id,
    serial: probe.serial,
    name: probe.name ?? probe.serial,
    sku: probe.sku ?? 'ST-MULTI-60',
    state: probe.state ?? 'ACTIVE',
  };
  // No value (absent or null in the state) = no key in the answer, as the service sends it.
  if (probe.location_id != null) json.location_id = probe.location_id;
  if (probe.latitude != null) json.latitude = probe.latitude;
  if (probe.longitude != null) json.longitude = probe.longitude;
  json.customer_id = probe.customer_id;
  json.interval = intervalOf(probe);
  json.unit = UNIT[probe.kind];
  json.dev_eui = devEui(probe.id);
  json.soil_profile = sortedProfile(probe.soil_profile);
  json.status = probeStatus(probe, nowMs, seed);
  return json;
}

/** A probe that has measured nothing yet has no `last_update` key and an empty `last_readings`. */
function probeStatus(probe: FixtureProbe, nowMs: number, seed: number): Record<string, unknown> {
  const slot = latestSlot(probe, nowMs);
  const status: Record<string, unknown> = {};
  if (slot !== null) status.last_update = offsetTimestamp(slot);
  status.battery = probe.battery ?? 'NORMAL';
  status.rssi = probe.rssi ?? -90;
  status.connectivity = probe.connectivity ?? 'GOOD';
  status.last_readings = slot === null ? [] : lastReadings(probe, slot, seed);
  return status;
}

/**
 * The latest slot's readings as status.last_readings shows them. Odd probe ids give their temperature reading a null
 * timestamp, as the live API sometimes does, so clients must fall back to last_update. The `timestamp` key is always
 * there (the Python client reads it with []); `depth` is left out for a reading without one, never null.
 */
function lastReadings(probe: FixtureProbe, slotMs: number, seed: number): Record<string, unknown>[] {
  const timestamp = offsetTimestamp(slotMs);
  return slotReadings(probe, slotMs, seed).map((r) =>
    r.depth === null
      ? { type: r.type, value: r.value, unit: r.unit, timestamp: probe.id % 2 === 1 ? null : timestamp }
      : { type: r.type, depth: r.depth, value: r.value, unit: r.unit, timestamp },
  );
}

/** Readings of slots in [fromMs, toMs) that exist by `nowMs`, as GET /probe/{id}/{from}/{to} answers them. */
export function* historicReadings(
  probe: FixtureProbe,
  fromMs: number,
  toMs: number,
  nowMs: number,
  seed: number,
): Generator<HistoricReading> {
  for (const slot of slotsBetween(probe, fromMs, toMs, nowMs)) {
    const timestamp = new Date(slot).toISOString();
    for (const r of slotReadings(probe, slot, seed)) {
      yield { timestamp, height: r.depth, unit: r.unit, value: r.value };
    }
  }
}

/** '2024-07-08T10:05:00+00:00', the style the contract shows for status timestamps (history uses '...000Z'). */
function offsetTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** A LoRaWAN-style 16-hex-digit EUI under a made-up vendor prefix, derived from the id so it is stable. */
function devEui(id: number): string {
  return `70B3D5${id.toString(16).toUpperCase().padStart(10, '0')}`;
}

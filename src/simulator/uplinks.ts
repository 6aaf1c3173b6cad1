/**
 * What Sensoterra would push: one uplink per probe per measurement, in time order, with the same values the API
 * shows (both come from readings.ts). The format is our assumption (sensoterra-api.md, "HTTP Push").
 */
import type { AccountFixture, FixtureProbe } from './account.js';
import { installedAtMs, intervalOf, minuteOffsetOf, slotAtOrAfter, slotReadings } from './readings.js';

export interface PushReading {
  type: string;
  depth?: number;
  value: number | string;
  unit: string;
  timestamp: string | null;
}

export interface Uplink {
  serial: string;
  probe_id: number;
  customer_id: number;
  timestamp: string;
  battery: string;
  rssi: number;
  readings: PushReading[];
}

export interface UplinkOptions {
  from: Date;
  to: Date;
  /** Only these probes; default every probe in the account. */
  serials?: string[];
  /** Must equal the simulator's seed for the values to agree with its API; default 1. */
  seed?: number;
}

/** Probes that measure at the same moments: same interval and minute offset. */
interface ScheduleGroup {
  periodMs: number;
  nextMs: number;
  probes: FixtureProbe[];
}

/**
 * Uplinks for every measurement slot in [from, to), oldest first; at one moment, by probe id. Lazy: a day of 100,000
 * probes is never held in memory at once. Probes are grouped by schedule, so each step costs one pass over the groups
 * (at most a few hundred) rather than over all probes.
 */
export function* uplinksFor(account: AccountFixture, opts: UplinkOptions): Generator<Uplink> {
  const seed = opts.seed ?? 1;
  const toMs = opts.to.getTime();
  const groups = scheduleGroups(account.probes, opts.serials, opts.from.getTime());
  for (;;) {
    const due = earliest(groups);
    const first = due[0];
    if (first === undefined || first.nextMs >= toMs) return;
    const slot = first.nextMs;
    const probes = due.length === 1 ? first.probes : due.flatMap((g) => g.probes).sort((a, b) => a.id - b.id);
    for (const probe of probes) {
      if (slot >= installedAtMs(probe)) yield uplinkOf(probe, slot, seed);
    }
    for (const group of due) group.nextMs += group.periodMs;
  }
}

function scheduleGroups(probes: FixtureProbe[], serials: string[] | undefined, fromMs: number): ScheduleGroup[] {
  const wanted = serials ? new Set(serials) : undefined;
  const groups = new Map<string, ScheduleGroup>();
  for (const probe of [...probes].sort((a, b) => a.id - b.id)) {
    if (wanted && !wanted.has(probe.serial)) continue;
    const key = `${intervalOf(probe)}:${minuteOffsetOf(probe)}`;
    let group = groups.get(key);
    if (!group) {
      group = { periodMs: intervalOf(probe) * 60_000, nextMs: slotAtOrAfter(probe, fromMs), probes: [] };
      groups.set(key, group);
    }
    group.probes.push(probe);
  }
  return [...groups.values()];
}

/** The groups whose next slot is the soonest (several when their schedules coincide). */
function earliest(groups: ScheduleGroup[]): ScheduleGroup[] {
  let due: ScheduleGroup[] = [];
  for (const group of groups) {
    const soonest = due[0];
    if (soonest === undefined || group.nextMs < soonest.nextMs) due = [group];
    else if (group.nextMs === soonest.nextMs) due.push(group);
  }
  return due;
}

/** The temperature reading's timestamp is null for odd probe ids, as in status.last_readings. */
function uplinkOf(probe: FixtureProbe, slotMs: number, seed: number): Uplink {
  const timestamp = new Date(slotMs).toISOString();
  return {
    serial: probe.serial,
    probe_id: probe.id,
    customer_id: probe.customer_id,
    timestamp,
    battery: probe.battery ?? 'NORMAL',
    rssi: probe.rssi ?? -90,
    readings: slotReadings(probe, slotMs, seed).map((r) =>
      r.depth === null
        ? { type: r.type, value: r.value, unit: r.unit, timestamp: probe.id % 2 === 1 ? null : timestamp }
        : { type: r.type, depth: r.depth, value: r.value, unit: r.unit, timestamp },
    ),
  };
}

/**
 * Reading values as a pure function of (seed, probe, type, depth, time).
 *
 * Nothing is stored: the historic endpoint, `status.last_readings` and the push sender all call this module, so they
 * agree on every value without sharing state, and an account of 100,000 probes costs no memory for its readings.
 *
 * The model, kept simple but plausible:
 * - Each probe measures every `interval` minutes at its own minute offset, from its installation on.
 * - Wetting events (rain or irrigation) happen on about a third of the days, decided by a hash of (seed, probe, day).
 *   Their effects add up and decay exponentially, so the soil dries between events. Deeper layers see an event later,
 *   weaker and spread out, and start wetter.
 * - Wetness (0..1) becomes volumetric moisture (%) through the soil calibration at that depth, or the Sensoterra
 *   Index (0..10) for SI probes, which does not depend on soil.
 * - Temperature follows the season and a daily swing peaking mid-afternoon.
 */
import type { FixtureProbe, SoilLayer } from './account.js';
import { hashInts, unit } from './random.js';
import { parseInstant } from '../time.js';

export type ReadingType = 'MOISTURE' | 'SI' | 'TEMPERATURE';

/** One reading of a measurement slot, before it is shaped for a particular endpoint. */
export interface SlotReading {
  type: ReadingType;
  depth: number | null;
  unit: string;
  value: number | string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DEFAULT_INSTALLED_AT = Date.UTC(2024, 0, 1);

export const UNIT: Record<ReadingType, string> = { MOISTURE: '%', SI: 'SI', TEMPERATURE: '°C' };

// ---- measurement slots ----

export function intervalOf(probe: FixtureProbe): number {
  return probe.interval ?? 60;
}

export function minuteOffsetOf(probe: FixtureProbe): number {
  return probe.minute_offset ?? probe.id % intervalOf(probe);
}

export function installedAtMs(probe: FixtureProbe): number {
  return probe.installed_at === undefined ? DEFAULT_INSTALLED_AT : fixtureTime(probe.installed_at);
}

/** The first slot at or after `ms` (ignoring installation). */
export function slotAtOrAfter(probe: FixtureProbe, ms: number): number {
  const period = intervalOf(probe) * MINUTE;
  const offset = minuteOffsetOf(probe) * MINUTE;
  return Math.ceil((ms - offset) / period) * period + offset;
}

/** The probe's latest measurement at or before `nowMs`, or null when it was not yet installed. */
export function latestSlot(probe: FixtureProbe, nowMs: number): number | null {
  const period = intervalOf(probe) * MINUTE;
  const offset = minuteOffsetOf(probe) * MINUTE;
  const slot = Math.floor((nowMs - offset) / period) * period + offset;
  return slot >= installedAtMs(probe) ? slot : null;
}

/** Slots in [fromMs, toMs) that are measured: after installation and not after `nowMs`. */
export function* slotsBetween(probe: FixtureProbe, fromMs: number, toMs: number, nowMs = Infinity): Generator<number> {
  const period = intervalOf(probe) * MINUTE;
  const end = Math.min(toMs, nowMs + 1);
  for (let slot = slotAtOrAfter(probe, Math.max(fromMs, installedAtMs(probe))); slot < end; slot += period) {
    yield slot;
  }
}

// ---- values ----

/** Every reading of one slot: one per depth (the probe's kind), then temperature without a depth. */
export function slotReadings(probe: FixtureProbe, slotMs: number, seed: number): SlotReading[] {
  const readings: SlotReading[] = [];
  for (const depth of [...probe.depths].sort((a, b) => a - b)) {
    readings.push({
      type: probe.kind,
      depth,
      unit: UNIT[probe.kind],
      value: wireValue(probe.kind, readingValue(probe, probe.kind, depth, slotMs, seed)),
    });
  }
  readings.push({
    type: 'TEMPERATURE',
    depth: null,
    unit: UNIT.TEMPERATURE,
    value: readingValue(probe, 'TEMPERATURE', null, slotMs, seed),
  });
  return readings;
}

/** SI values travel as numeric strings, as the live API sends them: clients must parse them tolerantly. */
function wireValue(type: ReadingType, value: number): number | string {
  return type === 'SI' ? value.toFixed(1) : value;
}

/** The value of one reading, rounded to one decimal as the service shows it. */
export function readingValue(
  probe: FixtureProbe,
  type: ReadingType,
  depth: number | null,
  atMs: number,
  seed: number,
): number {
  if (type === 'TEMPERATURE') return round1(temperature(probe.id, atMs, seed));
  const d = depth ?? probe.depths[0] ?? 15;
  const w = wetness(probe.id, d, atMs, seed);
  if (type === 'SI') return round1(w * 10);
  const range = soilRange(soilAt(probe, d, atMs));
  return round1(range.dry + w * (range.wet - range.dry));
}

/** Relative wetness 0 (wilting) .. 1 (saturated) of one layer. */
function wetness(probeId: number, depth: number, atMs: number, seed: number): number {
  const layer = depth / 15; // 1 at 15 cm, 4 at 60 cm
  const lag = layer * 3 * HOUR; // water takes hours to reach deeper sensors
  const rise = (1 + layer * 3) * HOUR; // and arrives spread out
  const decay = (1.2 + layer) * DAY; // deeper soil dries more slowly
  const reach = 0.8 - 0.1 * Math.min(layer, 5); // and gets less of each event
  let w = 0.22 + 0.06 * layer;
  const today = Math.floor(atMs / DAY);
  // Older events have decayed to nothing (e^-4 < 2 %), so looking four decay times back is enough.
  for (let day = today - Math.ceil((4 * decay) / DAY) - 1; day <= today; day++) {
    const event = wettingEvent(probeId, day, seed);
    const since = atMs - event.atMs - lag;
    if (event.amount === 0 || since <= 0) continue;
    w += event.amount * reach * (1 - Math.exp(-since / rise)) * Math.exp(-since / decay);
  }
  const noise = (unit(hashInts(seed, probeId, depth, Math.floor(atMs / MINUTE))) - 0.5) * (0.02 / layer);
  return Math.min(1, Math.max(0, w + noise));
}

/** Rain or irrigation on about a third of the days, at a random hour; amount 0 means a dry day. */
function wettingEvent(probeId: number, day: number, seed: number): { atMs: number; amount: number } {
  const h = hashInts(seed, probeId, day, 0x5e45);
  if (unit(h) >= 0.33) return { atMs: 0, amount: 0 };
  return { atMs: day * DAY + unit(hashInts(h, 1)) * DAY, amount: 0.15 + 0.4 * unit(hashInts(h, 2)) };
}

/** Soil temperature: about 3 °C in late January to 18 °C in late July, ±2.5 °C a day, peaking at 15:00 UTC. */
function temperature(probeId: number, atMs: number, seed: number): number {
  const dayOfYear = ((atMs / DAY) % 365.25) - 0.5; // close enough to the calendar for a season
  const season = 10.5 - 7.5 * Math.cos((2 * Math.PI * (dayOfYear - 20)) / 365.25);
  const hour = (atMs % DAY) / HOUR;
  const daily = 2.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
  const site = (unit(hashInts(seed, probeId, 0x7e3)) - 0.5) * 2;
  const noise = (unit(hashInts(seed, probeId, Math.floor(atMs / MINUTE), 0x7e4)) - 0.5) * 0.3;
  return season + daily + site + noise;
}

/** The calibration in force at `atMs`: an earlier one from soil_history, else the current profile. */
function soilProfileAt(probe: FixtureProbe, atMs: number): SoilLayer[] {
  for (const past of probe.soil_history ?? []) {
    if (atMs < fixtureTime(past.until)) return past.soil_profile;
  }
  return probe.soil_profile;
}

/** The soil at a depth is the last layer starting at or above it (the contract's rule). */
function soilAt(probe: FixtureProbe, depth: number, atMs: number): string | undefined {
  const profile = soilProfileAt(probe, atMs);
  let best: SoilLayer | undefined;
  for (const layer of profile) {
    if (layer.depth <= depth && (best === undefined || layer.depth >= best.depth)) best = layer;
  }
  // A profile starting below the sensor is a data error on the service; use its top layer rather than nothing.
  return (best ?? profile[0])?.soil;
}

const LOAM_RANGE = { dry: 12, wet: 36 };
/** Moisture % from just above wilting point to just above field capacity, per soil. Unknown soils act as loam. */
const SOIL_RANGES: Record<string, { dry: number; wet: number }> = {
  SAND: { dry: 4, wet: 18 },
  LOAMY_SAND: { dry: 6, wet: 22 },
  SANDY_LOAM: { dry: 8, wet: 28 },
  LOAM: LOAM_RANGE,
  SILT_LOAM: { dry: 12, wet: 38 },
  CLAY_LOAM: { dry: 18, wet: 42 },
  CLAY: { dry: 22, wet: 48 },
  PEAT: { dry: 30, wet: 65 },
};

function soilRange(soil: string | undefined): { dry: number; wet: number } {
  const known = soil !== undefined && Object.hasOwn(SOIL_RANGES, soil) ? SOIL_RANGES[soil] : undefined;
  return known ?? LOAM_RANGE;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A time written in a fixture, read by the project's one rule (UTC without an offset); NaN if it is none. */
function fixtureTime(text: string): number {
  const at = parseInstant(text, { dateOnly: true });
  return at instanceof Date ? at.getTime() : Number.NaN;
}

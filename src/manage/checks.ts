/**
 * What the management commands check before anything is sent to Sensoterra: arguments that cannot be right are
 * refused here, with the reason, instead of by the API halfway through a change.
 */
import { UsageError } from '../errors.js';
import type { SensoterraClient } from '../sensoterra/client.js';
import type { Element } from '../sensoterra/paging.js';
import type { ApiProbe } from '../sensoterra/schemas.js';

export interface SoilLayer {
  depth: number;
  soil: string;
}

/** `--soil 0=CLAY --soil 30=SAND`: the whole new profile, sorted by depth. */
export function parseSoilProfile(values: string[]): SoilLayer[] {
  const layers = values.map((value) => {
    const match = /^(\d{1,3})=([A-Za-z_]+)$/.exec(value.trim());
    if (!match) throw new UsageError(`--soil ${value}: expected DEPTH=SOIL, e.g. --soil 0=CLAY --soil 30=SAND`);
    return { depth: Number(match[1]), soil: match[2]!.toUpperCase() };
  });
  const depths = layers.map((l) => l.depth);
  if (new Set(depths).size !== depths.length)
    throw new UsageError(`--soil: a depth appears twice (${depths.join(', ')})`);
  return layers.sort((a, b) => a.depth - b.depth);
}

export function parseCoordinates(
  lat: string | undefined,
  lon: string | undefined,
): { latitude: number; longitude: number } | undefined {
  if (lat === undefined && lon === undefined) return undefined;
  if (lat === undefined || lon === undefined) throw new UsageError('--lat and --lon go together');
  const latitude = Number(lat);
  const longitude = Number(lon);
  if (lat.trim() === '' || !Number.isFinite(latitude) || Math.abs(latitude) > 90)
    throw new UsageError(`--lat ${lat}: expected a latitude from -90 to 90`);
  if (lon.trim() === '' || !Number.isFinite(longitude) || Math.abs(longitude) > 180)
    throw new UsageError(`--lon ${lon}: expected a longitude from -180 to 180`);
  return { latitude, longitude };
}

export function parseId(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} ${value}: expected a numeric id`);
  return Number(value);
}

export function checkSerialFormat(serial: string | undefined): string {
  if (serial === undefined || !/^\d{11}$/.test(serial))
    throw new UsageError(`serial ${serial ?? '(missing)'}: expected the probe's 11-digit serial, e.g. 24000092104`);
  return serial;
}

/** Every soil key of the current parameter list must exist (GET /parameter, type SOIL). */
export async function checkSoilKeys(api: SensoterraClient, profile: SoilLayer[]): Promise<void> {
  const keys = new Set<string>();
  for await (const batch of api.parameters())
    for (const { value } of batch) if (value.type.toUpperCase() === 'SOIL') keys.add(value.key);
  const unknown = profile.filter((l) => !keys.has(l.soil)).map((l) => l.soil);
  if (unknown.length > 0)
    throw new UsageError(
      `unknown soil ${unknown.join(', ')}: the current soil types are ${[...keys].sort().join(', ')}`,
    );
}

export async function checkLocation(api: SensoterraClient, locationId: number): Promise<void> {
  for await (const batch of api.locations()) if (batch.some((l) => l.value.id === locationId)) return;
  throw new UsageError(`unknown location ${locationId}: not one of the account's locations (GET /location)`);
}

export async function checkCustomer(api: SensoterraClient, customerId: number): Promise<void> {
  for await (const batch of api.customers()) if (batch.some((c) => c.value.id === customerId)) return;
  throw new UsageError(`unknown customer ${customerId}: not one of the reseller's customers (GET /customer)`);
}

/** The probe with this serial as the API has it now, or undefined. */
export async function findProbe(api: SensoterraClient, serial: string): Promise<Element<ApiProbe> | undefined> {
  for await (const page of api.probes()) {
    const found = page.find((p) => p.value.serial === serial);
    if (found) return found;
  }
  return undefined;
}

export async function requireProbe(api: SensoterraClient, serial: string): Promise<Element<ApiProbe>> {
  const probe = await findProbe(api, serial);
  if (!probe) throw new UsageError(`unknown serial ${serial}: no such probe in the account (GET /probe)`);
  return probe;
}

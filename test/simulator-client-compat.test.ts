/**
 * The simulator's GET /probe, /location and /parameter answers as two clients read them:
 * - the official Python client (`sensoterra` 2.x on PyPI, used by Home Assistant), whose reading of an answer is
 *   transcribed below from its sensoterra/customerapi.py and sensoterra/probe.py: which keys it takes with [] (a
 *   missing one is a KeyError), which with .get, and what it converts with int() / float() / fromisoformat();
 * - our own client's schema (src/sensoterra/schemas.ts), which must accept a missing key and a null alike.
 * One failure in the Python client fails its whole poll, so every probe of an account has to pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { probeSchema } from '../src/sensoterra/schemas.js';
import { Simulator, generateAccount, type AccountFixture } from '../src/simulator/index.js';
import { parseInstant } from '../src/time.js';

const NOW = new Date('2024-07-02T10:30:00Z');

// ---- the Python client, transcribed: each helper throws what Python would raise ----

type Json = Record<string, unknown>;

function key(obj: unknown, name: string): unknown {
  if (typeof obj !== 'object' || obj === null || !(name in obj)) throw new Error(`KeyError: '${name}'`);
  return (obj as Json)[name];
}

/** Python's int(): None is a TypeError, a non-integer text a ValueError. */
function pyInt(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  throw new Error(
    value === null
      ? "TypeError: int() argument must be a string or a number, not 'NoneType'"
      : `ValueError: int(${JSON.stringify(value)})`,
  );
}

/** Python's float(): a number or a numeric text. */
function pyFloat(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new Error(
    value === null
      ? "TypeError: float() argument must be a string or a real number, not 'NoneType'"
      : `ValueError: float(${JSON.stringify(value)})`,
  );
}

/** datetime.fromisoformat, close enough: an ISO-8601 text (None is a TypeError). */
function fromIsoFormat(value: unknown): Date {
  const parsed =
    typeof value === 'string' ? parseInstant(value) : { reason: 'TypeError: fromisoformat: argument must be str' };
  if (!(parsed instanceof Date)) throw new Error(parsed.reason);
  return parsed;
}

const BATTERY_LEVELS: Record<string, number> = { NORMAL: 100, FAIR: 50, POOR: 10 };

interface PySensor {
  id: string;
  depth: number | null;
  value: number;
  unit: unknown;
  timestamp: Date | null;
  soil: string | null;
}

interface PyProbe {
  serial: unknown;
  locationId: number | null;
  location: string | null;
  sensors: PySensor[];
}

/** Sensor.update: type, value, unit and timestamp with [] (timestamp may be None), depth only when present. */
function pySensor(id: string, reading: unknown, soil: string | null): PySensor {
  key(reading, 'type');
  const depth = 'depth' in (reading as Json) ? pyInt((reading as Json).depth) : null;
  const value = pyFloat(key(reading, 'value'));
  const unit = key(reading, 'unit');
  const ts = key(reading, 'timestamp');
  return { id, depth, value, unit, timestamp: ts === null ? null : fromIsoFormat(ts), soil };
}

/** CustomerApi.poll + Probe.update for one probe of GET /probe. */
function pythonReadsProbe(probe: unknown, soils: Map<unknown, unknown>, locations: Map<unknown, unknown>): PyProbe {
  const serial = key(probe, 'serial');
  for (const name of ['id', 'name', 'sku', 'state']) key(probe, name);
  const p = probe as Json;
  // latitude and longitude: .get, anything goes
  const locationId = 'location_id' in p ? pyInt(p.location_id) : null;
  const status = key(probe, 'status') as Json;
  const lastUpdate = status.last_update ?? null; // .get, then `is not None`
  if (lastUpdate !== null) fromIsoFormat(lastUpdate);
  const sensors: PySensor[] = [];
  if ('last_readings' in status) {
    for (const reading of status.last_readings as unknown[]) {
      const r = reading as Json;
      let id = `${String(serial)}-${String(key(r, 'type'))}`;
      if ('depth' in r) {
        if (typeof r.depth !== 'number')
          throw new Error(`TypeError: '>' not supported between ${typeof r.depth} and int`);
        if (r.depth > 0) id += `-${r.depth}`;
      }
      // __find_soil: the profile is taken for every reading, walked for a MOISTURE reading with a depth
      const profile = key(probe, 'soil_profile') as unknown[];
      let soil: string | null = null;
      if (r.type === 'MOISTURE' && 'depth' in r) {
        for (const layer of profile) {
          if ((key(layer, 'depth') as number) > (r.depth as number)) break;
          soil = (soils.get(key(layer, 'soil')) as string | undefined) ?? null;
        }
      }
      sensors.push(pySensor(id, r, soil));
    }
  }
  if ('battery' in status) {
    const level = BATTERY_LEVELS[String(status.battery)];
    if (level === undefined || typeof status.battery !== 'string')
      throw new Error(`KeyError: ${JSON.stringify(status.battery)}`);
    sensors.push(
      pySensor(`${String(serial)}-BATTERY`, { type: 'BATTERY', value: level, unit: '%', timestamp: lastUpdate }, null),
    );
  }
  if ('rssi' in status) {
    sensors.push(
      pySensor(
        `${String(serial)}-RSSI`,
        { type: 'RSSI', value: status.rssi, unit: 'dBm', timestamp: lastUpdate },
        null,
      ),
    );
  }
  return {
    serial,
    locationId,
    location: locationId === null ? null : ((locations.get(locationId) as string | undefined) ?? null),
    sensors,
  };
}

/** The whole poll: GET /probe, /parameter and /location as the client sends them, then every probe. */
async function pythonPoll(sim: Simulator, email: string, password: string): Promise<PyProbe[]> {
  const auth = (await (
    await fetch(`${sim.url}/customer/auth`, { method: 'POST', body: JSON.stringify({ email, password }) })
  ).json()) as Json;
  const headers = {
    api_key: String(key(auth, 'api_key')),
    language: 'en',
    'user-agent': 'Sensoterra Python API/2.0.1',
  };
  const get = async (path: string): Promise<unknown[]> => {
    const res = await fetch(`${sim.url}${path}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as unknown[];
  };
  const [probes, parameters, locations] = await Promise.all([
    get('/probe?include_shared_data=YES'),
    get('/parameter'),
    get('/location?include_shared_data=YES'),
  ]);
  const soils = new Map(
    parameters.filter((p) => key(p, 'type') === 'SOIL').map((p) => [key(p, 'key'), key(p, 'name')]),
  );
  const names = new Map(locations.map((l) => [key(l, 'id'), key(l, 'name')]));
  return probes.map((probe) => pythonReadsProbe(probe, soils, names));
}

// ---- tests ----

let sims: Simulator[] = [];

afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function start(account: AccountFixture): Promise<Simulator> {
  const sim = await Simulator.start({ account, now: NOW });
  sims.push(sim);
  return sim;
}

describe('the official Python client, transcribed', () => {
  it('fails on a probe with "location_id": null, as reported, and reads one without the key', () => {
    const probe = {
      id: 1,
      serial: '24000000001',
      name: 'x',
      sku: 'ST-MULTI-60',
      state: 'ACTIVE',
      soil_profile: [],
      status: { last_readings: [] },
    };
    expect(() => pythonReadsProbe({ ...probe, location_id: null }, new Map(), new Map())).toThrow(/TypeError: int\(\)/);
    expect(pythonReadsProbe(probe, new Map(), new Map())).toMatchObject({
      locationId: null,
      location: null,
      sensors: [],
    });
  });

  it('polls a generated account of 120 probes without an error, some of them without a location', async () => {
    const sim = await start(generateAccount({ seed: 5, probes: 120 }));
    const probes = await pythonPoll(sim, 'demo@sensoterra.example', 'demo-password');
    expect(probes).toHaveLength(120);
    expect(probes.filter((p) => p.locationId === null).length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.locationId !== null).every((p) => typeof p.location === 'string')).toBe(true);
  });

  it('reads a hand-made probe the way the contract describes: soils by depth, SI as numbers, temperature without a timestamp', async () => {
    const sim = await start({
      account: { id: 7, email: 'r@example.com', password: 'pw' },
      customers: [{ id: 100, name: 'Farm', email: 'farm@example.com' }],
      locations: [{ id: 10, name: 'North field', customer_id: 100 }],
      parameters: [
        { key: 'CLAY', type: 'SOIL', name: 'Clay' },
        { key: 'SAND', type: 'SOIL', name: 'Sand' },
      ],
      probes: [
        // probe 1 measures at hh:01, so at 10:30 its latest readings are from 10:01; odd id: temperature has no timestamp
        {
          id: 1,
          serial: '24000000001',
          customer_id: 100,
          location_id: 10,
          soil_profile: [
            { depth: 0, soil: 'CLAY' },
            { depth: 30, soil: 'SAND' },
          ],
          kind: 'MOISTURE',
          depths: [15, 30],
        },
        // probe 2 measures at hh:02; no location; an SI probe; installed after now: no readings yet
        {
          id: 2,
          serial: '24000000002',
          customer_id: 100,
          location_id: null,
          soil_profile: [{ depth: 0, soil: 'SAND' }],
          kind: 'SI',
          depths: [15],
          installed_at: '2024-07-03T00:00:00Z',
        },
        {
          id: 4,
          serial: '24000000004',
          customer_id: 100,
          soil_profile: [{ depth: 0, soil: 'SAND' }],
          kind: 'SI',
          depths: [15],
        },
      ],
    });
    const [first, notYet, si] = await pythonPoll(sim, 'r@example.com', 'pw');
    const at = new Date('2024-07-02T10:01:00Z');
    expect(first).toMatchObject({ serial: '24000000001', locationId: 10, location: 'North field' });
    expect(first!.sensors.map((s) => [s.id, s.depth, s.unit, s.timestamp, s.soil])).toEqual([
      ['24000000001-MOISTURE-15', 15, '%', at, 'Clay'],
      ['24000000001-MOISTURE-30', 30, '%', at, 'Sand'],
      ['24000000001-TEMPERATURE', null, '°C', null, null],
      ['24000000001-BATTERY', null, '%', at, null],
      ['24000000001-RSSI', null, 'dBm', at, null],
    ]);
    expect(notYet).toMatchObject({ serial: '24000000002', locationId: null, location: null });
    expect(notYet!.sensors.map((s) => [s.id, s.timestamp])).toEqual([
      ['24000000002-BATTERY', null],
      ['24000000002-RSSI', null],
    ]);
    const siReading = si?.sensors[0];
    expect(siReading).toMatchObject({ id: '24000000004-SI-15', depth: 15, unit: 'SI' });
    expect(siReading!.value).toBeGreaterThanOrEqual(0);
    expect(siReading!.value).toBeLessThanOrEqual(10);
  });
});

describe('our own client schema', () => {
  it('accepts a probe with null location fields and one without the keys, alike', () => {
    const withNulls = probeSchema.parse({
      id: 49207,
      serial: '24000092106',
      location_id: null,
      latitude: null,
      longitude: null,
      status: { last_update: null },
    });
    const without = probeSchema.parse({ id: 49207, serial: '24000092106', status: {} });
    expect([withNulls.location_id, withNulls.latitude, withNulls.longitude, withNulls.status?.last_update]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect([without.location_id, without.latitude, without.longitude, without.status?.last_update]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(probeSchema.parse({ id: '12', serial: '24000092104', location_id: '12', latitude: '52.356' })).toMatchObject(
      { id: 12, location_id: 12, latitude: 52.356 },
    );
  });

  it('accepts every probe the simulator sends for a generated account', async () => {
    const sim = await start(generateAccount({ seed: 5, probes: 120 }));
    const auth = (await (
      await fetch(`${sim.url}/customer/auth`, {
        method: 'POST',
        body: JSON.stringify({ email: 'demo@sensoterra.example', password: 'demo-password' }),
      })
    ).json()) as { api_key: string };
    const probes = (await (
      await fetch(`${sim.url}/probe?include_shared_data=YES`, { headers: { api_key: auth.api_key } })
    ).json()) as unknown[];
    const parsed = probes.map((p) => probeSchema.parse(p));
    expect(parsed).toHaveLength(120);
    expect(parsed.some((p) => p.location_id === undefined)).toBe(true);
  });
});

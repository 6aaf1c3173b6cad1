/**
 * The Sensoterra simulator, as a client sees it over real HTTP.
 *
 * Expected values are worked out by hand from FIXTURE below, not recomputed with the simulator's own code. The clock
 * is fixed at NOW. A probe measures every `interval` minutes (default 60) at minute `id % interval`, so probe 1
 * measures at hh:01, probe 2 (every 15 min) at hh:02, hh:17, hh:32 and hh:47, and probe 3 at hh:03.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Simulator,
  generateAccount,
  sendPushes,
  uplinksFor,
  type AccountFixture,
  type Uplink,
} from '../src/simulator/index.js';
import { liveUplinks } from '../src/cli/commands/simulate.js';

const NOW = new Date('2024-07-02T10:30:00Z');
const EMAIL = 'reseller@example.com';
const PASSWORD = 'correct horse';

const FIXTURE: AccountFixture = {
  account: { id: 7, email: EMAIL, password: PASSWORD, role: 'RESELLER' },
  customers: [
    { id: 100, name: 'Dijkstra Farms', email: 'dijkstra@example.com' },
    { id: 200, name: 'Finca Sol', email: 'sol@example.com' },
  ],
  locations: [
    { id: 10, name: 'North field', customer_id: 100, code: 'N' },
    { id: 20, name: 'Olive grove', customer_id: 200 },
  ],
  parameters: [
    { key: 'CLAY', type: 'SOIL', name: 'Clay', names: { nl: 'Klei', es: 'Arcilla' } },
    { key: 'SAND', type: 'SOIL', name: 'Sand', names: { nl: 'Zand', es: 'Arena' } },
    { key: 'TEMPERATURE', type: 'READING', name: 'Soil temperature' },
  ],
  probes: [
    // Listed out of order on purpose: the API sorts by id.
    {
      id: 2,
      serial: '24000000002',
      customer_id: 100,
      soil_profile: [{ depth: 0, soil: 'SAND' }],
      kind: 'SI',
      depths: [15],
      interval: 15,
    },
    {
      id: 1,
      serial: '24000000001',
      name: 'North 1',
      customer_id: 100,
      location_id: 10,
      latitude: 52.1,
      longitude: 5.1,
      soil_profile: [
        { depth: 30, soil: 'SAND' },
        { depth: 0, soil: 'CLAY' },
      ],
      kind: 'MOISTURE',
      depths: [15, 30, 45, 60],
    },
    {
      id: 3,
      serial: '24000000003',
      name: 'Olive 1',
      customer_id: 200,
      location_id: 20,
      soil_profile: [{ depth: 0, soil: 'CLAY' }],
      kind: 'MOISTURE',
      depths: [30],
      installed_at: '2024-07-01T12:00:00Z',
    },
    {
      id: 4,
      serial: '24000000004',
      name: 'North 2',
      customer_id: 100,
      soil_profile: [{ depth: 0, soil: 'SAND' }],
      kind: 'MOISTURE',
      depths: [10, 20],
    },
    {
      id: 5,
      serial: '24000000005',
      name: 'Olive 2',
      customer_id: 200,
      soil_profile: [{ depth: 0, soil: 'CLAY' }],
      kind: 'SI',
      depths: [15, 30],
    },
  ],
};

// Moisture % ranges of the calibrations, from the simulator's documented soil table.
const CLAY_RANGE = [22, 48] as const;
const SAND_RANGE = [4, 18] as const;

let sim: Simulator;

beforeEach(async () => {
  sim = await Simulator.start({ account: FIXTURE, now: NOW });
});

afterEach(async () => {
  await sim.close();
});

// ---- small helpers ----

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function call(
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; rawBody?: string; language?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key !== undefined) headers.api_key = opts.key;
  if (opts.language !== undefined) headers.language = opts.language;
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const res = await fetch(sim.url + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function login(): Promise<string> {
  const answer = await call('POST', '/customer/auth', { body: { email: EMAIL, password: PASSWORD } });
  expect(answer.status).toBe(200);
  return answer.json.api_key as string;
}

async function probeIds(key: string, query = ''): Promise<number[]> {
  const answer = await call('GET', `/probe${query}`, { key });
  expect(answer.status).toBe(200);
  return (answer.json as { id: number }[]).map((p) => p.id);
}

async function probeJson(key: string, id: number): Promise<any> {
  const answer = await call('GET', '/probe', { key });
  return (answer.json as { id: number }[]).find((p) => p.id === id);
}

// ---- logging in ----

describe('logging in', () => {
  it('gives an api_key that opens the other routes', async () => {
    const answer = await call('POST', '/customer/auth', { body: { email: EMAIL, password: PASSWORD } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: 7, email: EMAIL, role: 'RESELLER' });
    expect(typeof answer.json.api_key).toBe('string');
    expect((await call('GET', '/customer', { key: answer.json.api_key })).status).toBe(200);
  });

  it('refuses a wrong password with 401 and a message', async () => {
    const answer = await call('POST', '/customer/auth', { body: { email: EMAIL, password: 'wrong' } });
    expect(answer.status).toBe(401);
    expect(answer.json.message).toMatch(/invalid email or password/);
  });

  it('answers 401 to a missing or unknown api_key', async () => {
    expect((await call('GET', '/probe')).status).toBe(401);
    const answer = await call('GET', '/probe', { key: 'not-a-key' });
    expect(answer.status).toBe(401);
    expect(answer.json.message).toMatch(/api_key/);
  });

  it('answers 403 once keys are expired, and a fresh login works again', async () => {
    const key = await login();
    sim.expireKeys();
    const answer = await call('GET', '/probe', { key });
    expect(answer.status).toBe(403);
    expect(answer.json.message).toMatch(/expired/);
    expect((await call('GET', '/probe', { key: await login() })).status).toBe(200);
  });

  it('answers 403 when a login key is older than 30 minutes of simulated time', async () => {
    const key = await login();
    sim.setNow(new Date(NOW.getTime() + 29 * 60_000));
    expect((await call('GET', '/probe', { key })).status).toBe(200);
    sim.setNow(new Date(NOW.getTime() + 31 * 60_000));
    expect((await call('GET', '/probe', { key })).status).toBe(403);
  });
});

// ---- lists ----

describe('GET /probe', () => {
  it('answers every probe, sorted by id, when no limit is given', async () => {
    expect(await probeIds(await login())).toEqual([1, 2, 3, 4, 5]);
  });

  it('pages with limit and skip, the last page being short', async () => {
    const key = await login();
    expect(await probeIds(key, '?limit=2&skip=0')).toEqual([1, 2]);
    expect(await probeIds(key, '?limit=2&skip=2')).toEqual([3, 4]);
    expect(await probeIds(key, '?limit=2&skip=4')).toEqual([5]);
    expect(await probeIds(key, '?limit=2&skip=6')).toEqual([]);
    const pages = sim.requests.filter((r) => r.path === '/probe').map((r) => [r.query.skip, r.status]);
    expect(pages).toEqual([
      ['0', 200],
      ['2', 200],
      ['4', 200],
      ['6', 200],
    ]);
  });

  it('answers the whole list whatever limit says when ignoreLimit is on', async () => {
    const key = await login();
    sim.ignoreLimit = true;
    expect(await probeIds(key, '?limit=2&skip=2')).toEqual([1, 2, 3, 4, 5]);
  });

  it('filters by customer', async () => {
    const key = await login();
    expect(await probeIds(key, '?customer=200')).toEqual([3, 5]);
    expect(await probeIds(key, '?customer=100&limit=2&skip=2')).toEqual([4]);
  });

  it('refuses a limit that is not a number', async () => {
    expect((await call('GET', '/probe?limit=ten', { key: await login() })).status).toBe(400);
  });

  it('shows a probe the way the contract describes it', async () => {
    const probe = await probeJson(await login(), 1);
    expect(probe).toMatchObject({
      id: 1,
      serial: '24000000001',
      name: 'North 1',
      sku: 'ST-MULTI-60',
      state: 'ACTIVE',
      location_id: 10,
      latitude: 52.1,
      longitude: 5.1,
      customer_id: 100,
      interval: 60,
      unit: '%',
      soil_profile: [
        { depth: 0, soil: 'CLAY' },
        { depth: 30, soil: 'SAND' },
      ],
    });
    // 10:30 now, measuring at hh:01: the latest measurement is 10:01.
    expect(probe.status).toMatchObject({
      last_update: '2024-07-02T10:01:00+00:00',
      battery: 'NORMAL',
      connectivity: 'GOOD',
    });
    const readings = probe.status.last_readings;
    expect(readings.map((r: { type: string; depth?: number }) => [r.type, r.depth])).toEqual([
      ['MOISTURE', 15],
      ['MOISTURE', 30],
      ['MOISTURE', 45],
      ['MOISTURE', 60],
      ['TEMPERATURE', undefined],
    ]);
    expect(readings[0].timestamp).toBe('2024-07-02T10:01:00+00:00');
    expect(readings[4].timestamp).toBeNull(); // odd ids: the temperature reading has no timestamp
    // 15 cm lies in the CLAY layer (0..30), 30 cm and deeper in the SAND layer.
    expect(readings[0].value).toBeGreaterThanOrEqual(CLAY_RANGE[0]);
    expect(readings[0].value).toBeLessThanOrEqual(CLAY_RANGE[1]);
    for (const deeper of readings.slice(1, 4)) {
      expect(deeper.value).toBeGreaterThanOrEqual(SAND_RANGE[0]);
      expect(deeper.value).toBeLessThanOrEqual(SAND_RANGE[1]);
    }
  });

  it('defaults the name to the serial, sends SI values as numeric strings and omits absent coordinates', async () => {
    const probe = await probeJson(await login(), 2);
    expect(probe).toMatchObject({ name: '24000000002', unit: 'SI', interval: 15 });
    expect(probe).not.toHaveProperty('latitude');
    expect(probe.status.last_update).toBe('2024-07-02T10:17:00+00:00');
    const [si, temperature] = probe.status.last_readings;
    expect(si).toMatchObject({ type: 'SI', depth: 15, unit: 'SI' });
    expect(si.value).toMatch(/^\d+\.\d$/);
    expect(Number(si.value)).toBeGreaterThanOrEqual(0);
    expect(Number(si.value)).toBeLessThanOrEqual(10);
    expect(temperature).toMatchObject({ type: 'TEMPERATURE', unit: '°C', timestamp: '2024-07-02T10:17:00+00:00' });
    expect(temperature.value).toBeGreaterThan(5);
    expect(temperature.value).toBeLessThan(30);
  });

  it('shows no readings, and no last_update key, for a probe installed after now', async () => {
    sim.setNow(new Date('2024-07-01T11:00:00Z')); // probe 3 is installed at 12:00
    const probe = await probeJson(await login(), 3);
    expect(probe.status).toEqual({ battery: 'NORMAL', rssi: -90, connectivity: 'GOOD', last_readings: [] });
    expect('last_update' in probe.status).toBe(false);
  });

  // The official Python client calls int() on location_id whenever the key is there: a probe without a location
  // must have no such key (nor coordinates), not a null.
  it('leaves location_id, latitude and longitude out for a probe without a location', async () => {
    const answer = await call('GET', '/probe', { key: await login() });
    const byId = new Map((answer.json as { id: number }[]).map((p) => [p.id, p as Record<string, unknown>]));
    expect(byId.get(1)).toMatchObject({ location_id: 10, latitude: 52.1, longitude: 5.1 });
    expect(byId.get(3)).toMatchObject({ location_id: 20 });
    expect('latitude' in byId.get(3)!).toBe(false);
    for (const id of [2, 4, 5]) {
      const probe = byId.get(id)!;
      expect(['location_id' in probe, 'latitude' in probe, 'longitude' in probe]).toEqual([false, false, false]);
    }
    expect(answer.text).not.toMatch(/"(location_id|latitude|longitude|last_update)":null/);
  });

  it('leaves them out too when a hand-written fixture says null', async () => {
    const withNulls: AccountFixture = {
      ...FIXTURE,
      probes: [
        {
          id: 8,
          serial: '24000000008',
          customer_id: 100,
          location_id: null,
          latitude: null,
          longitude: null,
          soil_profile: [{ depth: 0, soil: 'SAND' }],
          kind: 'MOISTURE',
          depths: [15],
        },
      ],
    };
    const other = await Simulator.start({ account: withNulls, now: NOW });
    try {
      const key = (
        (await (
          await fetch(`${other.url}/customer/auth`, {
            method: 'POST',
            body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
          })
        ).json()) as { api_key: string }
      ).api_key;
      const [probe] = (await (await fetch(`${other.url}/probe`, { headers: { api_key: key } })).json()) as Record<
        string,
        unknown
      >[];
      expect(probe).toMatchObject({ id: 8, serial: '24000000008' });
      expect(['location_id' in probe!, 'latitude' in probe!, 'longitude' in probe!]).toEqual([false, false, false]);
    } finally {
      await other.close();
    }
  });

  it('leaves them out for the probes of a generated account that have no location', async () => {
    const generated = await Simulator.start({ account: generateAccount({ seed: 5, probes: 120 }), now: NOW });
    try {
      const key = (
        (await (
          await fetch(`${generated.url}/customer/auth`, {
            method: 'POST',
            body: JSON.stringify({ email: 'demo@sensoterra.example', password: 'demo-password' }),
          })
        ).json()) as { api_key: string }
      ).api_key;
      const res = await fetch(`${generated.url}/probe`, { headers: { api_key: key } });
      const text = await res.text();
      const probes = JSON.parse(text) as Record<string, unknown>[];
      expect(probes).toHaveLength(120);
      const without = probes.filter((p) => !('location_id' in p));
      expect(without.length).toBeGreaterThan(0); // about one in ten
      for (const probe of without) expect(['latitude' in probe, 'longitude' in probe]).toEqual([false, false]);
      // Null appears only where the service sends it: a temperature reading's timestamp.
      expect(text.match(/"[a-z_]+":null/g)?.every((m) => m === '"timestamp":null')).toBe(true);
      expect(generated.account.probes.some((p) => p.location_id === null)).toBe(false);
    } finally {
      await generated.close();
    }
  });

  it('accepts include_shared_data YES or NO (the same list: nothing is shared with this account) and refuses other values', async () => {
    const key = await login();
    expect(await probeIds(key, '?include_shared_data=YES')).toEqual([1, 2, 3, 4, 5]);
    expect(await probeIds(key, '?include_shared_data=NO')).toEqual([1, 2, 3, 4, 5]);
    const bad = await call('GET', '/probe?include_shared_data=true', { key });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('include_shared_data must be YES or NO, got "true"');
    expect((await call('GET', '/location?include_shared_data=NO', { key })).json).toEqual(FIXTURE.locations);
    expect((await call('GET', '/location?include_shared_data=yes', { key })).status).toBe(400);
  });
});

describe('GET /location, /customer and /parameter', () => {
  it('lists locations and customers', async () => {
    const key = await login();
    expect((await call('GET', '/location', { key })).json).toEqual(FIXTURE.locations);
    expect((await call('GET', '/customer', { key })).json).toEqual(FIXTURE.customers);
  });

  it('names parameters in the language asked for, falling back to English', async () => {
    const key = await login();
    const names = async (language?: string): Promise<string[]> =>
      ((await call('GET', '/parameter', { key, language })).json as { name: string }[]).map((p) => p.name);
    expect(await names()).toEqual(['Clay', 'Sand', 'Soil temperature']);
    expect(await names('nl')).toEqual(['Klei', 'Zand', 'Soil temperature']);
    expect(await names('es')).toEqual(['Arcilla', 'Arena', 'Soil temperature']);
    expect(await names('en-us')).toEqual(['Clay', 'Sand', 'Soil temperature']);
    expect((await call('GET', '/parameter', { key })).json[0]).toEqual({ key: 'CLAY', name: 'Clay', type: 'SOIL' });
  });
});

// ---- history and the reading model ----

describe('GET /probe/{id}/{from}/{to}', () => {
  const day = (from: string, to: string): string => `/${from}/${to}`;
  const JULY_1 = day('2024-07-01T00:00:00.000Z', '2024-07-02T00:00:00.000Z');

  it('answers one reading per depth plus temperature for every measurement in a 24 h window', async () => {
    const key = await login();
    // probe 1: 24 hourly slots x (4 depths + temperature)
    expect((await call('GET', `/probe/1${JULY_1}`, { key })).json).toHaveLength(24 * 5);
    // probe 2: every 15 minutes = 96 slots x (1 depth + temperature)
    expect((await call('GET', `/probe/2${JULY_1}`, { key })).json).toHaveLength(96 * 2);
    // probe 3: installed at 12:00, so 12:03 .. 23:03 = 12 slots x 2
    expect((await call('GET', `/probe/3${JULY_1}`, { key })).json).toHaveLength(12 * 2);
    // today until now (10:30): 00:01 .. 10:01 = 11 slots x 5
    expect(
      (await call('GET', `/probe/1${day('2024-07-02T00:00:00.000Z', '2024-07-03T00:00:00.000Z')}`, { key })).json,
    ).toHaveLength(11 * 5);
  });

  it('gives each reading a timestamp, a height (null for temperature), a unit and a value', async () => {
    const answer = await call('GET', `/probe/1${day('2024-07-01T00:00:00.000Z', '2024-07-01T01:00:00.000Z')}`, {
      key: await login(),
    });
    expect(
      answer.json.map((r: { timestamp: string; height: number | null; unit: string }) => [
        r.timestamp,
        r.height,
        r.unit,
      ]),
    ).toEqual([
      ['2024-07-01T00:01:00.000Z', 15, '%'],
      ['2024-07-01T00:01:00.000Z', 30, '%'],
      ['2024-07-01T00:01:00.000Z', 45, '%'],
      ['2024-07-01T00:01:00.000Z', 60, '%'],
      ['2024-07-01T00:01:00.000Z', null, '°C'],
    ]);
  });

  it('answers 404 for an unknown probe and 400 for dates that are not dates', async () => {
    const key = await login();
    expect((await call('GET', `/probe/999${JULY_1}`, { key })).status).toBe(404);
    const bad = await call('GET', '/probe/1/yesterday/2024-07-02T00:00:00.000Z', { key });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^from: "yesterday" is not an ISO-8601 time/);
    // Date.parse would roll 30 February over into March; the project's time rule refuses it.
    const february = await call('GET', '/probe/1/2024-07-01T00:00:00Z/2024-02-30T00:00:00Z', { key });
    expect(february.status).toBe(400);
    expect(february.json.message).toBe('to: "2024-02-30T00:00:00Z" is not a calendar date');
  });

  it('reads from/to without an offset as UTC, whatever the host zone, and a date alone as its midnight UTC', async () => {
    const key = await login();
    // One hour of probe 1 (hh:01): the 00:01 slot only, 5 readings, whichever way the hour is written.
    for (const [from, to] of [
      ['2024-07-01T00:00:00.000Z', '2024-07-01T01:00:00.000Z'],
      ['2024-07-01T00:00:00', '2024-07-01T01:00:00'],
      ['2024-07-01T02:00:00+02:00', '2024-07-01T03:00:00+02:00'],
    ] as const) {
      const answer = await call('GET', `/probe/1/${encodeURIComponent(from)}/${encodeURIComponent(to)}`, { key });
      expect(answer.json.map((r: { timestamp: string }) => r.timestamp)).toEqual(
        Array(5).fill('2024-07-01T00:01:00.000Z'),
      );
    }
    expect((await call('GET', '/probe/1/2024-07-01/2024-07-02', { key })).json).toHaveLength(24 * 5);
  });

  it('agrees with status.last_readings and with the uplinks the push sender would send', async () => {
    const probe = await probeJson(await login(), 1);
    const at = new Date('2024-07-02T10:01:00Z'); // probe 1's latest slot, from the hand computation above
    const history = sim.readings('24000000001', at, new Date(at.getTime() + 60_000));
    const uplinks = [
      ...uplinksFor(sim.account, { from: at, to: new Date(at.getTime() + 60_000), serials: ['24000000001'] }),
    ];
    expect(uplinks).toHaveLength(1);
    const fromHistory = history.map((r) => [r.height, r.value]);
    const fromStatus = probe.status.last_readings.map((r: { depth?: number; value: unknown }) => [
      r.depth ?? null,
      r.value,
    ]);
    const fromPush = uplinks[0]!.readings.map((r) => [r.depth ?? null, r.value]);
    expect(fromHistory).toHaveLength(5);
    expect(fromStatus).toEqual(fromHistory);
    expect(fromPush).toEqual(fromHistory);
  });

  it('makes deeper layers change more slowly than the top one', async () => {
    // A week of probe 1: the 60 cm sensor sits in the same SAND as 30 cm but is buffered by the soil above it.
    const week = sim.readings('24000000001', new Date('2024-06-24T00:00:00Z'), new Date('2024-07-01T00:00:00Z'));
    const swing = (height: number): number => {
      const values = week.filter((r) => r.height === height).map((r) => r.value as number);
      return Math.max(...values) - Math.min(...values);
    };
    expect(swing(60)).toBeLessThan(swing(30));
  });
});

// ---- faults ----

describe('faults on demand', () => {
  it('answers a chosen status with Retry-After, once, and leaves the login alone', async () => {
    sim.addFault({ kind: 'status', status: 429, retryAfterS: 7 });
    const key = await login(); // not affected by a fault without an explicit path
    const limited = await call('GET', '/probe', { key });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.json.message).toMatch(/429/);
    expect((await call('GET', '/probe', { key })).status).toBe(200);
  });

  it('applies a fault only to requests matching `when`, as many times as asked', async () => {
    const key = await login();
    sim.addFault({ kind: 'status', status: 503, times: 2, when: { path: '/probe', minSkip: 2 } });
    expect((await call('GET', '/probe?limit=2&skip=0', { key })).status).toBe(200);
    expect((await call('GET', '/location', { key })).status).toBe(200);
    expect((await call('GET', '/probe?limit=2&skip=2', { key })).status).toBe(503);
    expect((await call('GET', '/probe?limit=2&skip=4', { key })).status).toBe(503);
    expect((await call('GET', '/probe?limit=2&skip=4', { key })).status).toBe(200);
  });

  it('delays an answer', async () => {
    const key = await login();
    sim.addFault({ kind: 'slow', delayMs: 300 });
    const started = Date.now();
    expect((await call('GET', '/customer', { key })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('sends a 200 whose body is not valid JSON', async () => {
    const key = await login();
    sim.addFault({ kind: 'malformed' });
    const answer = await call('GET', '/probe', { key });
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it('resets the connection without an answer, and logs the request with status 0', async () => {
    const key = await login();
    sim.addFault({ kind: 'reset', when: { method: 'GET' } });
    await expect(call('GET', '/probe', { key })).rejects.toThrow();
    expect(sim.requests.at(-1)).toMatchObject({ method: 'GET', path: '/probe', status: 0 });
    expect((await call('GET', '/probe', { key })).status).toBe(200);
  });
});

// ---- changes ----

describe('changes on demand show up in GET /probe', () => {
  it('rename, move, transfer and a new status', async () => {
    const key = await login();
    sim.renameProbe('24000000001', 'North 1 (moved)');
    sim.moveProbe('24000000001', { location_id: null, latitude: 52.2, longitude: 5.2 });
    sim.transferProbe('24000000001', 200);
    sim.setStatus('24000000001', { battery: 'POOR', rssi: -118, connectivity: 'POOR' });
    const probe = await probeJson(key, 1);
    expect(probe).toMatchObject({ name: 'North 1 (moved)', latitude: 52.2, longitude: 5.2, customer_id: 200 });
    expect('location_id' in probe).toBe(false); // moved out of its location: the key goes
    expect(probe.status).toMatchObject({ battery: 'POOR', rssi: -118, connectivity: 'POOR' });
    expect(await probeIds(key, '?customer=200')).toEqual([1, 3, 5]);
  });

  it('recalibration changes later readings but never earlier ones', async () => {
    const yesterday = [new Date('2024-07-01T00:00:00Z'), new Date('2024-07-02T00:00:00Z')] as const;
    const before = sim.readings('24000000004', ...yesterday);
    sim.recalibrateProbe('24000000004', [{ depth: 0, soil: 'CLAY' }]);
    expect(sim.readings('24000000004', ...yesterday)).toEqual(before);
    sim.setNow(new Date(NOW.getTime() + 2 * 3_600_000));
    const probe = await probeJson(await login(), 4); // two hours on, an earlier login key would have expired
    expect(probe.soil_profile).toEqual([{ depth: 0, soil: 'CLAY' }]);
    // Was SAND (4..18 %), now CLAY (22..48 %): the new measurement is in the clay range.
    expect(probe.status.last_readings[0].value).toBeGreaterThanOrEqual(CLAY_RANGE[0]);
  });

  it('remove hides a probe everywhere, restore brings it back, add registers a new one', async () => {
    const key = await login();
    sim.removeProbe('24000000002');
    expect(await probeIds(key)).toEqual([1, 3, 4, 5]);
    expect((await call('GET', '/probe/2/2024-07-01T00:00:00.000Z/2024-07-02T00:00:00.000Z', { key })).status).toBe(404);
    sim.restoreProbe('24000000002');
    sim.addProbe({
      id: 9,
      serial: '24000000009',
      customer_id: 200,
      soil_profile: [{ depth: 0, soil: 'SAND' }],
      kind: 'MOISTURE',
      depths: [15],
    });
    expect(await probeIds(key)).toEqual([1, 2, 3, 4, 5, 9]);
  });

  it('throws for an unknown serial, customer or location', () => {
    expect(() => sim.renameProbe('00000000000', 'x')).toThrow(/unknown probe/);
    expect(() => sim.transferProbe('24000000001', 999)).toThrow(/unknown customer 999/);
    expect(() => sim.moveProbe('24000000001', { location_id: 999 })).toThrow(/unknown location 999/);
  });

  it('adds, renames and removes parameters', async () => {
    const key = await login();
    sim.addParameter({ key: 'PEAT', type: 'SOIL', name: 'Peat' });
    sim.renameParameter('CLAY', 'Heavy clay');
    sim.removeParameter('TEMPERATURE');
    const answer = await call('GET', '/parameter', { key, language: 'nl' });
    expect(answer.json).toEqual([
      { key: 'CLAY', name: 'Heavy clay', type: 'SOIL' }, // a rename drops the old translations
      { key: 'SAND', name: 'Zand', type: 'SOIL' },
      { key: 'PEAT', name: 'Peat', type: 'SOIL' },
    ]);
  });

  it('never changes the fixture it was started with', () => {
    sim.renameProbe('24000000001', 'changed');
    expect(FIXTURE.probes[1]!.name).toBe('North 1');
  });
});

// ---- write routes ----

describe('write routes validate like the real service', () => {
  it('PUT /probe/{id} updates name, soil and coordinates', async () => {
    const key = await login();
    const answer = await call('PUT', '/probe/1', {
      key,
      body: { name: 'Renamed', latitude: 52.3, soil_profile: [{ depth: 0, soil: 'SAND' }] },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      id: 1,
      name: 'Renamed',
      latitude: 52.3,
      longitude: 5.1,
      soil_profile: [{ depth: 0, soil: 'SAND' }],
    });
  });

  it('PUT /probe/{id} with nulls clears the location and coordinates: the keys go, in the answer and in GET /probe', async () => {
    const key = await login();
    const answer = await call('PUT', '/probe/1', { key, body: { location_id: null, latitude: null, longitude: null } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: 1, name: 'North 1', customer_id: 100 });
    expect(['location_id' in answer.json, 'latitude' in answer.json, 'longitude' in answer.json]).toEqual([
      false,
      false,
      false,
    ]);
    const listed = await probeJson(key, 1);
    expect(['location_id' in listed, 'latitude' in listed, 'longitude' in listed]).toEqual([false, false, false]);
    expect(sim.account.probes.find((p) => p.id === 1)).not.toHaveProperty('location_id');
    // Given again, they come back.
    const back = await call('PUT', '/probe/1', { key, body: { location_id: 10, latitude: 52.1 } });
    expect(back.json).toMatchObject({ location_id: 10, latitude: 52.1 });
    expect('longitude' in back.json).toBe(false);
  });

  it('PUT /probe/{id} refuses an unknown soil, a latitude out of range and an unknown location', async () => {
    const key = await login();
    const soil = await call('PUT', '/probe/1', { key, body: { soil_profile: [{ depth: 0, soil: 'MUD' }] } });
    expect(soil.status).toBe(400);
    expect(soil.json.message).toMatch(/unknown soil "MUD"/);
    const latitude = await call('PUT', '/probe/1', { key, body: { latitude: 123 } });
    expect(latitude.status).toBe(400);
    expect(latitude.json.message).toMatch(/latitude must be a number between -90 and 90/);
    const location = await call('PUT', '/probe/1', { key, body: { location_id: 999 } });
    expect(location.status).toBe(400);
    expect(location.json.message).toMatch(/location_id 999/);
    expect((await probeJson(key, 1)).name).toBe('North 1'); // nothing changed
  });

  it('PUT /probe/{id}/transfer moves a probe to an existing customer only', async () => {
    const key = await login();
    const unknown = await call('PUT', '/probe/1/transfer', {
      key,
      body: { to_customer_id: 999, keep_sensordata: true },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toMatch(/unknown customer 999/);
    const moved = await call('PUT', '/probe/1/transfer', { key, body: { to_customer_id: 200, keep_sensordata: true } });
    expect(moved.status).toBe(200);
    expect(moved.json.customer_id).toBe(200);
  });

  it('POST /probe registers an 11-digit serial once', async () => {
    const key = await login();
    expect((await call('POST', '/probe', { key, body: { serial: '123' } })).json.message).toMatch(/11 digits/);
    expect((await call('POST', '/probe', { key, body: { serial: '24000000001' } })).status).toBe(409);
    const created = await call('POST', '/probe', {
      key,
      body: { serial: '24000000099', customer_id: 200, location_id: 20, soil_profile: [{ depth: 0, soil: 'CLAY' }] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 6,
      serial: '24000000099',
      name: '24000000099',
      customer_id: 200,
      location_id: 20,
    });
    expect(await probeIds(key)).toEqual([1, 2, 3, 4, 5, 6]);
    // Without a location (left out or null) the answer has no such keys.
    const bare = await call('POST', '/probe', { key, body: { serial: '24000000098', location_id: null } });
    expect(bare.status).toBe(201);
    expect(bare.json).toMatchObject({ id: 7, serial: '24000000098', customer_id: 7 });
    expect(['location_id' in bare.json, 'latitude' in bare.json, 'longitude' in bare.json]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('POST /customer creates a customer under the reseller', async () => {
    const key = await login();
    const created = await call('POST', '/customer', { key, body: { name: 'New Grower', email: 'new@example.com' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: 201, name: 'New Grower', email: 'new@example.com' });
    expect((await call('POST', '/customer', { key, body: { name: 'Again', email: 'new@example.com' } })).status).toBe(
      409,
    );
    expect((await call('POST', '/customer', { key, body: { name: 'No mail' } })).status).toBe(400);
  });

  it('answers 400 to a body that is not JSON and 404 to an unknown route', async () => {
    const key = await login();
    expect((await call('PUT', '/probe/1', { key, rawBody: '{"name": ' })).status).toBe(400);
    const unknown = await call('GET', '/nothing-here', { key });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/no route/);
  });
});

describe('long-lived tokens from POST /token', () => {
  async function token(scope: string, expiration = '2024-12-31T00:00:00+00:00'): Promise<Answer> {
    return call('POST', '/token', { key: await login(), body: { tag: 'dashboard', scope, expiration } });
  }

  it('are HS256 JWTs whose sub is the account id and exp the expiration in seconds', async () => {
    const answer = await token('READONLY');
    expect(answer.status).toBe(200);
    const [header, payload] = (answer.json.token as string)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'HS256' });
    expect(payload).toMatchObject({
      sub: '7',
      scope: 'READONLY',
      tag: 'dashboard',
      exp: Date.parse('2024-12-31T00:00:00Z') / 1000,
    });
  });

  it('READONLY may read but not write, and the refusal says why', async () => {
    const readOnly = (await token('READONLY')).json.token as string;
    expect((await call('GET', '/probe', { key: readOnly })).status).toBe(200);
    const refused = await call('PUT', '/probe/1', { key: readOnly, body: { name: 'x' } });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/READONLY/);
    const readWrite = (await token('READWRITE')).json.token as string;
    expect((await call('PUT', '/probe/1', { key: readWrite, body: { name: 'x' } })).status).toBe(200);
  });

  it('answer 403 after their expiration and 401 when forged; an expiration needs an offset', async () => {
    const readOnly = (await token('READONLY')).json.token as string;
    sim.setNow(new Date('2025-01-01T00:00:00Z'));
    expect((await call('GET', '/probe', { key: readOnly })).status).toBe(403);
    expect((await call('GET', '/probe', { key: `${readOnly.slice(0, -4)}AAAA` })).status).toBe(401);
    sim.setNow(NOW);
    const local = await token('READONLY', '2024-12-31T00:00:00');
    expect(local.status).toBe(400);
    expect(local.json.message).toMatch(/"2024-12-31T00:00:00" has no UTC offset/);
    const impossible = await token('READONLY', '2024-11-31T00:00:00+00:00');
    expect(impossible.status).toBe(400);
    expect(impossible.json.message).toMatch(/is not a calendar date/);
  });

  it('take the expiration the way the Python client writes it, astimezone().isoformat() with any offset', async () => {
    const answer = await token('READONLY', '2024-12-31T01:00:00.250000+01:00');
    expect(answer.status).toBe(200);
    const payload = JSON.parse(Buffer.from((answer.json.token as string).split('.')[1]!, 'base64url').toString());
    expect(payload.exp).toBe(Date.parse('2024-12-31T00:00:00Z') / 1000);
  });
});

// ---- control routes ----

describe('control routes under /_sim, for trying things by hand', () => {
  const control = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(new URL(path, sim.url), {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
  };

  it('show the state, queue faults, make changes and expire keys, without an api_key', async () => {
    expect((await control('GET', '/_sim/state')).json).toMatchObject({
      now: NOW.toISOString(),
      probes: 5,
      customers: 2,
      locations: 2,
    });
    const key = await login();
    expect(
      (await control('POST', '/_sim/faults', { kind: 'status', status: 502, when: { path: '/location' } })).status,
    ).toBe(201);
    expect((await call('GET', '/location', { key })).status).toBe(502);
    expect(
      (await control('POST', '/_sim/change', { action: 'rename', serial: '24000000001', name: 'By hand' })).status,
    ).toBe(200);
    expect((await probeJson(key, 1)).name).toBe('By hand');
    const unknown = await control('POST', '/_sim/change', { action: 'remove', serial: '00000000000' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toMatch(/unknown probe/);
    await control('POST', '/_sim/expire-keys');
    expect((await call('GET', '/probe', { key })).status).toBe(403);
    expect(sim.requests.some((r) => r.path.startsWith('/_sim'))).toBe(false); // only API calls are logged
  });

  it('set the clock from an ISO time (UTC without an offset) and refuse one that is not a time', async () => {
    expect((await control('POST', '/_sim/settings', { now: '2024-07-03 08:15' })).json).toMatchObject({
      now: '2024-07-03T08:15:00.000Z',
      clock: 'fixed',
    });
    expect((await control('POST', '/_sim/settings', { now: '2024-07-04' })).json).toMatchObject({
      now: '2024-07-04T00:00:00.000Z',
    });
    const bad = await control('POST', '/_sim/settings', { now: '1' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^now must be an ISO-8601 date-time .*: "1" is not an ISO-8601 time/);
    expect((await control('POST', '/_sim/settings', { now: 12 })).status).toBe(400);
    expect(sim.now().toISOString()).toBe('2024-07-04T00:00:00.000Z'); // the refusals changed nothing
  });
});

// ---- push ----

describe('the push sender', () => {
  interface Received {
    auth: string | undefined;
    signatureValid: boolean;
    body: unknown;
  }

  async function receiver(
    answer: (body: unknown) => number,
  ): Promise<{ url: string; received: Received[]; server: Server }> {
    const received: Received[] = [];
    const server = createServer((req, res) => void take(req, res));
    async function take(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(createHmac('sha256', 'hmac-key').update(raw).digest('hex'));
      const given = Buffer.from(String(req.headers['x-signature'] ?? ''));
      const body: unknown = JSON.parse(raw.toString());
      received.push({
        auth: req.headers['x-push-secret'] as string | undefined,
        signatureValid: given.length === expected.length && timingSafeEqual(given, expected),
        body,
      });
      res.writeHead(answer(body)).end();
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`, received, server };
  }

  const JULY_1 = { from: new Date('2024-07-01T00:00:00Z'), to: new Date('2024-07-02T00:00:00Z') };

  it('makes one uplink per probe per slot, in time order', () => {
    const uplinks = [...uplinksFor(FIXTURE, { ...JULY_1, serials: ['24000000001', '24000000002'] })];
    expect(uplinks).toHaveLength(24 + 96);
    expect(uplinks.slice(0, 3).map((u) => [u.timestamp, u.probe_id])).toEqual([
      ['2024-07-01T00:01:00.000Z', 1],
      ['2024-07-01T00:02:00.000Z', 2],
      ['2024-07-01T00:17:00.000Z', 2],
    ]);
    const times = uplinks.map((u) => Date.parse(u.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(uplinks[0]!.readings.map((r) => [r.type, r.depth])).toEqual([
      ['MOISTURE', 15],
      ['MOISTURE', 30],
      ['MOISTURE', 45],
      ['MOISTURE', 60],
      ['TEMPERATURE', undefined],
    ]);
  });

  it('posts every uplink with the secret and a valid HMAC, and counts the answers by status', async () => {
    // The receiver refuses probe 2's uplinks, to show that statuses are reported, not retried.
    const { url, received, server } = await receiver((body) => ((body as Uplink).serial === '24000000002' ? 503 : 202));
    try {
      const result = await sendPushes(uplinksFor(FIXTURE, { ...JULY_1, serials: ['24000000001', '24000000002'] }), {
        url,
        authHeader: 'X-Push-Secret',
        secret: 's3cret',
        hmacSecret: 'hmac-key',
        concurrency: 4,
      });
      expect(result).toEqual({
        requests: 120,
        uplinks: 120,
        readings: 24 * 5 + 96 * 2,
        statuses: { 202: 24, 503: 96 },
        errors: 0,
      });
      expect(received).toHaveLength(120);
      expect(received.every((r) => r.auth === 's3cret' && r.signatureValid)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('sends arrays when asked for several uplinks per request, and counts a refused connection as an error', async () => {
    const { url, received, server } = await receiver(() => 200);
    try {
      const uplinks = uplinksFor(FIXTURE, { ...JULY_1, serials: ['24000000001'] });
      const result = await sendPushes(uplinks, { url, uplinksPerRequest: 10, hmacSecret: 'hmac-key' });
      expect(result).toMatchObject({ requests: 3, uplinks: 24, statuses: { 200: 3 } });
      expect(received.map((r) => (r.body as unknown[]).length)).toEqual(expect.arrayContaining([10, 10, 4]));
    } finally {
      server.close();
    }
    const nobody = await sendPushes(uplinksFor(FIXTURE, { ...JULY_1, serials: ['24000000001'] }), {
      url,
      uplinksPerRequest: 24,
    });
    expect(nobody).toMatchObject({ requests: 1, errors: 1, statuses: {} });
  });
});

// ---- scale ----

describe('`simulate --seed N --push-to`', () => {
  it('pushes the values its API answers, whatever the seed', async () => {
    const seeded = await Simulator.start({ account: generateAccount({ seed: 7, probes: 3 }), seed: 7, now: NOW });
    try {
      const from = new Date('2024-07-02T00:00:00Z');
      const to = new Date('2024-07-02T06:00:00Z');
      const pushed = [...liveUplinks(seeded, from, to)];
      expect(pushed.length).toBeGreaterThan(0);
      for (const uplink of pushed) {
        const at = new Date(uplink.timestamp);
        const answered = seeded.readings(uplink.serial, at, new Date(at.getTime() + 60_000));
        expect(uplink.readings.map((r) => [r.depth ?? null, r.value])).toEqual(
          answered.map((r) => [r.height, r.value]),
        );
      }
      // the default seed computes other values: the comparison above can tell
      const unseeded = [...uplinksFor(seeded.account, { from, to })];
      expect(unseeded.map((u) => u.readings)).not.toEqual(pushed.map((u) => u.readings));
    } finally {
      await seeded.close();
    }
  });
});

describe('a generated account of 100,000 probes', () => {
  it(
    'is built quickly with 11-digit unique serials, and GET /probe streams all of it',
    { timeout: 30_000 },
    async () => {
      const big = await Simulator.start({ account: generateAccount({ seed: 42, probes: 100_000 }), now: NOW });
      try {
        expect(big.account.probes).toHaveLength(100_000);
        expect(new Set(big.account.probes.map((p) => p.serial)).size).toBe(100_000);
        expect(big.account.probes.every((p) => /^\d{11}$/.test(p.serial))).toBe(true);
        const { api_key } = (await (
          await fetch(`${big.url}/customer/auth`, {
            method: 'POST',
            body: JSON.stringify({ email: 'demo@sensoterra.example', password: 'demo-password' }),
          })
        ).json()) as { api_key: string };

        const heapBefore = process.memoryUsage().heapUsed;
        const res = await request(`${big.url}/probe`, { headers: { api_key } });
        expect(res.statusCode).toBe(200);
        expect(res.headers['transfer-encoding']).toBe('chunked'); // written as it is produced, no content-length
        let peakHeap = heapBefore;
        let probes = 0;
        let tail = '';
        for await (const chunk of res.body) {
          // Count probes without building the ~75 MB answer: one "serial" key per probe.
          const text = tail + (chunk as Buffer).toString('utf8');
          probes += text.split('"serial":').length - 1;
          tail = text.slice(-8);
          peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        }
        expect(probes).toBe(100_000);
        // Streamed, the server holds one 64 KB chunk at a time (about 10 MB of garbage was seen). Built as one string,
        // the answer alone would take ~75 MB, plus every probe object at once.
        expect(peakHeap - heapBefore).toBeLessThan(100 * 1024 * 1024);
      } finally {
        await big.close();
      }
    },
  );
});

/** The Sensoterra client: long-lived tokens, streaming list bodies, and what it tells the user. */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/service/load-config.js';
import { createLogger } from '../src/logger.js';
import { SensoterraClient, warnIfTokenExpiring } from '../src/sensoterra/client.js';
import { retryAfterSeconds } from '../src/sensoterra/http.js';
import { JsonArraySplitter, jsonArrayBatches } from '../src/sensoterra/json-array-stream.js';
import { generateAccount, Simulator } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { FAST_RETRIES } from './helpers/pulls.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function tokenFromSimulator(s: Simulator, expiration: string): Promise<string> {
  const login = await fetch(`${s.url}/customer/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: s.account.account.email, password: s.account.account.password }),
  });
  const { api_key } = (await login.json()) as { api_key: string };
  const res = await fetch(`${s.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', api_key },
    body: JSON.stringify({ tag: 'warehouse', scope: 'READONLY', expiration }),
  });
  return ((await res.json()) as { token: string }).token;
}

function tokenClient(s: Simulator, token: string): SensoterraClient {
  const config = loadConfig({ SENSOTERRA_API_URL: s.url, SENSOTERRA_TOKEN: token, SENSOTERRA_RATE_LIMIT: '1000' });
  return new SensoterraClient(config, createLogger('silent'), { retry: FAST_RETRIES });
}

describe('a long-lived token', () => {
  it('is sent as the api_key, with no login', async () => {
    sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const client = tokenClient(sim, await tokenFromSimulator(sim, '2024-12-31T00:00:00+00:00'));
    sim.clearRequests();
    const serials: string[] = [];
    for await (const page of client.probes()) serials.push(...page.map((p) => p.value.serial));
    await client.close();
    expect(serials).toEqual(['24000092104', '24000092105', '24000092106']);
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /probe']);
  });

  it('that has expired fails clearly at the first 403, without trying to log in', async () => {
    sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const client = tokenClient(sim, await tokenFromSimulator(sim, '2024-07-08T11:00:00+00:00'));
    sim.setNow(new Date('2024-07-09T00:00:00Z'));
    sim.clearRequests();
    const listing = (async () => {
      for await (const _ of client.probes()) void _;
    })();
    await expect(listing).rejects.toThrow(/^GET \/probe: 403 .*: the token has expired or does not allow this/);
    await client.close();
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /probe 403']);
  });

  it('is checked at start-up: a warning when its expiry is near, an error when it has passed', () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write: (c: Buffer, _e, done) => (lines.push(JSON.parse(c.toString()) as { level: number; msg: string }), done()),
    });
    const log = createLogger('info', sink);
    const now = Date.parse('2024-07-08T00:00:00Z');
    const token = (exp: string): string =>
      `x.${Buffer.from(JSON.stringify({ sub: '7', exp: Date.parse(exp) / 1000 })).toString('base64url')}.${createHmac('sha256', 'k').digest('base64url')}`;
    warnIfTokenExpiring(token('2024-09-01T00:00:00Z'), log, now);
    warnIfTokenExpiring(token('2024-07-11T00:00:00Z'), log, now);
    warnIfTokenExpiring(token('2024-07-01T00:00:00Z'), log, now);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'SENSOTERRA_TOKEN expires soon: create a new one (POST /token)'],
      [50, 'SENSOTERRA_TOKEN has expired: create a new token (POST /token) and restart'],
    ]);
  });
});

describe('a server that ignores limit', () => {
  it('answers the whole list in one body, which still arrives page by page, never as one array', async () => {
    sim = await Simulator.start({ account: generateAccount({ seed: 2, probes: 5_000 }), now: NOW, ignoreLimit: true });
    const config = loadConfig({
      SENSOTERRA_API_URL: sim.url,
      SENSOTERRA_EMAIL: sim.account.account.email,
      SENSOTERRA_PASSWORD: sim.account.account.password,
      SENSOTERRA_RATE_LIMIT: '1000',
    });
    const client = new SensoterraClient(config, createLogger('silent'), { pageSize: 100 });
    const sizes: number[] = [];
    for await (const page of client.probes()) sizes.push(page.length);
    await client.close();
    expect(sizes).toEqual(Array.from({ length: 50 }, () => 100));
    expect(sim.requests.filter((r) => r.path === '/probe')).toHaveLength(1);
  });
});

describe('reading a list body as a stream', () => {
  const body = JSON.stringify([
    { serial: '1', name: 'a "quoted" name, with [brackets] and {braces}', unit: '°C' },
    { serial: '2', soil_profile: [{ depth: 0, soil: 'CLAY' }], escaped: 'back\\slash\\"' },
    [],
    'text',
    42,
    null,
  ]);

  it('gives the same elements as JSON.parse wherever the chunks are cut, multi-byte characters included', async () => {
    const bytes = Buffer.from(body);
    for (let cut = 1; cut < bytes.length; cut++) {
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
      const batches: unknown[][] = [];
      for await (const batch of jsonArrayBatches(chunks, 2)) batches.push(batch);
      expect(batches.flat()).toEqual(JSON.parse(body));
    }
  });

  it('hands elements out in batches as they arrive', async () => {
    const sizes: number[] = [];
    for await (const batch of jsonArrayBatches([body], 4)) sizes.push(batch.length);
    expect(sizes).toEqual([4, 2]);
  });

  it('refuses what is not one whole JSON array', () => {
    const attempt = (text: string): string => {
      try {
        const s = new JsonArraySplitter();
        s.push(text);
        s.end();
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(attempt('[]')).toBe('ok');
    expect(attempt('{"a":1}')).toBe('expected a JSON array');
    expect(attempt('[{"a":1},{"b":')).toBe('the array is cut short');
    expect(attempt('[1,,2]')).toBe('an empty element in the array');
    expect(attempt('[1] x')).toBe('unexpected text after the end of the array');
    expect(attempt('')).toBe('the body is empty');
  });
});

describe('Retry-After', () => {
  it('reads seconds or an HTTP date, and waits a second when it is missing or unreadable', () => {
    expect(retryAfterSeconds('7')).toBe(7);
    expect(retryAfterSeconds(undefined)).toBe(1);
    expect(retryAfterSeconds('soon')).toBe(1);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterSeconds(inTenSeconds)).toBeGreaterThanOrEqual(9);
    expect(retryAfterSeconds(inTenSeconds)).toBeLessThanOrEqual(10);
  });
});

/**
 * Property-based, over real HTTP, Redis and DuckDB: requests nobody on the team wrote. The receiver answers every
 * one with a documented status and goes on taking good pushes; every reading it accepts lands, with exactly the
 * value, instant and depth that were sent. `npm run fuzz` runs the same properties longer (FUZZ_RUNS).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePush } from '../src/push/format.js';
import { goodReading, hostileBody, jsonish, readingKey, runs, serialize } from './helpers/push-arbitraries.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

const HMAC_SECRET = 'hmac-secret-for-fuzzing';
/** Every status the README documents for the push path and its neighbours. */
const DOCUMENTED = [202, 400, 401, 404, 405, 413, 415];
const GOOD = JSON.stringify({
  serial: '24000092104',
  timestamp: '2024-07-08T09:05:00Z',
  readings: [{ type: 'SI', depth: 15, value: 6.3, unit: 'SI' }],
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { PUSH_HMAC_SECRET: HMAC_SECRET, PUSH_MAX_BODY: '262144' } });
});
afterAll(async () => stack?.stop());

const sign = (body: string): string => createHmac('sha256', HMAC_SECRET).update(body).digest('hex');

async function send(
  body: string,
  opts: { method?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = {
    'content-type': 'application/json',
    authorization: PUSH_SECRET,
    'x-signature': sign(body),
    ...opts.headers,
  };
  const method = opts.method ?? 'POST';
  const res = await fetch(new URL(opts.path ?? '/push', stack.receiver.url), {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A request as anyone might send it: any method, path, headers and body. */
const anyRequest = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
  path: fc.constantFrom('/push', '/push', '/push', '/push?x=1', '/', '/healthz', '/push/', '/%00'),
  body: fc.oneof(hostileBody, jsonish.map(serialize), fc.string({ unit: 'binary', maxLength: 300 })),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/vnd.x+json',
    '',
  ),
  encoding: fc.constantFrom(undefined, undefined, 'identity', 'gzip', 'br'),
  auth: fc.constantFrom('ok', 'ok', 'ok', 'wrong', 'none'),
  signature: fc.constantFrom('ok', 'ok', 'ok', 'junk', 'none'),
});

describe('the receiver, sent anything at all', () => {
  it('answers each request with a documented status and a JSON reason, and takes a good push right after', async () => {
    await fc.assert(
      fc.asyncProperty(anyRequest, async (r) => {
        const headers: Record<string, string> = { 'content-type': r.contentType };
        if (r.encoding !== undefined) headers['content-encoding'] = r.encoding;
        headers.authorization = r.auth === 'ok' ? PUSH_SECRET : r.auth === 'wrong' ? 'guess' : '';
        headers['x-signature'] =
          r.signature === 'ok' ? sign(r.body) : r.signature === 'junk' ? `${sign(r.body)}zz` : '';
        const answer = await send(r.body, { method: r.method, path: r.path, headers });
        expect(DOCUMENTED.concat(r.path === '/healthz' ? [200] : [])).toContain(answer.status);
        if (answer.status !== 200)
          expect(typeof answer.body.error === 'string' || answer.body.status === 'accepted').toBe(true);
        expect((await send(GOOD)).status).toBe(202);
      }),
      { numRuns: runs(80) },
    );
  });
});

describe('what the receiver accepts', () => {
  it('lands, every reading with exactly the value, instant and depth that were sent; nothing it refused lands', async () => {
    let batch = 0;
    const arrival = Date.now() - 60_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(goodReading(arrival), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.array(hostileBody, { maxLength: 4 }),
        async (goodUplinks, hostile) => {
          batch++;
          // a serial of its own per uplink, so that every good reading has a key of its own
          const expected = new Map<string, { value: number }>();
          const bodies = goodUplinks.map((readings, i) => {
            const serial = `fz${batch}x${i}`;
            const unique = dedupe(readings);
            for (const g of unique) expected.set(readingKey(serial, g), { value: g.value });
            return JSON.stringify({ serial, readings: unique.map((g) => g.json) });
          });
          for (const body of hostile) {
            const answer = await send(body);
            expect([202, 400, 413]).toContain(answer.status);
            // what the receiver accepted of a hostile body must land too
            if (answer.status === 202)
              for (const r of parsePush(body, new Date(), stack.place.config.push.limits).readings)
                expected.set(readingKey(r.serial, { ...r, ts: r.ts.getTime() }), { value: r.value });
          }
          for (const body of bodies) expect((await send(body)).status).toBe(202);
          await stack.drained();
          const stored = await stack.rows(
            `SELECT serial, type, depth_cm, epoch_ms(ts) AS ts, value FROM readings WHERE serial LIKE 'fz${batch}x%'`,
          );
          const got = new Map(
            stored.map((r) => [
              readingKey(String(r.serial), {
                type: String(r.type),
                depthCm: r.depth_cm as number | null,
                ts: Number(r.ts),
              }),
              { value: r.value as number },
            ]),
          );
          const mine = new Map([...expected].filter(([key]) => key.startsWith(`fz${batch}x`)));
          expect(got).toEqual(mine);
        },
      ),
      { numRuns: runs(8) },
    );
  });
});

/** One reading per key within an uplink: the generator may draw the same (type, depth, instant) twice. */
function dedupe<T extends { type: string; depthCm: number | null; ts: number }>(readings: T[]): T[] {
  const seen = new Set<string>();
  return readings.filter((r) => {
    const key = readingKey('', r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

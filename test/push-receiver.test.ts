/**
 * The push receiver, request by request: what a pusher gets back for every kind of request, good and bad, and
 * what is kept. Nothing but valid readings ever becomes a reading.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

const HMAC_SECRET = 'hmac-secret-for-tests';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { PUSH_HMAC_SECRET: HMAC_SECRET, PUSH_MAX_BODY: '4096' } });
});
afterAll(async () => stack?.stop());

interface Sent {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  chunked?: boolean; // no content-length: the body arrives in chunks
  auth?: 'none' | 'wrong' | 'ok';
  signature?: 'none' | 'wrong' | 'ok';
  contentType?: string | null;
}

/** A raw HTTP request, so that every header (or its absence) is exactly what the case says. */
function send(s: Sent): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = Buffer.from(s.body ?? '');
  const headers: Record<string, string> = { ...s.headers };
  if (s.contentType !== null) headers['content-type'] = s.contentType ?? 'application/json';
  if ((s.auth ?? 'ok') !== 'none') headers.authorization = s.auth === 'wrong' ? 'not-the-secret' : PUSH_SECRET;
  const signature = s.signature ?? 'ok';
  if (signature !== 'none')
    headers['x-signature'] = createHmac('sha256', signature === 'ok' ? HMAC_SECRET : 'other')
      .update(body)
      .digest('hex');
  if (!s.chunked) headers['content-length'] = String(body.length);
  const url = new URL(s.path ?? '/push', stack.receiver.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: s.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: JSON.parse(text || '{}') as Record<string, unknown> }),
      );
    });
    req.on('error', reject);
    if (s.chunked) {
      for (let i = 0; i < body.length; i += 1000) req.write(body.subarray(i, i + 1000));
      req.end();
    } else req.end(body);
  });
}

const at = '2024-07-08T09:05:00Z';
const uplink = (readings: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    serial: '24000092104',
    probe_id: 49205,
    timestamp: at,
    battery: 'NORMAL',
    rssi: -97,
    readings,
    ...extra,
  });
const moisture = (fields: Record<string, unknown>): Record<string, unknown> => ({
  type: 'MOISTURE',
  depth: 15,
  value: 27.4,
  unit: '%',
  timestamp: at,
  ...fields,
});

describe('the push receiver refuses', () => {
  const refused: [string, Sent, number, RegExp][] = [
    [
      'a push without credentials',
      { body: uplink([moisture({})]), auth: 'none' },
      401,
      /missing or wrong credentials in the authorization header/,
    ],
    [
      'a push with the wrong secret',
      { body: uplink([moisture({})]), auth: 'wrong' },
      401,
      /missing or wrong credentials/,
    ],
    [
      'a push without the HMAC signature',
      { body: uplink([moisture({})]), signature: 'none' },
      401,
      /HMAC-SHA256 signature in the x-signature header/,
    ],
    [
      'a push whose signature does not match its body',
      { body: uplink([moisture({})]), signature: 'wrong' },
      401,
      /HMAC-SHA256 signature/,
    ],
    ['a GET on the push path', { method: 'GET', body: '' }, 405, /method GET not allowed on \/push: use POST/],
    ['a PUT on the push path', { method: 'PUT', body: uplink([moisture({})]) }, 405, /use POST/],
    ['a POST elsewhere', { path: '/api/push', body: uplink([moisture({})]) }, 404, /pushes are POSTed to \/push/],
    ['a DELETE on the root', { method: 'DELETE', path: '/', body: '' }, 404, /no such path/],
    [
      'a body larger than PUSH_MAX_BODY',
      { body: uplink([moisture({})], { padding: 'x'.repeat(5000) }) },
      413,
      /larger than PUSH_MAX_BODY=4096 bytes/,
    ],
    [
      'a chunked body that grows past PUSH_MAX_BODY',
      { body: uplink([moisture({})], { padding: 'x'.repeat(5000) }), chunked: true },
      413,
      /PUSH_MAX_BODY/,
    ],
    [
      'a text/plain body',
      { body: uplink([moisture({})]), contentType: 'text/plain' },
      415,
      /content-type must be application\/json, got "text\/plain"/,
    ],
    [
      'a body without a content-type',
      { body: uplink([moisture({})]), contentType: null },
      415,
      /content-type must be application\/json/,
    ],
    ['a form post', { body: 'serial=1', contentType: 'application/x-www-form-urlencoded' }, 415, /content-type/],
    ['a body that is not JSON', { body: '{"serial": "24000092104", "readings": [' }, 400, /the body is not valid JSON/],
    ['an empty body', { body: '' }, 400, /the body is not valid JSON/],
    ['a JSON string', { body: '"hello"' }, 400, /not the push format/],
    ['an object without readings', { body: '{"serial": "24000092104"}' }, 400, /not the push format/],
    ['an empty array', { body: '[]' }, 400, /empty array: no uplinks/],
    ['an array of numbers', { body: '[1, 2, 3]' }, 400, /not the push format/],
  ];

  for (const [what, sent, status, error] of refused) {
    it(`${what}: ${status}`, async () => {
      const answer = await send(sent);
      expect(answer.status).toBe(status);
      expect(answer.body.error).toMatch(error);
    });
  }
});

describe('the push receiver accepts, and keeps aside what it cannot use', () => {
  const invalid: [string, string, string][] = [
    ['an uplink without a serial', JSON.stringify({ timestamp: at, readings: [moisture({})] }), 'uplink has no serial'],
    [
      'a value that is not a number',
      uplink([moisture({ value: 'wet' })]),
      'value "wet" is not a finite decimal number',
    ],
    ['a value that is null', uplink([moisture({ value: null })]), 'value is missing'],
    [
      'a value too large to be finite',
      uplink([moisture({ value: 'HUGE' })]).replace('"HUGE"', '1e400'),
      'value Infinity is not a finite decimal number',
    ],
    [
      'a reading without any timestamp',
      uplink([moisture({ timestamp: null })], { timestamp: null, battery: undefined, rssi: undefined }),
      'timestamp is missing',
    ],
    [
      'an unreadable timestamp',
      uplink([moisture({ timestamp: 'yesterday' })]),
      'timestamp "yesterday" is not an ISO-8601 time',
    ],
    [
      'a timestamp in the future',
      uplink([moisture({ timestamp: '2099-01-01T00:00:00Z' })]),
      'timestamp "2099-01-01T00:00:00Z" is in the future',
    ],
    [
      'a timestamp before 2000',
      uplink([moisture({ timestamp: '1999-12-31T23:00:00Z' })]),
      'timestamp "1999-12-31T23:00:00Z" is before 2000',
    ],
    ['a negative depth', uplink([moisture({ depth: -5 })]), 'depth -5 is outside 0..500 cm'],
    ['an absurd depth', uplink([moisture({ depth: 9000 })]), 'depth 9000 is outside 0..500 cm'],
    [
      'a depth that is not whole centimetres',
      uplink([moisture({ depth: 12.5 })]),
      'depth 12.5 is not a whole number of cm',
    ],
  ];

  for (const [what, body, reason] of invalid) {
    it(`${what}: 202, nothing accepted, the reason given`, async () => {
      const answer = await send({ body });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ status: 'accepted', readings_accepted: 0, rejected: 1 });
      expect((answer.body.reasons as string[])[0]).toContain(reason);
    });
  }

  it('counts the valid and the invalid readings of one push', async () => {
    const answer = await send({
      body: uplink([
        moisture({ depth: 15 }),
        moisture({ depth: 30, value: 'n/a' }),
        { type: 'TEMPERATURE', value: 18.6, unit: '°C', timestamp: null },
      ]),
    });
    expect(answer).toEqual({
      status: 202,
      body: {
        status: 'accepted',
        uplinks: 1,
        readings_accepted: 2,
        rejected: 1,
        reasons: ['24000092104: value "n/a" is not a finite decimal number'],
      },
    });
  });

  it('answers health and readiness', async () => {
    expect(await send({ method: 'GET', path: '/healthz', body: '' })).toEqual({ status: 200, body: { status: 'up' } });
    expect(await send({ method: 'GET', path: '/readyz', body: '' })).toEqual({
      status: 200,
      body: { status: 'ready', writer: 'up' },
    });
  });
});

describe('what the warehouse holds afterwards', () => {
  it('stored no reading from any refused or invalid request, only the two valid ones', async () => {
    await stack.drained();
    expect(await stack.rows('SELECT serial, type, depth_cm, ts, value, source FROM readings ORDER BY type')).toEqual([
      { serial: '24000092104', type: 'MOISTURE', depth_cm: 15, ts: new Date(at), value: 27.4, source: 'push' },
      { serial: '24000092104', type: 'TEMPERATURE', depth_cm: null, ts: new Date(at), value: 18.6, source: 'push' },
    ]);
  });

  it('kept every authentic body it could not use verbatim, with the reason, and nothing unauthenticated', async () => {
    await stack.drained();
    const kept = await stack.rows('SELECT reason, body FROM rejected_pushes');
    // 6 bodies refused with 400, 11 invalid uplinks or readings, 1 invalid reading in the mixed push
    expect(kept).toHaveLength(18);
    expect(kept).toContainEqual({
      reason: expect.stringMatching(/^the body is not valid JSON/),
      body: '{"serial": "24000092104", "readings": [',
    });
    expect(kept).toContainEqual({ reason: 'the body is an empty array: no uplinks', body: '[]' });
    expect(kept).toContainEqual({
      reason: '24000092104: value "wet" is not a finite decimal number',
      body: JSON.stringify(moisture({ value: 'wet' })),
    });
    expect(kept.some((k) => String(k.body).includes('padding'))).toBe(false);
  });

  it('keeps a bad body once, however often the pusher retries it', async () => {
    const before = await stack.rows('SELECT count(*) AS n FROM rejected_pushes');
    for (let i = 0; i < 3; i++) expect((await send({ body: '[1, 2, 3]' })).status).toBe(400);
    await stack.drained();
    expect(await stack.rows('SELECT count(*) AS n FROM rejected_pushes')).toEqual(before);
  });

  it('keeps every accepted push verbatim for RAW_PUSH_RETENTION_DAYS', async () => {
    await stack.drained();
    const [{ n }] = (await stack.rows('SELECT count(*) AS n FROM raw_pushes')) as [{ n: number }];
    expect(n).toBe(12); // the 11 invalid-field pushes and the mixed one
  });
});

describe('a slow pusher', () => {
  it('is cut off once PUSH_TIMEOUT_MS has passed without the whole request', async () => {
    const slow = await startStack({ env: { PUSH_TIMEOUT_MS: '500' } });
    try {
      const url = new URL('/push', slow.receiver.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: PUSH_SECRET, 'content-length': '1000' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.write('{"serial": "2400'); // and then nothing more
      });
      expect(status).toBe(408);
      await slow.drained();
      expect(await slow.rows('SELECT count(*) AS n FROM raw_pushes')).toEqual([{ n: 0 }]);
    } finally {
      await slow.stop();
    }
  });
});

/**
 * Hostile pushes: what the service does with input meant to hurt it. Bodies nested 10,000 deep, strings that are
 * not Unicode, envelopes no receiver of ours wrote, a push the warehouse itself refuses, bodies that amplify work,
 * and clients that hold connections, guess secrets or sign badly. The process stays up, answers every request with
 * the limit it broke, keeps what is authentic verbatim, and its batch-mates land.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/job-runtime/queues.js';
import { closeRedis, producerConnection } from '../src/redis.js';
import { Simulator } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { CLI, runCli } from './helpers/cli.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { apiEnv } from './helpers/pulls.js';
import { deleteKeys, freePort } from './helpers/redis.js';
import { post, PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { eventually, exited, workerUp } from './helpers/waiting.js';
import { runSql } from './helpers/warehouse.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

const SERIAL = '24000092104';
const AT = '2024-07-08T09:05:00Z';
const HMAC_SECRET = 'hmac-secret-for-hostile-tests';
/** 10,000 levels of arrays: 20 KB of text that JSON.stringify of the parsed value cannot walk (RangeError). */
const DEPTH = 10_000;
const NEST = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const DEPTH_REFUSAL = {
  error: 'the body nests deeper than PUSH_MAX_DEPTH=16 levels of arrays and objects',
  limit: 'PUSH_MAX_DEPTH',
  kept: 'verbatim, in rejected_pushes',
};

const moisture = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'MOISTURE',
  depth: 15,
  value: 27.4,
  unit: '%',
  timestamp: AT,
  ...fields,
});
const uplink = (readings: unknown[], fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  serial: SERIAL,
  probe_id: 49205,
  timestamp: AT,
  readings,
  ...fields,
});
/** The JSON of `shape` with the string "NEST" replaced by the 10,000-deep array (built as text: no recursion here). */
const nested = (shape: unknown): string => {
  const text = JSON.stringify(shape);
  expect(text.split('"NEST"')).toHaveLength(2);
  return text.replace('"NEST"', NEST);
};
const minutesAfter = (iso: string, minutes: number): string =>
  new Date(Date.parse(iso) + minutes * 60_000).toISOString();
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** `promise`, or an error naming `what` after a generous `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------------------
// child processes

interface Service {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[];
}

/** A process of ours; killed after the test whatever happens. */
function spawnService(command: string, args: string[], env: Record<string, string>): Service {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    logLines: () =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
  };
}

const startCli = (role: string, env: Record<string, string>): Service =>
  spawnService(process.execPath, [CLI, 'start', '--role', role], env);

const running = (s: Service): boolean => s.child.exitCode === null && s.child.signalCode === null;

async function ready(port: number, service: Service): Promise<void> {
  await eventually(
    async () => {
      if (!running(service))
        throw new Error(
          `the service exited (${service.child.exitCode ?? service.child.signalCode}) before it was ready: ${service.stderr()}`,
        );
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
    },
    30_000,
    'readiness',
  );
}

/** A receiver (or the whole service) on its own port, queue prefix and warehouse. */
function placeFor(env: Record<string, string>): TestPlace {
  const place = testPlace(env);
  cleanups.push(
    () => place.cleanup(),
    () => deleteKeys(place.prefix),
  );
  return place;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP, as exactly as each case needs it

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One request on a connection of its own (no agent: nothing pooled, nothing reused). */
function send(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : (opts.body ?? Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'POST',
        agent: false,
        headers: { 'content-length': String(body.length), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: JSON.parse(text || '{}') as Record<string, unknown>,
            });
          } catch (err) {
            reject(
              new Error(`answer ${res.statusCode} is not JSON: ${text.slice(0, 200)} (${(err as Error).message})`),
            );
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An authenticated push (with the HMAC signature when `hmac` is given). */
function push(
  url: string,
  body: string | Buffer,
  opts: { hmac?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: PUSH_SECRET };
  if (opts.hmac !== undefined) headers['x-signature'] = createHmac('sha256', opts.hmac).update(body).digest('hex');
  return send(url, { body, headers: { ...headers, ...opts.headers } });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A TCP connection speaking HTTP/1.1 by hand: to see exactly when the server keeps or closes it. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  isClosed = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake?.();
    });
    socket.on('error', () => undefined); // a reset is a close, for these tests
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(method: string, path: string, headers: Record<string, string> = {}, body = ''): void {
    const lines = [
      `${method} ${path} HTTP/1.1`,
      'host: 127.0.0.1',
      ...Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)) }).map(
        ([k, v]) => `${k}: ${v}`,
      ),
    ];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  }

  async exchange(method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
    this.write(method, path, headers, body);
    return within(this.response(), 15_000, `the answer to ${method} ${path}`);
  }

  /** The next whole response (with a content-length body, as every answer of the receiver has). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...headerLines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(
          headerLines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      if (this.isClosed)
        throw new Error(`the connection closed before a whole answer (${this.buffer.length} bytes received)`);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The ingest queue of a test's prefix, as a receiver of an older version would have filled it. */
function ingestQueue(place: TestPlace): Queue {
  const connection = producerConnection(place.config.redisUrl);
  const queue = new Queue(QUEUES.ingest, { connection, prefix: place.config.queuePrefix });
  cleanups.push(async () => {
    await queue.close();
    await closeRedis(connection);
  });
  return queue;
}

/** A stack in this process; stopped after the test. */
async function stackFor(env: Record<string, string> = {}): Promise<Stack> {
  const stack = await startStack({ env });
  cleanups.push(() => stack.stop());
  return stack;
}

// ---------------------------------------------------------------------------------------------------------------

describe('a body nested 10,000 deep', () => {
  it('is refused with 413 PUSH_MAX_DEPTH wherever it sits, kept verbatim, and the same process goes on', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    cleanups.push(() => sim.close());
    const port = await freePort();
    const place = placeFor(apiEnv(sim, { PUSH_PORT: String(port), PUSH_SECRET, LOG_LEVEL: 'info' }));
    const service = startCli('all', place.env);
    await ready(port, service);
    await workerUp(place);
    const url = `http://127.0.0.1:${port}/push`;

    const bodies: [string, string][] = [
      ['readings', nested({ serial: SERIAL, timestamp: AT, readings: 'NEST' })],
      ["a reading's value", nested(uplink([moisture({ value: 'NEST' })]))],
      ["a reading's depth", nested(uplink([moisture({ depth: 'NEST' })]))],
      ["a reading's timestamp", nested(uplink([moisture({ timestamp: 'NEST' })]))],
      ["a reading's type", nested(uplink([moisture({ type: 'NEST' })]))],
      ['an uplink without a serial', nested({ timestamp: AT, readings: [moisture({ value: 'NEST' })] })],
      ['a non-uplink element beside a real uplink', nested([uplink([moisture({ depth: 30 })]), 'NEST'])],
      ['an unknown field', nested(uplink([moisture({ depth: 60 })], { gadget: 'NEST' }))],
    ];
    for (const [, body] of bodies) expect(body.length).toBeGreaterThan(2 * DEPTH);

    const answers: Record<string, unknown> = {};
    for (const [where, body] of bodies) {
      try {
        const answer = await push(url, body);
        answers[where] = { status: answer.status, body: answer.body };
      } catch (err) {
        answers[where] = `no answer: ${(err as Error).message}`;
      }
    }
    expect(answers).toEqual(Object.fromEntries(bodies.map(([where]) => [where, { status: 413, body: DEPTH_REFUSAL }])));

    // the same process takes a good push, and answers its health check
    const good = await push(url, JSON.stringify(uplink([moisture()])));
    expect({ status: good.status, body: good.body }).toEqual({
      status: 202,
      body: { status: 'accepted', uplinks: 1, readings_accepted: 1, rejected: 0, reasons: [] },
    });
    expect((await send(`http://127.0.0.1:${port}/healthz`, { method: 'GET' })).status).toBe(200);
    expect(service.child.pid).toBe(service.pid);
    expect(service.child.exitCode).toBeNull();
    expect(service.child.signalCode).toBeNull();

    // what the writer landed, asked through the running worker (the `query` command, via Redis)
    const query = async (sql: string): Promise<unknown> => {
      const result = await runCli(['query', sql, '--format', 'json'], place.env);
      if (result.code !== 0) throw new Error(`query exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout);
    };
    let readings: unknown;
    await eventually(
      async () =>
        (
          (readings = await query(
            'SELECT serial, type, depth_cm, value, source FROM readings ORDER BY ALL',
          )) as unknown[]
        ).length > 0,
      45_000,
      'the good reading landing',
    );
    expect(readings).toEqual([{ serial: SERIAL, type: 'MOISTURE', depth_cm: 15, value: 27.4, source: 'push' }]);

    // every nested body kept verbatim, with the limit it broke (the writer may still be at it: poll)
    const keptSql = "SELECT count(*) AS n FROM rejected_pushes WHERE reason LIKE '%PUSH_MAX_DEPTH%'";
    let kept: unknown;
    await eventually(
      async () => ((kept = await query(keptSql)) as { n: number }[])[0]?.n === 8,
      45_000,
      'the 8 nested bodies kept',
    );
    expect(kept).toEqual([{ n: 8 }]);
    const keptBodies = (await query(
      "SELECT md5(body) AS h, length(body) AS len FROM rejected_pushes WHERE reason LIKE '%PUSH_MAX_DEPTH%' ORDER BY h",
    )) as unknown[];
    expect(keptBodies).toEqual(
      bodies.map(([, b]) => ({ h: md5(b), len: b.length })).sort((a, b) => (a.h < b.h ? -1 : 1)),
    );

    service.child.kill('SIGTERM');
    expect(await within(exited(service.child), 45_000, 'exit after SIGTERM')).toBe(0);
    expect(service.stderr()).not.toMatch(/uncaught|unhandled|RangeError/i);
  });
});

describe('the writer, given poison an older receiver let through', () => {
  it('keeps each poisoned push aside with its reason, lands the good one, and goes on', async () => {
    const stack = await stackFor();
    const queue = ingestQueue(stack.place);
    const r = Date.now();
    const deep = nested(uplink([moisture({ depth: 30 })], { gadget: 'NEST' }));
    // the escape as JSON text: JSON.parse turns it into half a surrogate pair, which is no character at all
    const surrogate = JSON.stringify(uplink([moisture({ depth: 60 })], { note: 'SURROGATE' })).replace(
      '"SURROGATE"',
      '"\\ud800"',
    );
    expect(surrogate).toContain('"note":"\\ud800"');
    const good = JSON.stringify(uplink([moisture({ depth: 15 })]));
    await queue.add(
      'pushes',
      {
        pushes: [
          { r, b: deep },
          { r, b: surrogate },
          { r: 'yesterday', b: 42 },
          { r, b: good },
        ],
      },
      { attempts: 1, removeOnComplete: true, removeOnFail: false },
    );
    await stack.drained();

    expect(await stack.rows('SELECT serial, type, depth_cm, value FROM readings')).toEqual([
      { serial: SERIAL, type: 'MOISTURE', depth_cm: 15, value: 27.4 },
    ]);
    const kept = await stack.rows('SELECT reason, body FROM rejected_pushes ORDER BY reason');
    expect(kept).toHaveLength(3);
    expect(kept).toContainEqual({
      reason: expect.stringMatching(/^the body nests deeper than PUSH_MAX_DEPTH=16 levels/),
      body: deep,
    });
    expect(kept).toContainEqual({
      reason: expect.stringMatching(/^the body holds a string that is not valid Unicode \(an unpaired surrogate/),
      body: surrogate,
    });
    expect(kept).toContainEqual({
      reason: expect.stringMatching(/^the ingest envelope is not \{r: arrival time, b: body text\}: /),
      body: '(no body text)',
    });
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });

    // the same writer lands the next push, sent over HTTP
    const writer = stack.worker;
    const next = await post(stack.pushUrl, JSON.stringify(uplink([moisture({ depth: 90, value: 31.5 })])));
    expect(next.status).toBe(202);
    await stack.drained();
    expect(stack.worker).toBe(writer);
    expect(await stack.rows('SELECT depth_cm, value FROM readings ORDER BY depth_cm')).toEqual([
      { depth_cm: 15, value: 27.4 },
      { depth_cm: 90, value: 31.5 },
    ]);
  });
});

describe('a push the warehouse refuses', () => {
  it('is parked alone in rejected_pushes with the reason; its batch-mates land and no batch fails', async () => {
    const stack = await stackFor();
    // a warehouse that refuses unknown uplink fields longer than 40 bytes, for real (a CHECK constraint)
    await runSql(stack.worker.deps.db, 'DROP TABLE uplink_extras');
    await runSql(
      stack.worker.deps.db,
      `CREATE TABLE uplink_extras (
        serial      VARCHAR NOT NULL,
        uplink_ts   TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        extra       JSON NOT NULL,
        extra_hash  VARCHAR NOT NULL,
        CHECK (length(CAST(extra AS VARCHAR)) < 40)
      )`,
    );
    const queue = ingestQueue(stack.place);
    const r = Date.now();
    const first = JSON.stringify(uplink([moisture({ depth: 15 })]));
    const refused = JSON.stringify(
      uplink([moisture({ depth: 30 })], { gateway: 'gateway-with-a-name-far-longer-than-forty-bytes' }),
    );
    const second = JSON.stringify(uplink([moisture({ depth: 60 })], { gw: 7 })); // 8 bytes of unknown fields: stored
    await queue.add(
      'pushes',
      {
        pushes: [
          { r, b: first },
          { r, b: refused },
          { r, b: second },
        ],
      },
      { attempts: 1, removeOnComplete: true, removeOnFail: false },
    );
    await stack.drained();

    expect(await stack.rows('SELECT depth_cm, value FROM readings ORDER BY depth_cm')).toEqual([
      { depth_cm: 15, value: 27.4 },
      { depth_cm: 60, value: 27.4 },
    ]);
    expect(await stack.rows('SELECT CAST(extra AS VARCHAR) AS extra FROM uplink_extras')).toEqual([
      { extra: '{"gw":7}' },
    ]);
    const kept = await stack.rows('SELECT reason, body FROM rejected_pushes');
    expect(kept).toEqual([{ reason: expect.stringMatching(/^the writer could not store this push/), body: refused }]);
    expect(await queue.getJobCounts('failed', 'delayed', 'waiting', 'active')).toEqual({
      failed: 0,
      delayed: 0,
      waiting: 0,
      active: 0,
    });
  });
});

describe('amplification', () => {
  it('refuses a 200 KB string with 4,000 readings (PUSH_MAX_STRING, checked first) and 4,000 small readings (PUSH_MAX_READINGS), kept verbatim', async () => {
    const stack = await stackFor();
    const many = Array.from({ length: 4_000 }, (_, i) => moisture({ timestamp: minutesAfter(AT, i) }));
    const huge = JSON.stringify(uplink(many, { blob: 'x'.repeat(200 * 1024) }));
    expect(huge.length).toBeLessThan(1_048_576); // under PUSH_MAX_BODY: the limits inside the body are what refuse it
    const answer = await push(stack.pushUrl, huge);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 413,
      body: {
        error: 'the body holds a string of 204800 characters, more than PUSH_MAX_STRING=4096',
        limit: 'PUSH_MAX_STRING',
        kept: 'verbatim, in rejected_pushes',
      },
    });

    const small = JSON.stringify(uplink(many));
    const tooMany = await push(stack.pushUrl, small);
    expect({ status: tooMany.status, body: tooMany.body }).toEqual({
      status: 413,
      body: {
        error: 'an uplink holds 4000 readings, more than PUSH_MAX_READINGS=1000',
        limit: 'PUSH_MAX_READINGS',
        kept: 'verbatim, in rejected_pushes',
      },
    });

    await stack.drained();
    expect(
      await stack.rows('SELECT reason, md5(body) AS h, length(body) AS len FROM rejected_pushes ORDER BY len DESC'),
    ).toEqual([
      {
        reason: 'the body holds a string of 204800 characters, more than PUSH_MAX_STRING=4096',
        h: md5(huge),
        len: huge.length,
      },
      { reason: 'an uplink holds 4000 readings, more than PUSH_MAX_READINGS=1000', h: md5(small), len: small.length },
    ]);
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 0 }]);
  });

  it('lands a push at the limits: 1,000 readings and ~10 KB of small unknown uplink fields, kept once', async () => {
    const stack = await stackFor();
    const meta = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`k${String(i).padStart(3, '0')}`, `value-${String(i).padStart(6, '0')}`]),
    );
    const readings = Array.from({ length: 1_000 }, (_, i) => moisture({ timestamp: minutesAfter(AT, i) }));
    const body = JSON.stringify(uplink(readings, { meta }));
    const extra = JSON.stringify({ meta });
    expect(extra.length).toBeGreaterThan(9_000);
    expect(extra.length).toBeLessThan(16_384);

    const answer = await push(stack.pushUrl, body);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 202,
      body: { status: 'accepted', uplinks: 1, readings_accepted: 1000, rejected: 0, reasons: [] },
    });
    await stack.drained();
    expect(
      await stack.rows(
        'SELECT count(*) AS n, count(extra) AS with_extra, min(ts) AS first, max(ts) AS last FROM readings',
      ),
    ).toEqual([
      { n: 1000, with_extra: 0, first: new Date('2024-07-08T09:05:00Z'), last: new Date('2024-07-09T01:44:00Z') },
    ]);
    expect(await stack.rows('SELECT serial, uplink_ts, CAST(extra AS VARCHAR) AS extra FROM uplink_extras')).toEqual([
      { serial: SERIAL, uplink_ts: new Date(AT), extra },
    ]);
    expect(await stack.rows('SELECT count(*) AS n FROM rejected_pushes')).toEqual([{ n: 0 }]);
  });
});

describe('connections and credentials', () => {
  it("closes every connection that carried no authenticated push, and keeps a pusher's alive", async () => {
    const stack = await stackFor({ PUSH_HMAC_SECRET: HMAC_SECRET });
    const port = stack.receiver.port;
    const unauthenticated: [string, string, string, Record<string, string>, number][] = [
      ['a health check', 'GET', '/healthz', {}, 200],
      ['a push without credentials', 'POST', '/push', { 'content-type': 'application/json' }, 401],
      [
        'a push with the wrong secret',
        'POST',
        '/push',
        { 'content-type': 'application/json', authorization: 'not-the-secret' },
        401,
      ],
      ['a wrong path', 'GET', '/nope', {}, 404],
    ];
    const seen: Record<string, unknown> = {};
    for (const [what, method, path, headers] of unauthenticated) {
      const conn = await RawConnection.open(port);
      cleanups.push(() => conn.destroy());
      const res = await conn.exchange(
        method,
        path,
        headers,
        method === 'POST' ? JSON.stringify(uplink([moisture()])) : '',
      );
      const closed = await within(conn.closed, 15_000, `the server closing after ${what}`).then(
        () => true,
        () => false,
      );
      seen[what] = { status: res.status, connection: res.headers.connection, closedByServer: closed };
    }
    expect(seen).toEqual(
      Object.fromEntries(
        unauthenticated.map(([what, , , , status]) => [what, { status, connection: 'close', closedByServer: true }]),
      ),
    );

    // an authenticated push keeps its connection: the next requests go on the same socket
    const conn = await RawConnection.open(port);
    cleanups.push(() => conn.destroy());
    const body = JSON.stringify(uplink([moisture()]));
    const signed = {
      'content-type': 'application/json',
      authorization: PUSH_SECRET,
      'x-signature': createHmac('sha256', HMAC_SECRET).update(body).digest('hex'),
    };
    // (HTTP/1.1 connections persist unless an answer says `connection: close`)
    const answers = [];
    for (const [method, headers, sent] of [
      ['POST', signed, body],
      ['POST', signed, body],
      ['GET', {}, ''],
    ] as const) {
      const res = await conn.exchange(method, method === 'GET' ? '/healthz' : '/push', headers, sent);
      answers.push({
        status: res.status,
        connection: res.headers.connection,
        keepAlive: res.headers['keep-alive'],
        open: !conn.isClosed,
      });
    }
    expect(answers).toEqual([
      { status: 202, connection: 'keep-alive', keepAlive: 'timeout=65', open: true },
      { status: 202, connection: 'keep-alive', keepAlive: 'timeout=65', open: true },
      { status: 200, connection: 'keep-alive', keepAlive: 'timeout=65', open: true },
    ]);
  });

  it('takes exactly 64 hex digits (optionally after sha256=) as the HMAC signature; anything else is 401', async () => {
    const stack = await stackFor({ PUSH_HMAC_SECRET: HMAC_SECRET });
    const body = JSON.stringify(uplink([moisture()]));
    const valid = createHmac('sha256', HMAC_SECRET).update(body).digest('hex');
    const signatures: [string, string, number][] = [
      ['the signature', valid, 202],
      ['sha256= and the signature', `sha256=${valid}`, 202],
      ['the signature in capitals', valid.toUpperCase(), 202],
      ['the signature followed by junk', `${valid}zz`, 401],
      ['the signature, a space and more', `${valid} extra`, 401],
      ['63 of its 64 digits', valid.slice(0, 63), 401],
      ['the signature and one digit more', `${valid}0`, 401],
      ['junk', 'zz'.repeat(32), 401],
      ['sha256= and nothing', 'sha256=', 401],
    ];
    const got: Record<string, number> = {};
    for (const [what, signature] of signatures) {
      got[what] = (
        await send(stack.pushUrl, {
          body,
          headers: { 'content-type': 'application/json', authorization: PUSH_SECRET, 'x-signature': signature },
        })
      ).status;
    }
    expect(got).toEqual(Object.fromEntries(signatures.map(([what, , status]) => [what, status])));
    const refused = await send(stack.pushUrl, {
      body,
      headers: { 'content-type': 'application/json', authorization: PUSH_SECRET, 'x-signature': `${valid}zz` },
    });
    expect(refused.body).toEqual({
      error:
        'missing or wrong HMAC-SHA256 signature in the x-signature header (64 hex digits, optionally after sha256=)',
    });
  });

  it('refuses a compressed body with 415 naming content-encoding; identity is accepted', async () => {
    const stack = await stackFor({ PUSH_HMAC_SECRET: HMAC_SECRET });
    const body = JSON.stringify(uplink([moisture()]));
    const gzipped = await push(stack.pushUrl, gzipSync(body), {
      hmac: HMAC_SECRET,
      headers: { 'content-encoding': 'gzip' },
    });
    expect({ status: gzipped.status, body: gzipped.body }).toEqual({
      status: 415,
      body: { error: 'content-encoding "gzip" is not accepted: send the body uncompressed' },
    });
    const plain = await push(stack.pushUrl, body, { hmac: HMAC_SECRET, headers: { 'content-encoding': 'identity' } });
    expect({ status: plain.status, body: plain.body }).toEqual({
      status: 202,
      body: { status: 'accepted', uplinks: 1, readings_accepted: 1, rejected: 0, reasons: [] },
    });
    await stack.drained();
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 1 }]);
    expect(await stack.rows('SELECT count(*) AS n FROM rejected_pushes')).toEqual([{ n: 0 }]);
  });

  it('outlasts a flood of idle connections under `ulimit -n 256` with PUSH_MAX_CONNECTIONS=100', async () => {
    const port = await freePort();
    // PUSH_TIMEOUT_MS long: the silent connections are not closed by the header timeout, only by the cap
    const place = placeFor({
      PUSH_PORT: String(port),
      PUSH_SECRET,
      PUSH_MAX_CONNECTIONS: '100',
      PUSH_TIMEOUT_MS: '120000',
      LOG_LEVEL: 'info',
    });
    const service = spawnService(
      'bash',
      ['-c', 'ulimit -n 256 && exec "$0" "$1" start --role receiver', process.execPath, CLI],
      place.env,
    );
    await ready(port, service);

    const sockets: Socket[] = [];
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const open = (hello?: string): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => resolve()); // reset by the server: it made room
        socket.on('data', () => undefined);
        socket.once('connect', () => {
          if (hello !== undefined) socket.write(hello);
          resolve();
        });
      });
    // 400 that ask for /healthz once and then hold their socket, 400 that never say anything: more than
    // `ulimit -n` allows at once, so only the cap (closing the oldest strangers) keeps descriptors free
    await Promise.all(Array.from({ length: 400 }, () => open('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')));
    await Promise.all(Array.from({ length: 400 }, () => open()));

    const good = await within(
      push(`http://127.0.0.1:${port}/push`, JSON.stringify(uplink([moisture()]))),
      30_000,
      'the good push after the flood',
    );
    expect({ status: good.status, body: good.body }).toEqual({
      status: 202,
      body: { status: 'accepted', uplinks: 1, readings_accepted: 1, rejected: 0, reasons: [] },
    });
    expect(running(service)).toBe(true);
    expect((await send(`http://127.0.0.1:${port}/healthz`, { method: 'GET' })).status).toBe(200);
    expect(service.stderr()).not.toMatch(/EMFILE/);
    expect(
      service
        .logLines()
        .some(
          (l) => l.msg === 'connection cap PUSH_MAX_CONNECTIONS reached: closing the oldest unauthenticated connection',
        ),
    ).toBe(true);
  });

  it('logs refused credentials with the peer, but not once per request', async () => {
    const port = await freePort();
    const place = placeFor({ PUSH_PORT: String(port), PUSH_SECRET, LOG_LEVEL: 'info' });
    const service = startCli('receiver', place.env);
    await ready(port, service);
    const url = `http://127.0.0.1:${port}/push`;
    const body = JSON.stringify(uplink([moisture()]));
    const statuses: Record<number, number> = {};
    for (let i = 0; i < 200; i++) {
      const { status } = await send(url, {
        body,
        headers: { 'content-type': 'application/json', authorization: `wrong-secret-${i}` },
      });
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    expect(statuses).toEqual({ 401: 200 });
    const refusals = (): Record<string, unknown>[] =>
      service.logLines().filter((l) => l.msg === 'push refused: wrong credentials');
    await eventually(() => refusals().length > 0, 15_000, 'a refusal logged');
    expect(refusals().length).toBeLessThanOrEqual(5);
    expect(refusals()[0]).toMatchObject({ level: 40, peers: [expect.stringMatching(/127\.0\.0\.1/)], why: 'header' });
    expect(service.stderr()).not.toContain('wrong-secret-');
  });

  it('warns at start when PUSH_SECRET is shorter than 16 characters', async () => {
    const port = await freePort();
    const place = placeFor({ PUSH_PORT: String(port), PUSH_SECRET: 'short', LOG_LEVEL: 'info' });
    const service = startCli('receiver', place.env);
    await ready(port, service);
    const warning =
      'PUSH_SECRET is shorter than 16 characters: easy to guess; use a long random value (openssl rand -hex 32)';
    await eventually(() => service.logLines().some((l) => l.msg === warning), 15_000, 'the short-secret warning');
    expect(service.logLines().find((l) => l.msg === warning)).toMatchObject({ level: 40, length: 5 });
    expect(service.stderr()).not.toContain('"short"'); // the secret itself is never logged
  });
});

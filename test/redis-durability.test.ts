/**
 * Redis' durability: the service says at start when Redis' settings may lose or evict acknowledged pushes, and with
 * AOF on (appendfsync everysec, the default) a Redis stopped or killed in the middle of a push load costs no
 * acknowledged reading, and doubles none, once it is back.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { PushReceiver } from '../src/receiver/server.js';
import { startService } from '../src/service/service.js';
import { generateAccount } from '../src/simulator/index.js';
import { testPlace } from './helpers/config.js';
import { expectStoredExactlyOnce, pushUntilAcknowledged, someUplinks } from './helpers/push-load.js';
import { PrivateRedis, type PrivateRedisOptions } from '../src/dev/private-redis.js';
import { ingestDrained, post, PUSH_SECRET } from './helpers/stack.js';
import { eventually } from './helpers/waiting.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

type LogLine = Record<string, unknown>;

function logSink(lines: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
}

async function privateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const redis = await PrivateRedis.start(options);
  cleanups.push(() => redis.destroy());
  return redis;
}

/** Every schedule off: nothing but pushes writes readings, and nothing calls the (absent) API. */
const NO_SCHEDULES = {
  SCHEDULE_PARAMETERS: 'off',
  SCHEDULE_LOCATIONS: 'off',
  SCHEDULE_PROBES: 'off',
  SCHEDULE_CUSTOMERS: 'off',
  SCHEDULE_RECONCILE: 'off',
  SCHEDULE_EXPORT: 'off',
};

/** Starts the receiver role on `redis`, and returns what it concluded and logged about Redis (warn level and up). */
async function receiverStartedOn(redis: PrivateRedis): Promise<{ verdict: unknown; lines: LogLine[] }> {
  const place = testPlace({ REDIS_URL: redis.url, PUSH_PORT: '0', PUSH_SECRET });
  cleanups.push(() => place.cleanup());
  const lines: LogLine[] = [];
  const service = await startService(place.config, createLogger('warn', logSink(lines)), 'receiver');
  cleanups.push(() => service.stop());
  const verdict = await service.redisDurability;
  return {
    verdict,
    lines: lines
      .filter((l) => l.component === 'redis')
      .map(({ level, msg, risk, redis, ...data }) => ({ level, msg, risk, redis, ...pick(data) })),
  };
}

/** The data fields of a durability warning (not pino's time, pid, hostname, service). */
function pick(data: LogLine): LogLine {
  const out: LogLine = {};
  for (const key of ['appendonly', 'rdbSnapshots', 'appendfsync', 'maxmemoryPolicy', 'maxmemory'])
    if (key in data) out[key] = data[key];
  return out;
}

describe('at start, the service reads Redis durability settings', () => {
  it('says nothing when Redis keeps an AOF and never evicts', async () => {
    const redis = await privateRedis({ appendonly: true, maxmemoryPolicy: 'noeviction' });
    const { verdict, lines } = await receiverStartedOn(redis);
    expect(verdict).toEqual({
      aof: true,
      appendfsync: 'everysec',
      rdb: false,
      maxmemoryPolicy: 'noeviction',
      risks: [],
    });
    expect(lines).toEqual([]);
  });

  it('warns, one line each, that Redis without AOF loses acknowledged pushes and that allkeys-lru evicts them', async () => {
    const redis = await privateRedis({ appendonly: false, maxmemoryPolicy: 'allkeys-lru' });
    const { verdict, lines } = await receiverStartedOn(redis);
    expect(verdict).toEqual({
      aof: false,
      appendfsync: 'everysec',
      rdb: false,
      maxmemoryPolicy: 'allkeys-lru',
      risks: ['no-aof', 'eviction'],
    });
    expect(lines).toEqual([
      {
        level: 40,
        risk: 'no-aof',
        redis: `127.0.0.1:${redis.port}`,
        appendonly: 'no',
        rdbSnapshots: false,
        msg: 'Redis persistence is off (appendonly no): a Redis restart loses acknowledged pushes the writer has not stored yet (all of them without RDB snapshots, up to minutes of them with snapshots only); set appendonly yes',
      },
      {
        level: 40,
        risk: 'eviction',
        redis: `127.0.0.1:${redis.port}`,
        maxmemoryPolicy: 'allkeys-lru',
        maxmemory: 0,
        msg: 'Redis may evict keys (maxmemory-policy is not noeviction): under memory pressure it can drop queued pushes and BullMQ keys; set maxmemory-policy noeviction',
      },
    ]);
  });

  it('counts RDB snapshots alone as persistence that may lose minutes, and an AOF never fsynced as a risk too', async () => {
    const rdbOnly = await receiverStartedOn(await privateRedis({ appendonly: false, save: '3600 1' }));
    expect(rdbOnly.verdict).toEqual({
      aof: false,
      appendfsync: 'everysec',
      rdb: true,
      maxmemoryPolicy: 'noeviction',
      risks: ['no-aof'],
    });
    expect(rdbOnly.lines).toMatchObject([{ level: 40, risk: 'no-aof', appendonly: 'no', rdbSnapshots: true }]);

    const noFsync = await receiverStartedOn(await privateRedis({ appendonly: true, appendfsync: 'no' }));
    expect(noFsync.verdict).toEqual({
      aof: true,
      appendfsync: 'no',
      rdb: false,
      maxmemoryPolicy: 'noeviction',
      risks: ['aof-not-fsynced'],
    });
    expect(noFsync.lines).toEqual([
      {
        level: 40,
        risk: 'aof-not-fsynced',
        redis: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        appendfsync: 'no',
        msg: 'Redis never fsyncs its AOF (appendfsync no): a crash of the Redis host may lose about 30 s of acknowledged pushes; set appendfsync everysec',
      },
    ]);
  });

  /** A receiver started while its (AOF-less) Redis is down, and what it logs about Redis. */
  async function receiverOnStoppedRedis(): Promise<{
    redis: PrivateRedis;
    service: Awaited<ReturnType<typeof startService>>;
    lines: LogLine[];
  }> {
    const redis = await privateRedis({ appendonly: false });
    await redis.kill();
    const place = testPlace({ REDIS_URL: redis.url, PUSH_PORT: '0', PUSH_SECRET });
    cleanups.push(() => place.cleanup());
    const lines: LogLine[] = [];
    const service = await startService(place.config, createLogger('warn', logSink(lines)), 'receiver');
    return { redis, service, lines };
  }

  it('never holds up or fails a start: with Redis down the receiver starts, and the check runs once Redis answers', async () => {
    const { redis, service, lines } = await receiverOnStoppedRedis();
    cleanups.push(() => service.stop());
    expect(lines.filter((l) => l.component === 'redis')).toEqual([]);

    await redis.resume();
    expect(await service.redisDurability).toEqual({
      aof: false,
      appendfsync: 'everysec',
      rdb: false,
      maxmemoryPolicy: 'noeviction',
      risks: ['no-aof'],
    });
    expect(lines.filter((l) => l.component === 'redis').map((l) => l.risk)).toEqual(['no-aof']);
  });

  it('stops cleanly before Redis ever answered, with no verdict', async () => {
    const { service, lines } = await receiverOnStoppedRedis();
    await service.stop();
    expect(await service.redisDurability).toBeUndefined();
    expect(lines.filter((l) => l.component === 'redis')).toEqual([]);
  });
});

/**
 * The whole service (worker + receiver) in this process on a private Redis with AOF (appendfsync everysec); unique
 * readings pushed 6 at a time, each again until acknowledged; `fault` hits Redis once a third of them are in, and
 * Redis is started again (same port, same directory) once a push has been refused meanwhile.
 */
async function pushLoadThrough(fault: (redis: PrivateRedis) => Promise<void>): Promise<void> {
  const redis = await privateRedis({ appendonly: true });
  const place = testPlace({
    REDIS_URL: redis.url,
    PUSH_PORT: '0',
    PUSH_SECRET,
    // a worker needs credentials; with every schedule off it never calls the API
    SENSOTERRA_API_URL: 'http://127.0.0.1:9',
    SENSOTERRA_EMAIL: 'nobody@example.com',
    SENSOTERRA_PASSWORD: 'unused',
    ...NO_SCHEDULES,
  });
  cleanups.push(() => place.cleanup());
  // STACK_LOG=/tmp/stack.log: the service's debug log, as in helpers/stack.ts
  const log = process.env.STACK_LOG
    ? createLogger('debug', pino.destination(process.env.STACK_LOG))
    : createLogger('silent');
  const service = await startService(place.config, log, 'all');
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : service.stop()));
  expect(await service.redisDurability).toEqual({
    aof: true,
    appendfsync: 'everysec',
    rdb: false,
    maxmemoryPolicy: 'noeviction',
    risks: [],
  });
  const receiver = service.parts.find((p): p is PushReceiver => p instanceof PushReceiver)!;

  const uplinks = someUplinks(generateAccount({ seed: 11, probes: 20 }), 3_000);
  let refusedWhileDown = 0;
  let down = false;
  let outage: Promise<void> | undefined;
  let outageFailed: unknown;
  await pushUntilAcknowledged(`${receiver.url}/push`, uplinks, {
    concurrency: 6,
    timeoutMs: 60_000,
    onAcknowledged: (n) => {
      if (outage || n < uplinks.length / 3) return;
      outage = (async () => {
        await fault(redis);
        down = true;
        // the load goes on against a Redis that is down: wait until it has been refused at least once
        await eventually(() => refusedWhileDown > 0, 10_000, 'a push refused while Redis is down');
        down = false;
        await redis.resume();
      })();
      outage.catch((err: unknown) => (outageFailed = err ?? new Error('the outage failed')));
    },
    onRefused: () => {
      if (outageFailed) throw outageFailed; // Redis did not come back: stop the load and say why
      if (down) refusedWhileDown++;
    },
  });
  await outage;
  expect(refusedWhileDown).toBeGreaterThan(0); // Redis was down during the load, and the load went on after it

  await ingestDrained(place, 60_000); // batches a writer held when Redis went away come back once their lock expires
  stopped = true;
  await service.stop();

  await expectStoredExactlyOnce(place, uplinks);
}

describe('with AOF on (appendfsync everysec), Redis going away in the middle of a push load', () => {
  it('SHUTDOWN, then a restart: every acknowledged reading lands exactly once', async () => {
    await pushLoadThrough((redis) => redis.shutdown());
  });

  it('SIGKILL of redis-server, then a restart: every acknowledged reading lands exactly once', async () => {
    await pushLoadThrough((redis) => redis.kill());
  });
});

describe('a Redis that is full (maxmemory reached, noeviction)', () => {
  it('refuses the write, and the receiver answers 503: nothing is acknowledged that Redis did not keep', async () => {
    const redis = await privateRedis({ appendonly: true, maxmemoryPolicy: 'noeviction' });
    const place = testPlace({ REDIS_URL: redis.url, PUSH_PORT: '0', PUSH_SECRET });
    cleanups.push(() => place.cleanup());
    const service = await startService(place.config, createLogger('silent'), 'receiver');
    cleanups.push(() => service.stop());
    const receiver = service.parts[0] as PushReceiver;
    const url = `${receiver.url}${place.config.push.path}`;
    const push = async (n: number): Promise<number> =>
      (
        await post(
          url,
          JSON.stringify({
            serial: '24000092104',
            timestamp: new Date(Date.UTC(2024, 6, 1, 0, n)).toISOString(),
            readings: [{ type: 'MOISTURE', depth: 10, value: 20, unit: '%' }],
          }),
        )
      ).status;
    expect(await push(0)).toBe(202);

    // as full as it gets: a limit far below what Redis already uses (just below it raced with memory Redis frees
    // between reading its use and setting the limit, and a write then fitted)
    const admin = new Redis(redis.url);
    cleanups.push(() => admin.disconnect());
    await admin.config('SET', 'maxmemory', '1');
    expect(await push(1)).toBe(503);

    await admin.config('SET', 'maxmemory', '0');
    await eventually(async () => (await push(2)) === 202, 30_000, 'a push acknowledged once Redis has room again');
  });
});

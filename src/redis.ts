/**
 * Redis connections for BullMQ. Two kinds:
 * - blocking consumers (BullMQ workers, QueueEvents): `maxRetriesPerRequest: null`, as BullMQ requires;
 * - producers (the receiver, commands): `enableOfflineQueue: false`, so that while Redis is down a call fails at
 *   once with a clear error instead of hanging in ioredis' offline queue.
 * Keys are prefixed with BullMQ's `prefix` option, never ioredis' keyPrefix (which BullMQ does not support).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { authRefusal, RedisUnavailableError } from './errors.js';

const COMMON: RedisOptions = {
  connectTimeout: 2_000,
  // how long a connection dropped by disconnect() (one never ready, or whose QUIT failed: nothing to flush) waits
  // for the server to close it before it is destroyed. ioredis' 2 s held a command that could not reach Redis open
  // 2 s past its answer, also when the socket had long closed (its timer then runs out whole)
  disconnectTimeout: 100,
  // reconnect forever, at most a second apart: a Redis restart is recovered from without a restart of ours
  retryStrategy: (times) => Math.min(times * 100, 1_000),
};

export function consumerConnection(url: string): Redis {
  return quiet(new Redis(url, { ...COMMON, maxRetriesPerRequest: null }));
}

export function producerConnection(url: string): Redis {
  return quiet(new Redis(url, { ...COMMON, enableOfflineQueue: false, maxRetriesPerRequest: 1 }));
}

/**
 * Connection errors surface where they matter (a command fails, whenReady times out, /readyz says so); without a
 * listener ioredis would also print each reconnect attempt's error to stderr.
 */
function quiet(redis: Redis): Redis {
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once the connection is ready, or throws RedisUnavailableError after `timeoutMs`, or at once when Redis
 * refuses the credentials (no retry makes a wrong password right).
 */
export async function whenReady(redis: Redis, url: string, timeoutMs = 3_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new RedisUnavailableError(url, lastError));
    }, timeoutMs);
    let lastError: unknown;
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void => {
      lastError = err;
      if (authRefusal(err) === undefined) return;
      cleanup();
      reject(new RedisUnavailableError(url, err));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/** Quits politely if connected, otherwise drops the connection. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/** Deletes every key under a queue prefix (the demo's and tests' own queues; never a FLUSH). */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

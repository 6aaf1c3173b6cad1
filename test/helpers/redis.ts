/**
 * Redis for tests. The shared Redis on 127.0.0.1:6379 is never flushed or stopped: each test uses its own queue
 * prefix and deletes only its own keys. A test that must stop or restart Redis starts a private redis-server.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { closeRedis, deleteKeysUnder, producerConnection, whenReady } from '../../src/redis.js';
import { REDIS_URL } from './config.js';

export { freePort, PrivateRedis } from '../../src/dev/private-redis.js';

/** Deletes every key under a test's prefix. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** A queue under a configuration's prefix, on a connection of its own (also given to `fn`), closed afterwards. */
export async function withQueue<T>(
  config: Config,
  name: string,
  fn: (queue: Queue, redis: Redis) => Promise<T>,
): Promise<T> {
  const redis = producerConnection(config.redisUrl);
  const queue = new Queue(name, { connection: redis, prefix: config.queuePrefix });
  try {
    await whenReady(redis, config.redisUrl);
    return await fn(queue, redis);
  } finally {
    await queue.close();
    await closeRedis(redis);
  }
}

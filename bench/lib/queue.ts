/**
 * The bench's view of Redis: its own queue prefix per benchmark, the ingest queue's backlog, and removing its own
 * keys afterwards. The Redis is shared (tests, a developer's service): never FLUSH, never touch another prefix.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES } from '../../src/job-runtime/queues.js';
import { closeRedis, deleteKeysUnder, producerConnection, whenReady } from '../../src/redis.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function benchPrefix(name: string): string {
  return `bench-${name}-${randomBytes(4).toString('hex')}`;
}

/** A view of one prefix's ingest queue. */
export class IngestQueue {
  private constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    readonly prefix: string,
  ) {}

  static async open(prefix: string): Promise<IngestQueue> {
    const redis = producerConnection(REDIS_URL);
    await whenReady(redis, REDIS_URL);
    return new IngestQueue(redis, new Queue(QUEUES.ingest, { connection: redis, prefix }), prefix);
  }

  /** Batches not yet committed by the writer. Zero means every acknowledged reading is queryable. */
  async backlog(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async failed(): Promise<number> {
    return (await this.queue.getJobCounts('failed')).failed ?? 0;
  }

  /** Polls the backlog every `everyMs` until it is empty; the ms waited, or undefined after `timeoutMs`. */
  async waitEmpty(timeoutMs: number, signal?: AbortSignal, everyMs = 10): Promise<number | undefined> {
    const start = performance.now();
    while (performance.now() - start < timeoutMs && !signal?.aborted) {
      if ((await this.backlog()) === 0) return performance.now() - start;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return undefined;
  }

  /** Deletes every key under the prefix (all of them the bench's) and closes the connection. */
  async removeAndClose(): Promise<number> {
    await this.queue.close().catch(() => undefined);
    try {
      return await deleteKeysUnder(this.redis, this.prefix);
    } finally {
      await closeRedis(this.redis);
    }
  }
}

/** Redis' version, and its process id (its CPU belongs to the system under test, not to "other load"). */
export async function redisServer(): Promise<{ version: string | undefined; pid: number | undefined }> {
  const redis = producerConnection(REDIS_URL);
  try {
    await whenReady(redis, REDIS_URL);
    const info = await redis.info('server');
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    return { version: /redis_version:(\S+)/.exec(info)?.[1], pid: pid === undefined ? undefined : Number(pid) };
  } catch {
    return { version: undefined, pid: undefined };
  } finally {
    await closeRedis(redis);
  }
}

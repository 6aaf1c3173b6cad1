/**
 * How many batches of pushed readings wait for the writer. A batch leaves the queue only once its readings are
 * committed, so an empty backlog means every acknowledged reading is queryable.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { QUEUES } from '../job-runtime/queues.js';
import { closeRedis, producerConnection, whenReady } from '../redis.js';

async function ingestBacklog(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Resolves once the writer has landed every batch in the queue; throws after `timeoutMs`. */
export async function waitUntilIngested(config: Config, timeoutMs = 30_000): Promise<void> {
  const redis = producerConnection(config.redisUrl);
  const queue = new Queue(QUEUES.ingest, { connection: redis, prefix: config.queuePrefix });
  queue.on('error', () => undefined); // a Redis outage surfaces below, as a failed call, not as BullMQ's printout
  try {
    await whenReady(redis, config.redisUrl);
    const deadline = Date.now() + timeoutMs;
    let backlog = await ingestBacklog(queue);
    while (backlog > 0) {
      if (Date.now() > deadline)
        throw new Error(`${backlog} batches of pushes still wait for the writer after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
      backlog = await ingestBacklog(queue);
    }
  } finally {
    await queue.close();
    await closeRedis(redis);
  }
}

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

/**
 * How long the oldest batch of pushes not yet landed has waited, in seconds (0 when none waits). The batches the
 * writer holds count too: while the storage fails it keeps them in hand (ingest/consumer.ts).
 */
export async function ingestLagSeconds(queue: Queue): Promise<number> {
  const oldest = [
    ...(await queue.getJobs(['waiting'], 0, 0, true)),
    ...(await queue.getJobs(['active'], 0, 500, true)),
  ];
  if (oldest.length === 0) return 0;
  return (Date.now() - Math.min(...oldest.map((job) => job.timestamp))) / 1000;
}

/** The ingest queue at a glance: batches not yet landed, batches kept failed (for `replay`), the oldest's wait. */
export async function ingestState(queue: Queue): Promise<{ backlog: number; failed: number; lagS: number }> {
  const [backlog, failed, lagS] = await Promise.all([
    ingestBacklog(queue),
    queue.getFailedCount(),
    ingestLagSeconds(queue),
  ]);
  return { backlog, failed, lagS };
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

/**
 * `replay`: sends the failed ingest batches (pushes the writer could not land after all its retries, kept in
 * Redis) through the writer again. Needs only Redis: the running worker, or the next one started, takes them.
 */
import { QUEUES } from '../../job-runtime/queues.js';
import type { Command } from '../context.js';

export const replayCommand: Command = {
  name: 'replay',
  summary: 'send failed batches of pushed readings through the writer again',
  usage: 'replay',
  async run(_args, io) {
    const config = io.config();
    const [{ Queue }, { closeRedis, producerConnection, whenReady }] = await Promise.all([
      import('bullmq'),
      import('../../redis.js'),
    ]);
    const redis = producerConnection(config.redisUrl);
    const queue = new Queue(QUEUES.ingest, { connection: redis, prefix: config.queuePrefix });
    queue.on('error', () => undefined); // a refused AUTH and the like surface in whenReady; BullMQ would print each one
    try {
      await whenReady(redis, config.redisUrl);
      // the failed set as it is now: a batch that fails again goes back there, and waits for the next replay
      const failed = await queue.getFailed(0, -1);
      let replayed = 0;
      for (const job of failed) {
        await job.retry('failed', { resetAttemptsMade: true });
        replayed++;
      }
      await io.out(`${replayed} failed ingest batch${replayed === 1 ? '' : 'es'} sent through again`);
    } finally {
      await queue.close();
      await closeRedis(redis);
    }
  },
};

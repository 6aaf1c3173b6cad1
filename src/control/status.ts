/**
 * `status`: what a person checks first. The warehouse part comes from whoever holds the file (the worker, or the
 * command itself); the queue part straight from Redis.
 */
import { statSync } from 'node:fs';
import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { QUEUES } from '../job-runtime/queues.js';
import { readHeartbeat, type Heartbeat } from './heartbeat.js';
import { closeRedis, producerConnection, whenReady } from '../redis.js';
import { scheduleStates, type ScheduleState } from '../job-runtime/schedules.js';
import type { Row } from '../warehouse/warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface WarehouseStatus {
  path: string;
  fileBytes: number;
  sizes: Row;
  lastRuns: Row[];
}

export interface QueueStatus {
  redis: 'up' | 'unreachable';
  worker: Heartbeat | null; // who holds which warehouse, and whether its writer can write
  queues: Record<string, Record<string, number>>;
  /** How long the oldest batch of pushes not yet landed has waited, in seconds (0 when none waits). */
  ingestLagS: number;
  schedules: ScheduleState[];
}

export async function warehouseStatus(db: Warehouse): Promise<WarehouseStatus> {
  const { sizes, lastRuns } = await db.sizes();
  return { path: db.path, fileBytes: fileSize(db.path) + fileSize(`${db.path}.wal`), sizes, lastRuns };
}

export async function queueStatus(config: Config): Promise<QueueStatus> {
  const redis = producerConnection(config.redisUrl);
  try {
    await whenReady(redis, config.redisUrl, 1_500);
  } catch {
    await closeRedis(redis);
    return { redis: 'unreachable', worker: null, queues: {}, ingestLagS: 0, schedules: [] };
  }
  const queues: QueueStatus['queues'] = {};
  let schedules: ScheduleState[] = [];
  let ingestLagS = 0;
  try {
    for (const name of Object.values(QUEUES)) {
      const queue = new Queue(name, { connection: redis, prefix: config.queuePrefix });
      queues[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      if (name === QUEUES.jobs) schedules = await scheduleStates(queue);
      if (name === QUEUES.ingest) {
        // the batches the writer holds count too: while the storage fails it keeps them in hand (ingest/consumer.ts)
        const oldest = [
          ...(await queue.getJobs(['waiting'], 0, 0, true)),
          ...(await queue.getJobs(['active'], 0, 500, true)),
        ];
        const first = Math.min(...oldest.map((job) => job.timestamp));
        ingestLagS = oldest.length > 0 ? Math.round((Date.now() - first) / 1000) : 0;
      }
      await queue.close();
    }
    return {
      redis: 'up',
      worker: (await readHeartbeat(redis, config.queuePrefix)) ?? null,
      queues,
      ingestLagS,
      schedules,
    };
  } finally {
    await closeRedis(redis);
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

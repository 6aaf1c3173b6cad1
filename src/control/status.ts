/**
 * `status`: what a person checks first. The warehouse part comes from whoever holds the file (the worker, or the
 * command itself); the queue part straight from Redis.
 */
import { statSync } from 'node:fs';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { QUEUES } from '../job-runtime/queues.js';
import { ingestLagSeconds } from '../ingest/backlog.js';
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
  return { path: db.path, fileBytes: warehouseFileBytes(db.path), sizes, lastRuns };
}

/** Bytes of the warehouse file and its WAL. */
export function warehouseFileBytes(path: string): number {
  return fileSize(path) + fileSize(`${path}.wal`);
}

export const REDIS_UNREACHABLE: QueueStatus = {
  redis: 'unreachable',
  worker: null,
  queues: {},
  ingestLagS: 0,
  schedules: [],
};

/** The queues' state, on a connection of its own (the `status` command). */
export async function queueStatus(config: Config): Promise<QueueStatus> {
  const redis = producerConnection(config.redisUrl);
  try {
    await whenReady(redis, config.redisUrl, 1_500);
  } catch {
    await closeRedis(redis);
    return REDIS_UNREACHABLE;
  }
  try {
    return await queueStatusOn(redis, config.queuePrefix);
  } finally {
    await closeRedis(redis);
  }
}

/** The queues' state, on a connection the caller holds (the worker's, for its web page). */
export async function queueStatusOn(redis: Redis, prefix: string): Promise<QueueStatus> {
  const queues: QueueStatus['queues'] = {};
  let schedules: ScheduleState[] = [];
  let ingestLagS = 0;
  for (const name of Object.values(QUEUES)) {
    const queue = new Queue(name, { connection: redis, prefix });
    try {
      queues[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      if (name === QUEUES.jobs) schedules = await scheduleStates(queue);
      if (name === QUEUES.ingest) ingestLagS = Math.round(await ingestLagSeconds(queue));
    } finally {
      await queue.close(); // the connection is the caller's: a Queue given one leaves it open
    }
  }
  return { redis: 'up', worker: (await readHeartbeat(redis, prefix)) ?? null, queues, ingestLagS, schedules };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * The request channel from commands to the running worker. While the worker runs it holds the DuckDB file, so a
 * command (`sync`, `query`, `status`, `export`, `backfill`, ...) adds a job to the `control` queue, the worker
 * does the work and the command prints its answer. With no worker running, the command does the work itself
 * (see local.ts). Progress (for backfill's bar) travels as BullMQ job progress.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Config } from '../config.js';
import { ErrorCodes, RedisUnavailableError, SyncError, type ErrorCode } from '../errors.js';
import { heartbeatKey, QUEUES } from '../queues.js';
import { closeRedis, consumerConnection, producerConnection, whenReady } from '../redis.js';

/** How long a request may wait for the worker to pick it up before we say the worker is not answering. */
const PICKUP_TIMEOUT_MS = 15_000;

export interface AskOptions {
  timeoutMs: number;
  onProgress?: (progress: unknown) => void;
}

/** True when a worker's heartbeat is in Redis; false when none is, or Redis does not answer. */
export async function workerIsRunning(config: Config): Promise<boolean> {
  const redis = producerConnection(config.redisUrl);
  try {
    await whenReady(redis, config.redisUrl, 1_500);
    return (await redis.exists(heartbeatKey(config.queuePrefix))) === 1;
  } catch (err) {
    if (err instanceof RedisUnavailableError) return false;
    throw err;
  } finally {
    await closeRedis(redis);
  }
}

export async function askWorker<T>(config: Config, kind: string, payload: unknown, opts: AskOptions): Promise<T> {
  const producer = producerConnection(config.redisUrl);
  const listener = consumerConnection(config.redisUrl);
  const queue = new Queue(QUEUES.control, { connection: producer, prefix: config.queuePrefix });
  const events = new QueueEvents(QUEUES.control, { connection: listener, prefix: config.queuePrefix });
  try {
    await whenReady(producer, config.redisUrl);
    await events.waitUntilReady();
    const job = await queue.add(kind, payload, { attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 3_600 } });
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
      if (jobId === job.id) opts.onProgress?.(data);
    };
    events.on('progress', onProgress);
    const pickup = watchPickup(queue, job.id!);
    try {
      return (await Promise.race([job.waitUntilFinished(events, opts.timeoutMs), pickup.failed])) as T;
    } catch (err) {
      throw asWorkerError(kind, err);
    } finally {
      pickup.stop();
      events.off('progress', onProgress);
    }
  } finally {
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await closeRedis(listener);
    await closeRedis(producer);
  }
}

/** Rejects if the request is still waiting after PICKUP_TIMEOUT_MS (the worker died after its last heartbeat). */
function watchPickup(queue: Queue, jobId: string): { failed: Promise<never>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const job = await queue.getJob(jobId).catch(() => undefined);
      if (job && (await job.getState()) === 'waiting') {
        await job.remove().catch(() => undefined);
        reject(new SyncError(ErrorCodes.WORKER_TIMEOUT, `the worker did not pick up the request within ${PICKUP_TIMEOUT_MS / 1000}s: is it running? (sensoterra-sync status)`));
      }
    }, PICKUP_TIMEOUT_MS);
  });
  failed.catch(() => undefined);
  return { failed, stop: () => clearTimeout(timer) };
}

/** A SyncError as the message of a plain Error, which is all BullMQ carries back from the worker. */
export function encodeError(err: SyncError): string {
  return `${err.code}|${err.message}`;
}

/** The worker's error comes back as a plain Error: restore its code and message. */
function asWorkerError(kind: string, err: unknown): Error {
  if (err instanceof SyncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const coded = /^(E_[A-Z_]+)\|([\s\S]*)$/.exec(message);
  if (coded) return new SyncError(coded[1] as ErrorCode, coded[2]!);
  if (/timed out before finishing/i.test(message)) {
    return new SyncError(ErrorCodes.WORKER_TIMEOUT, `the worker did not finish "${kind}" in time; it may still be running it (see sensoterra-sync status)`);
  }
  return new SyncError(ErrorCodes.WAREHOUSE, message);
}

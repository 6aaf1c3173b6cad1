/**
 * The request channel from commands to the running worker. While the worker runs it holds the DuckDB file, so a
 * command (`sync`, `query`, `status`, `export`, `backfill`, ...) adds a job to the `control` queue, the worker
 * does the work and the command prints its answer. With no worker running, the command does the work itself
 * (see local.ts). Progress (for backfill's bar) travels as BullMQ job progress; the answer under a key of its own,
 * which the command reads and deletes (takeAnswer), never as the job's return value (kept in the job and its events).
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import {
  ErrorCodes,
  QueryRefusedError,
  RedisUnavailableError,
  SyncError,
  deserializeError,
  type ErrorCode,
  type SerializedError,
} from '../errors.js';
import { HEARTBEAT_INTERVAL_MS, QUEUES } from '../job-runtime/queues.js';
import { readHeartbeat, warehouseIdentity, type Heartbeat } from './heartbeat.js';
import type { Logger } from '../logger.js';
import { closeRedis, producerConnection, whenReady } from '../redis.js';

/**
 * How long an answer waits in Redis for the command to read it. The command reads it within a poll (at most
 * POLL_MS) of the worker finishing; past this, it has gone and the answer expires.
 */
export const ANSWER_TTL_MS = 30_000;
/** The command renews a key saying it still waits; without it the worker does not store the answer at all. */
const WAITING_TTL_MS = 5_000;

/** The key by which a command says it still waits for the answer to a request. */
export function waitingKey(prefix: string, jobId: string): string {
  return `${prefix}:control:waiting:${jobId}`;
}

/** Where the worker puts the answer to a request; the command reads it once and deletes it. */
export function answerKey(prefix: string, jobId: string): string {
  return `${prefix}:control:answer:${jobId}`;
}

/** How long a request may wait for the worker to pick it up before we say the worker is not answering. */
const PICKUP_TIMEOUT_MS = 15_000;
/** How often a command looks for the worker's answer: often at first (most answers take milliseconds), then less. */
const POLL_FAST_MS = 20;
const POLL_MS = 200;

export interface AskOptions {
  timeoutMs: number;
  onProgress?: (progress: unknown) => void;
}

/** The running worker's heartbeat (undefined when none beats), or why Redis could not be asked. */
export async function findWorker(
  config: Config,
): Promise<{ beat: Heartbeat | undefined; redisDown?: RedisUnavailableError }> {
  const redis = producerConnection(config.redisUrl);
  try {
    await whenReady(redis, config.redisUrl, 1_500);
    return { beat: await readHeartbeat(redis, config.queuePrefix) };
  } catch (err) {
    if (err instanceof RedisUnavailableError) return { beat: undefined, redisDown: err };
    throw err;
  } finally {
    await closeRedis(redis);
  }
}

/** True when a worker holding this configuration's warehouse runs. */
export async function workerIsRunning(config: Config): Promise<boolean> {
  return (await findWorker(config)).beat?.warehouse === warehouseIdentity(config.warehousePath);
}

export async function askWorker<T>(
  config: Config,
  kind: string,
  payload: unknown,
  opts: AskOptions & { log?: Logger },
): Promise<T> {
  const redis = producerConnection(config.redisUrl);
  const queue = new Queue(QUEUES.control, { connection: redis, prefix: config.queuePrefix });
  try {
    await whenReady(redis, config.redisUrl);
    // "still waiting" is said before the request exists: a fast answer never finds the command gone
    const jobId = randomUUID();
    const waiting = waitingKey(config.queuePrefix, jobId);
    const stillWaiting = (): Promise<unknown> => redis.set(waiting, '1', 'PX', WAITING_TTL_MS).catch(() => undefined);
    await redis.set(waiting, '1', 'PX', WAITING_TTL_MS);
    const renew = setInterval(() => void stillWaiting(), WAITING_TTL_MS / 5);
    // interrupted (Ctrl-C, a supervisor's SIGTERM): say at once that nobody waits, so the answer is not stored; and
    // end the command as the signal would have, unless something else in this process (the demo) handles it
    const ownsSignals = process.listenerCount('SIGINT') === 0 && process.listenerCount('SIGTERM') === 0;
    const giveUp = (signal: NodeJS.Signals): void => {
      void redis.del(waiting).finally(() => {
        if (ownsSignals) process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    };
    process.once('SIGINT', giveUp);
    process.once('SIGTERM', giveUp);
    try {
      // the worker checks it holds the warehouse this command names before it answers
      const job = await queue.add(
        kind,
        { warehouse: warehouseIdentity(config.warehousePath), payload },
        { jobId, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 3_600 } },
      );
      opts.log?.debug({ kind, jobId: job.id }, 'request sent to the worker');
      const finished = (await waitForAnswer(queue, jobId, kind, opts, () => workerBeats(redis, config))) as {
        answer?: unknown;
      } | null;
      // the request (its SQL, and an error in its answer) leaves Redis once the worker has answered it
      await queue.remove(jobId).catch(() => undefined);
      return (await takeAnswer(redis, finished)) as T;
    } finally {
      clearInterval(renew);
      process.off('SIGINT', giveUp);
      process.off('SIGTERM', giveUp);
      await redis.del(waiting).catch(() => undefined);
    }
  } finally {
    await queue.close().catch(() => undefined);
    await closeRedis(redis);
  }
}

/**
 * Polls the request until the worker has answered. (Not QueueEvents: a busy machine can delay its first stream
 * read past a fast answer, which it then never hears of. One small read every few ms cannot miss anything.)
 */
async function waitForAnswer(
  queue: Queue,
  jobId: string,
  kind: string,
  opts: AskOptions,
  workerAlive: () => Promise<boolean>,
): Promise<unknown> {
  const started = Date.now();
  let progress: unknown;
  let lastLook = started;
  for (;;) {
    const job = await queue.getJob(jobId);
    if (!job)
      throw new SyncError(
        ErrorCodes.WORKER_TIMEOUT,
        `the request "${kind}" vanished from Redis before the worker answered it`,
      );
    if (job.processedOn !== undefined && JSON.stringify(job.progress) !== JSON.stringify(progress)) {
      progress = job.progress;
      opts.onProgress?.(progress);
    }
    if (job.finishedOn !== undefined) {
      if (job.failedReason && /stalled more than allowable limit/.test(job.failedReason)) {
        throw new SyncError(
          ErrorCodes.WORKER_TIMEOUT,
          `the worker stopped while it held "${kind}" (killed or restarted), and does not run it again: run the command again if you still want it`,
        );
      }
      if (job.failedReason) throw asWorkerError(new Error(job.failedReason));
      return job.returnvalue;
    }
    const waited = Date.now() - started;
    if (job.processedOn === undefined && waited > PICKUP_TIMEOUT_MS) {
      await job.remove().catch(() => undefined);
      throw new SyncError(
        ErrorCodes.WORKER_TIMEOUT,
        `the worker did not pick up the request within ${PICKUP_TIMEOUT_MS / 1000}s: is it running? (sensoterra-sync status)`,
      );
    }
    // a worker that died with the request in hand: its heartbeat expires, and no other worker will run it
    if (job.processedOn !== undefined && Date.now() - lastLook > HEARTBEAT_INTERVAL_MS) {
      lastLook = Date.now();
      if (!(await workerAlive())) {
        throw new SyncError(
          ErrorCodes.WORKER_TIMEOUT,
          `the worker stopped while it held "${kind}" (its heartbeat expired), and no worker runs it again: run the command again once a worker runs`,
        );
      }
    }
    if (waited > opts.timeoutMs) {
      throw new SyncError(
        ErrorCodes.WORKER_TIMEOUT,
        `the worker did not finish "${kind}" within ${Math.round(opts.timeoutMs / 1000)}s; it may still be running it (see sensoterra-sync status)`,
      );
    }
    await new Promise((r) => setTimeout(r, waited < 1_000 ? POLL_FAST_MS : POLL_MS));
  }
}

/** Whether the worker holding this configuration's warehouse still beats. */
async function workerBeats(redis: Redis, config: Config): Promise<boolean> {
  const beat = await readHeartbeat(redis, config.queuePrefix).catch(() => null);
  if (beat === null) return true; // Redis did not answer: no news of the worker either way
  return beat?.warehouse === warehouseIdentity(config.warehousePath);
}

/**
 * A command's answer as the text it travels as, refused past QUERY_MAX_ANSWER_BYTES: through the worker and in a
 * command that runs on the file itself alike, so that a query answers the same either way.
 */
export function answerText(result: unknown, config: Config): string {
  const text = JSON.stringify(result ?? null);
  const bytes = Buffer.byteLength(text);
  if (bytes > config.queryMaxAnswerBytes) {
    throw new QueryRefusedError(
      `the answer is ${bytes} bytes, more than QUERY_MAX_ANSWER_BYTES=${config.queryMaxAnswerBytes}: narrow the query (fewer columns or rows, an aggregate) or read the published export`,
    );
  }
  return text;
}

/** Reads the answer the worker left under its own key, and removes it from Redis. */
async function takeAnswer(redis: Redis, finished: { answer?: unknown } | null): Promise<unknown> {
  if ((finished as { abandoned?: unknown } | null)?.abandoned === true) {
    throw new SyncError(
      ErrorCodes.WORKER_TIMEOUT,
      'the worker took this command for gone and dropped its answer (Redis was slow to say it waits): run the command again',
    );
  }
  if (isFailure(finished)) throw deserializeError(finished.failed);
  if (typeof finished?.answer !== 'string') return finished; // an older worker answered in the job itself
  const [[, text]] = (await redis.multi().get(finished.answer).del(finished.answer).exec()) as [
    [Error | null, string | null],
    unknown,
  ];
  if (text === null)
    throw new SyncError(
      ErrorCodes.WORKER_TIMEOUT,
      'the answer expired in Redis before it could be read: run the command again',
    );
  return JSON.parse(text) as unknown;
}

/** The worker's answer to a request that failed: the error whole (errors.ts: serializeError). */
function isFailure(finished: unknown): finished is { failed: SerializedError } {
  const failed = (finished as { failed?: unknown } | null)?.failed;
  return typeof failed === 'object' && failed !== null && typeof (failed as SerializedError).message === 'string';
}

/**
 * A request the worker could not even answer (it threw past its handler, or it is a version that sent errors as
 * `E_CODE|message` text, all BullMQ carries back): the code when there is one, and the message.
 */
function asWorkerError(err: Error): Error {
  const coded = /^(E_[A-Z_]+)\|([\s\S]*)$/.exec(err.message);
  return coded ? new SyncError(coded[1] as ErrorCode, coded[2]!) : new SyncError(ErrorCodes.WAREHOUSE, err.message);
}

/**
 * The one writer of pushed readings. Receivers enqueue a BullMQ job per group-commit batch, which at a steady load
 * can mean hundreds of small jobs a second; a transaction per job would cap the writer far below the receivers.
 * So the writer fetches jobs by hand (BullMQ's manual processing): it takes the first job waiting, then every job
 * already waiting behind it (up to a bound), lands them all in one transaction, and completes them together.
 * Locks are extended while it works, the stalled-job check hands the jobs of a writer that died back to the queue,
 * and a job that fails is retried with backoff and, after its last attempt, kept in the failed set for `replay`.
 *
 * No poison blocks others: when a transaction fails, its jobs are landed one by one, and a job that fails alone is
 * landed push by push; a push that still cannot be stored (twice) is parked alone in rejected_pushes, with the
 * reason, and the rest of its batch lands. Only when the warehouse itself fails (parking fails too) does the job
 * fail, to be retried.
 *
 * A storage failure (a full disk; DuckDB's IO, commit and FATAL errors, warehouse/faults.ts) is nobody's poison: the
 * writer keeps the batches in hand (their locks renewed), waits until the warehouse is writable again (reopened
 * by the worker if DuckDB invalidated it), and lands them then. Meanwhile it fetches nothing: the rest waits in
 * Redis, without spending retry attempts, and everything lands without a manual step once space is back.
 */
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobContext, type JobDeps } from '../job-runtime/runner.js';
import { landPushes, pushBatch, type LandedPushes } from './land-pushes.js';
import { releaseNativeMemory } from '../native-memory.js';
import { QUEUES } from '../job-runtime/queues.js';
import { closeRedis, consumerConnection } from '../redis.js';
import { errorMessage } from '../errors.js';
import { DAY_MS } from '../warehouse/days.js';
import { isStorageFault } from '../warehouse/faults.js';

/** Bounds of one transaction. */
const MAX_JOBS = 500;
const MAX_PUSHES = 20_000;
const MAX_BYTES = 4 * 1_048_576; // the writer holds ~2 KB per reading until commit: 4 MB of bodies is ~80 MB (BENCHMARKS.md, writer-cost)
/** A short lock, so that a crashed writer's batches are taken up again within seconds. */
const LOCK_MS = 10_000;
/** While the storage fails: how long between attempts (doubling up to the second figure). */
const STORAGE_RETRY_MS = [250, 5_000] as const;
const PRUNE_EVERY_MS = 60 * 60_000;

export class IngestConsumer {
  private readonly worker: Worker;
  private readonly connection: Redis;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private lastPrune = 0;
  /** Batches completed or failed: a retry after a storage fault leaves them alone. */
  private readonly settled = new WeakSet<Job>();

  constructor(private readonly deps: JobDeps) {
    this.connection = consumerConnection(deps.config.redisUrl);
    this.worker = new Worker(QUEUES.ingest, null, {
      connection: this.connection,
      prefix: deps.config.queuePrefix,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS / 2,
      // seconds a fetch blocks when the queue is empty (a push wakes it at once): what stopping waits for at most.
      // At 1 s every stop of the service took a second; an idle writer now fetches five times a second instead (a
      // BZPOPMIN, then BullMQ's moveToActive script).
      drainDelay: 0.2,
      maxStalledCount: 2, // a batch whose writer keeps losing its lock ends in the failed set (for replay), not in a loop
    });
    this.worker.on('error', (err) => deps.log.error({ err, queue: QUEUES.ingest }, 'ingest consumer error'));
  }

  start(): void {
    this.worker
      .startStalledCheckTimer()
      .catch((err: unknown) => this.deps.log.error({ err }, 'stalled-job check could not start'));
    this.loop = this.run();
  }

  /** Finishes the transaction in hand, then stops fetching. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.worker.close();
    await closeRedis(this.connection);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.deps.db.health().reopening) {
          await sleep(250); // the worker reopens the warehouse; nothing could be landed before that
          continue;
        }
        const token = randomUUID();
        const jobs = await this.fetch(token);
        if (jobs.length === 0) continue;
        await this.land(jobs, token);
        releaseNativeMemory();
        if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) await this.pruneRetained();
      } catch (err) {
        if (this.stopping) return;
        this.deps.log.error({ err }, 'ingest loop failed; going on in a second');
        await sleep(1_000);
      }
    }
  }

  /**
   * Verbatim pushes are kept RAW_PUSH_RETENTION_DAYS, rejected pushes REJECTED_PUSH_RETENTION_DAYS, conflicting
   * values READING_CONFLICT_RETENTION_DAYS (by when they were received); checked after the first batch, then at
   * most hourly.
   */
  private async pruneRetained(): Promise<void> {
    this.lastPrune = Date.now();
    const { config } = this.deps;
    const daysAgo = (days: number): Date => new Date(this.lastPrune - days * DAY_MS);
    const before = {
      raw_pushes: daysAgo(config.rawPushRetentionDays),
      rejected_pushes: daysAgo(config.rejectedPushRetentionDays),
      reading_conflicts: daysAgo(config.readingConflictRetentionDays),
    };
    const pruned = await this.deps.db.pruneRetained(before);
    if (Object.values(pruned).some((n) => n > 0))
      this.deps.log.info({ pruned, before }, 'rows past their retention removed');
  }

  /** The first waiting job (waiting up to drainDelay for one), then those already waiting behind it. */
  private async fetch(token: string): Promise<Job[]> {
    const first = await this.worker.getNextJob(token, { block: true });
    if (!first) return [];
    const jobs: Job[] = [first];
    let { pushes, bytes } = sizeOf(first);
    while (jobs.length < MAX_JOBS && pushes < MAX_PUSHES && bytes < MAX_BYTES && !this.stopping) {
      const next = await this.worker.getNextJob(token, { block: false });
      if (!next) break;
      jobs.push(next);
      const size = sizeOf(next);
      pushes += size.pushes;
      bytes += size.bytes;
    }
    return jobs;
  }

  private async land(jobs: Job[], token: string): Promise<void> {
    const valid: Job[] = [];
    for (const job of jobs) {
      const check = pushBatch.safeParse(job.data);
      if (check.success) valid.push(job);
      else
        await job.moveToFailed(
          new UnrecoverableError(`invalid ingest payload: ${check.error.issues[0]?.message}`),
          token,
          false,
        );
    }
    if (valid.length === 0) return;
    const keepLocked = setInterval(() => {
      for (const job of valid) void job.extendLock(token, LOCK_MS).catch(() => undefined);
    }, LOCK_MS / 3);
    try {
      await this.landThroughStorageFaults(valid, token);
    } finally {
      clearInterval(keepLocked);
    }
  }

  /** Lands the batches, waiting out a storage failure with them in hand (see the header). */
  private async landThroughStorageFaults(jobs: Job[], token: string): Promise<void> {
    let pause: number = STORAGE_RETRY_MS[0];
    for (;;) {
      try {
        // batches already completed or failed before the fault are not ours any more
        return await this.landTogether(
          jobs.filter((job) => !this.settled.has(job)),
          token,
        );
      } catch (err) {
        if (!isStorageFault(err)) throw err;
        if (this.stopping) return; // the locks lapse and the stalled-job check hands the batches to the next writer
        this.deps.log.debug(
          { err, jobs: jobs.length, pauseMs: pause },
          'the warehouse cannot store batches now: keeping them and trying again',
        );
        await sleep(pause);
        while (this.deps.db.health().reopening && !this.stopping) await sleep(250);
        pause = Math.min(pause * 2, STORAGE_RETRY_MS[1]);
      }
    }
  }

  /** All in one transaction; if that fails, each job on its own, so that one bad batch fails alone. */
  private async landTogether(jobs: Job[], token: string): Promise<void> {
    if (jobs.length === 0) return;
    try {
      const result = await this.write(jobs, jobs.flatMap(pushesOf));
      // the daily rollup too, before the batches count as done: a drained queue means everything is queryable
      await this.deps.db.refreshRollup();
      await Promise.all(jobs.map((job) => job.moveToCompleted(result.summary, token, false)));
      for (const job of jobs) this.settled.add(job);
    } catch (err) {
      if (isStorageFault(err)) throw err; // not the batches' fault: they wait (landThroughStorageFaults)
      if (jobs.length === 1) return this.landPushByPush(jobs[0]!, token, err);
      this.deps.log.warn({ err, jobs: jobs.length }, 'ingest batches failed together: landing them one by one');
      for (const job of jobs) await this.landTogether([job], token);
    }
  }

  /** A job that failed alone: each push on its own, and the one that cannot be stored parked with its reason. */
  private async landPushByPush(job: Job, token: string, jobError: unknown): Promise<void> {
    const pushes = pushesOf(job);
    this.deps.log.warn(
      { err: jobError, jobId: job.id, pushes: pushes.length },
      'ingest batch failed: landing its pushes one by one',
    );
    let parked = 0;
    try {
      for (const push of pushes) {
        if (!(await this.landOne(job, push))) parked++;
      }
      await this.deps.db.refreshRollup();
      await job.moveToCompleted(`landed push by push, ${parked} parked in rejected_pushes`, token, false);
      this.settled.add(job);
    } catch (err) {
      if (isStorageFault(err)) throw err; // the storage, not the push: the batch waits and lands later
      // the warehouse itself fails (parking failed too): the batch waits in Redis to be retried
      this.deps.log.error({ err, jobId: job.id, attempt: job.attemptsMade + 1 }, 'ingest batch failed');
      await this.fail(job, token, err as Error);
    }
  }

  /** True if the push landed; false if it was parked. Throws if it could not even be parked. */
  private async landOne(job: Job, push: unknown): Promise<boolean> {
    let error: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.write([job], [push]);
        return true;
      } catch (err) {
        if (isStorageFault(err)) throw err; // never parked for the storage's fault
        error = err; // once more: a passing fault is not a poison
      }
    }
    const { r, b } = (push ?? {}) as { r?: unknown; b?: unknown };
    const receivedAt = new Date(typeof r === 'number' && Number.isFinite(r) ? r : Date.now());
    const reason = `the writer could not store this push: ${errorMessage(error)}`;
    const body = typeof b === 'string' ? b : '(no body text)';
    await this.deps.db.parkPush(receivedAt, reason, body);
    this.deps.metrics?.writerPushes.inc({ outcome: 'parked' });
    this.deps.log.error({ err: error, jobId: job.id }, 'push parked in rejected_pushes: the writer cannot store it');
    return false;
  }

  /** Counts the attempt even after a long wait: the lock is renewed first, so moving the job cannot fail on it. */
  private async fail(job: Job, token: string, err: Error): Promise<void> {
    this.settled.add(job);
    await job.extendLock(token, LOCK_MS).catch(() => undefined);
    await job.moveToFailed(err, token, false).catch((moveErr: unknown) => {
      // the lock was lost (the stalled-job check took the job back): it is retried, and counted as stalled
      this.deps.log.error({ err: moveErr, jobId: job.id }, 'ingest batch could not be marked failed');
    });
  }

  private async write(jobs: Job[], pushes: unknown[]): Promise<LandedPushes> {
    const runId = `ingest-${jobs[0]!.id}-${jobs.length}`;
    const log = this.deps.log.child({ job: 'ingest-pushes', runId });
    const ctx = jobContext(this.deps, { runId, startedAt: new Date(), trigger: 'push', log });
    const result = await landPushes({ pushes }, ctx);
    log.debug({ batches: jobs.length, pushes: pushes.length, inserted: result.inserted }, 'pushes landed');
    this.count(result, pushes.length);
    return result;
  }

  /** What a committed transaction landed, for the metrics. */
  private count(result: LandedPushes, pushes: number): void {
    const { metrics } = this.deps;
    if (metrics === undefined) return;
    const { details } = result;
    metrics.writerPushes.inc({ outcome: 'landed' }, pushes);
    metrics.writerReadings.inc({ outcome: 'inserted' }, result.inserted);
    metrics.writerReadings.inc({ outcome: 'duplicate' }, details.duplicates);
    metrics.writerReadings.inc({ outcome: 'conflict' }, result.conflicts ?? 0);
    metrics.writerRejected.inc(details.rejected);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The job's pushes, each with the limits its receiver judged it by (when the job says). */
function pushesOf(job: Job): unknown[] {
  const { pushes, limits } = (job.data ?? {}) as { pushes?: unknown; limits?: unknown };
  if (!Array.isArray(pushes)) return [];
  if (typeof limits !== 'object' || limits === null) return pushes;
  return pushes.map((push: unknown) => (typeof push === 'object' && push !== null ? { ...push, l: limits } : push));
}

/** How many pushes and body bytes a job holds (read from its data as it is: nothing copied). */
function sizeOf(job: Job): { pushes: number; bytes: number } {
  const pushes = (job.data as { pushes?: unknown } | undefined)?.pushes;
  if (!Array.isArray(pushes)) return { pushes: 0, bytes: 0 };
  let bytes = 0;
  for (const push of pushes)
    bytes += typeof (push as { b?: unknown })?.b === 'string' ? (push as { b: string }).b.length : 0;
  return { pushes: pushes.length, bytes };
}

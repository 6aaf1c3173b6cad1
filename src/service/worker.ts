/**
 * The worker role: the one process that owns the DuckDB file. It runs the scheduled jobs (queue `jobs`), writes
 * pushed readings (queue `ingest`), answers commands (queue `control`), and keeps a heartbeat in Redis so that
 * commands know to ask it rather than open the file. Run exactly one per warehouse and QUEUE_PREFIX: DuckDB's lock
 * turns away a second process on the same file, the heartbeat (control/heartbeat.ts) a worker with another warehouse.
 * When the storage fails (a full disk), the worker stays up, says so, and reopens the warehouse once it can.
 */
import {
  Queue,
  UnrecoverableError,
  Worker,
  type Job,
  type Processor,
  type WorkerOptions as WorkerOptions_,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ANSWER_TTL_MS, answerKey, answerText, waitingKey } from '../control/channel.js';
import { controlHandlers } from '../control/handlers.js';
import { warehouseFileBytes } from '../control/status.js';
import { ErrorCodes, SyncError, coerceError, isRetryable, serializeError } from '../errors.js';
import { IngestConsumer } from '../ingest/consumer.js';
import { ingestState } from '../ingest/backlog.js';
import { Metrics } from '../metrics/metrics.js';
import { JOBS } from '../job-runtime/registry.js';
import { runJob, type JobDeps } from '../job-runtime/runner.js';
import type { Logger } from '../logger.js';
import { beatOrGiveWay, claimPrefix, heartbeatOf, readHeartbeat, warehouseIdentity } from '../control/heartbeat.js';
import { HEARTBEAT_INTERVAL_MS, QUEUES, heartbeatKey } from '../job-runtime/queues.js';
import { closeRedis, consumerConnection, producerConnection, whenReady } from '../redis.js';
import { checkSchedules, upsertSchedules } from '../job-runtime/schedules.js';
import { SensoterraClient, warnIfTokenExpiring, type ClientOptions } from '../sensoterra/client.js';
import { UiServer } from '../ui/server.js';
import { Warehouse } from '../warehouse/warehouse.js';

export interface WorkerOptions {
  clientOptions?: ClientOptions; // tests shorten the client's backoff
  watchdogIntervalMs?: number;
  clock?: () => Date; // tests run jobs on the simulator's clock
  /** How often a warehouse that is down (a full disk) is reopened; tests shorten it. */
  recoverIntervalMs?: number;
  /**
   * Called when this worker finds, after it started, that another worker serves its prefix with another warehouse
   * and started first (control/heartbeat.ts): the worker has stopped; `start` then exits non-zero.
   */
  onGiveWay?: (err: SyncError) => void;
  /** The process's metrics, served on METRICS_PORT (service.ts); a worker of its own keeps its counts to itself. */
  metrics?: Metrics;
}

const OPEN_RETRY_MS = 15_000;
const RECOVER_INTERVAL_MS = 5_000;

export class WorkerService {
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  private recovering = false;
  private gaveWay: SyncError | undefined;
  private ingest: IngestConsumer | undefined;
  private ui: UiServer | undefined;

  private constructor(
    readonly deps: JobDeps,
    private readonly redis: Redis,
    private readonly jobsQueue: Queue,
    private readonly ingestQueue: Queue,
    private readonly client: { current?: SensoterraClient },
    private readonly startedAt: number,
    private readonly onGiveWay: ((err: SyncError) => void) | undefined,
  ) {}

  static async start(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<WorkerService> {
    warnIfTokenExpiring(config.api.token, log);
    const startedAt = Date.now();
    const redis = producerConnection(config.redisUrl);
    let db: Warehouse | undefined;
    try {
      await whenReady(redis, config.redisUrl);
      // before the file: a worker that would split a prefix with another warehouse stops here, having touched nothing
      await claimPrefix(redis, config.queuePrefix, heartbeatOf(config.warehousePath, { state: 'up' }, startedAt));
      db = await openWithRetry(config, log);
      if (db.health().state === 'up') await db.applySettings(config);
    } catch (err) {
      await db?.close();
      await closeRedis(redis);
      throw err;
    }
    const client: { current?: SensoterraClient } = {};
    const metrics = opts.metrics ?? new Metrics();
    const deps: JobDeps = {
      db,
      config,
      log,
      clock: opts.clock,
      metrics,
      api: () => (client.current ??= new SensoterraClient(config, log, { ...opts.clientOptions, metrics })),
    };
    const jobsQueue = new Queue(QUEUES.jobs, { connection: redis, prefix: config.queuePrefix });
    jobsQueue.on('error', (err) => log.warn({ err, queue: QUEUES.jobs }, 'jobs queue error: is Redis down?'));
    const ingestQueue = new Queue(QUEUES.ingest, { connection: redis, prefix: config.queuePrefix });
    ingestQueue.on('error', () => undefined); // read only for the metrics, which leave the gauges out while Redis is down
    const service = new WorkerService(deps, redis, jobsQueue, ingestQueue, client, startedAt, opts.onGiveWay);
    try {
      await service.run(opts);
    } catch (err) {
      await service.stop(); // half started is not started: let go of the file and of Redis
      throw err;
    }
    log.info({ warehouse: config.warehousePath, prefix: config.queuePrefix }, 'worker started');
    return service;
  }

  /** Schedules first (they may fail on a bad pattern), then the consumers, then the heartbeat commands look for. */
  private async run(opts: WorkerOptions): Promise<void> {
    const { config, log } = this.deps;
    await upsertSchedules(this.jobsQueue, config, log);
    // once more before taking any work: an earlier worker with another warehouse may have beaten since the claim
    await this.beat();
    if (this.gaveWay) throw this.gaveWay;
    this.consume(QUEUES.jobs, 1, (job) => this.runScheduled(job));
    this.ingest = new IngestConsumer(this.deps);
    this.ingest.start();
    const handlers = controlHandlers(this.deps);
    // a request whose worker died is never run again: the command that sent it has given up (or reports the failure)
    // (a short lock, so that this is known within seconds of the next worker starting)
    this.consume(QUEUES.control, 4, (job) => this.answer(handlers, job), {
      maxStalledCount: 0,
      lockDuration: 10_000,
      stalledInterval: 5_000,
    });
    const checkEveryMs = opts.watchdogIntervalMs ?? 60_000;
    this.timers.push(
      setInterval(
        () =>
          void checkSchedules(this.jobsQueue, config, log).catch((err: unknown) =>
            log.warn({ err }, 'schedule watchdog failed'),
          ),
        checkEveryMs,
      ),
    );
    this.timers.push(setInterval(() => void this.recover(), opts.recoverIntervalMs ?? RECOVER_INTERVAL_MS));
    await this.beat();
    this.timers.push(setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS));
    await this.watchMetrics();
    if (config.ui.port !== 0) this.ui = await UiServer.start({ ...this.deps, redis: this.redis });
  }

  /** The web page's address, when UI_PORT serves one. */
  get uiUrl(): string | undefined {
    return this.ui?.url;
  }

  /** The worker's gauges, read when scraped, and when each job last succeeded, from the warehouse. */
  private async watchMetrics(): Promise<void> {
    const { db, config, metrics, log } = this.deps;
    if (metrics === undefined) return;
    metrics.serveWorker(Object.keys(JOBS));
    metrics.watchWorker({
      ingest: () => ingestState(this.ingestQueue),
      warehouseBytes: () => warehouseFileBytes(config.warehousePath),
    });
    if (db.health().state !== 'up') return; // a warehouse that cannot be read now: the gauges fill as jobs succeed
    try {
      // the jobs that run through the runner (ingest-pushes records its batches in sync_runs too, but is no job)
      for (const { job, finishedAt } of await db.lastSuccesses())
        if (job in JOBS) metrics.jobLastSuccess.set({ job_name: job }, finishedAt.getTime() / 1000);
    } catch (err) {
      log.warn({ err }, 'when jobs last succeeded could not be read: the metrics have it from their next runs');
    }
  }

  get jobs(): Queue {
    return this.jobsQueue;
  }

  /** Finishes the jobs in hand, then lets go of the file and of Redis. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearInterval(timer);
      this.deps.metrics?.watchWorker(undefined);
      await this.ui?.stop();
      await Promise.all([...this.workers.map((w) => w.close()), this.ingest?.stop()]);
      await Promise.all(this.connections.map((c) => closeRedis(c)));
      await this.dropHeartbeat();
      await this.jobsQueue.close();
      await this.ingestQueue.close();
      await this.client.current?.close();
      await this.deps.db.close();
      await closeRedis(this.redis);
      this.deps.log.info('worker stopped');
    })();
    return this.stopping;
  }

  private consume(
    queue: string,
    concurrency: number,
    processor: Processor,
    options: Partial<WorkerOptions_> = {},
  ): void {
    const { config, log } = this.deps;
    const connection = consumerConnection(config.redisUrl);
    this.connections.push(connection);
    const worker = new Worker(queue, processor, {
      connection,
      prefix: config.queuePrefix,
      concurrency,
      ...options,
    });
    worker.on('error', (err) => log.error({ err, queue }, 'queue consumer error'));
    this.workers.push(worker);
  }

  private async runScheduled(job: Job): Promise<unknown> {
    const trigger = job.repeatJobKey ? 'schedule' : 'queued';
    try {
      return await runJob(job.name, job.data, this.deps, { trigger: job.attemptsMade > 0 ? 'retry' : trigger });
    } catch (err) {
      // an error that retrying cannot cure (401, a broken contract, a bad payload) fails the job at once
      if (!isRetryable(err)) throw unrecoverable(err);
      throw err;
    }
  }

  /**
   * Runs a command's request. The answer does not travel as the job's return value (BullMQ keeps that in the job and
   * copies it into the queue's event stream): it is put under a key of its own, which the command reads and deletes
   * (control/channel.ts), and which expires soon if nobody does; when the command no longer waits, it is not stored
   * at all. Answers past QUERY_MAX_ANSWER_BYTES are refused.
   */
  private async answer(handlers: ReturnType<typeof controlHandlers>, job: Job): Promise<unknown> {
    this.deps.log.debug({ request: job.name, jobId: job.id }, 'command request taken');
    const handler = handlers[job.name];
    const { config } = this.deps;
    try {
      if (!handler)
        throw new SyncError(
          ErrorCodes.NOT_FOUND,
          `the worker does not know the request "${job.name}": is it an older version?`,
        );
      const { warehouse, payload } = (job.data ?? {}) as { warehouse?: unknown; payload?: unknown };
      const mine = warehouseIdentity(config.warehousePath);
      if (warehouse !== mine) {
        throw new SyncError(
          ErrorCodes.WORKER_CONFLICT,
          `this worker holds the warehouse ${mine}, not ${String(warehouse)}: the request was not run`,
        );
      }
      const result = await handler(
        payload,
        (progress) => void job.updateProgress(progress as object).catch(() => undefined),
      );
      const text = answerText(result, config);
      // nobody waits any more (the command gave up or was stopped): the answer is not kept at all
      if ((await this.redis.exists(waitingKey(config.queuePrefix, String(job.id)))) === 0) return { abandoned: true };
      const key = answerKey(config.queuePrefix, String(job.id));
      await this.redis.set(key, text, 'PX', ANSWER_TTL_MS);
      return { answer: key };
    } catch (err) {
      // the error goes back whole, as the request's answer (code, message, stack and causes: control/channel.ts)
      this.deps.log.debug({ err, request: job.name, jobId: job.id }, 'command request failed');
      return { failed: serializeError(err) };
    }
  }

  /** Says who holds which warehouse, and whether the writer can write (control/heartbeat.ts). */
  private async beat(): Promise<void> {
    const { config, db, log } = this.deps;
    if (this.stopping) return;
    try {
      await beatOrGiveWay(
        this.redis,
        config.queuePrefix,
        heartbeatOf(config.warehousePath, db.health(), this.startedAt),
      );
    } catch (err) {
      if (!(err instanceof SyncError) || err.code !== ErrorCodes.WORKER_CONFLICT) {
        log.warn({ err }, 'heartbeat failed: is Redis down?');
        return;
      }
      log.error(
        { err },
        'another worker with another warehouse serves this queue prefix and started first: this worker stops',
      );
      this.gaveWay = err;
      await this.stop();
      this.onGiveWay?.(err);
    }
  }

  /** Removes the heartbeat if it is this worker's (a worker giving way leaves the other's alone). */
  private async dropHeartbeat(): Promise<void> {
    const { queuePrefix } = this.deps.config;
    const beat = await readHeartbeat(this.redis, queuePrefix).catch(() => undefined);
    if (beat?.pid === process.pid && beat.startedAt === this.startedAt)
      await this.redis.del(heartbeatKey(queuePrefix)).catch(() => undefined);
  }

  /** A warehouse that is down is reopened once the storage allows; then the settings are written again. */
  private async recover(): Promise<void> {
    const { config, db, log } = this.deps;
    if (this.recovering || db.health().state === 'up') return;
    this.recovering = true;
    try {
      if (!(await db.recover())) return;
      await db.applySettings(config);
      await this.beat();
    } catch (err) {
      log.warn({ err }, 'the warehouse was reopened but its settings could not be written: trying again shortly');
    } finally {
      this.recovering = false;
    }
  }
}

/**
 * The file may still be held for a moment by a command that is finishing: wait a little before giving up.
 * A storage failure (a full disk) does not stop the start: the warehouse is down until it can be opened.
 */
async function openWithRetry(config: Config, log: Logger): Promise<Warehouse> {
  const deadline = Date.now() + OPEN_RETRY_MS;
  for (;;) {
    try {
      return await Warehouse.openOrDown(config.warehousePath, config.duckdb, log, config.exportDir);
    } catch (err) {
      if (!(err instanceof SyncError) || err.code !== ErrorCodes.WAREHOUSE_LOCKED || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * BullMQ's "do not retry this job", keeping what the error was: its message with its code, the error itself as the
 * cause, and its stack (which BullMQ keeps in the job), rather than a bare message.
 */
function unrecoverable(err: unknown): UnrecoverableError {
  const original = coerceError(err);
  const code = original instanceof SyncError ? ` [${original.code}]` : '';
  const wrapped = new UnrecoverableError(`${original.message}${code}`);
  wrapped.cause = original;
  if (original.stack !== undefined) wrapped.stack = original.stack;
  return wrapped;
}

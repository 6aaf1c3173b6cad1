/**
 * The worker role: the one process that owns the DuckDB file. It runs the scheduled jobs (queue `jobs`), writes
 * pushed readings (queue `ingest`), answers commands (queue `control`), and keeps a heartbeat in Redis so that
 * commands know to ask it rather than open the file. Run exactly one (DuckDB's lock enforces it).
 */
import { Queue, UnrecoverableError, Worker, type Job, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { encodeError } from './control/channel.js';
import { controlHandlers } from './control/handlers.js';
import { ErrorCodes, SyncError, isRetryable } from './errors.js';
import { IngestConsumer } from './ingest/consumer.js';
import { runJob, type JobDeps } from './job-runner.js';
import type { Logger } from './logger.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS, QUEUES, heartbeatKey } from './queues.js';
import { closeRedis, consumerConnection, producerConnection, whenReady } from './redis.js';
import { checkSchedules, upsertSchedules } from './schedules.js';
import { SensoterraClient, warnIfTokenExpiring, type ClientOptions } from './sensoterra/client.js';
import { applySettings } from './warehouse/settings.js';
import { Warehouse } from './warehouse/warehouse.js';

export interface WorkerOptions {
  clientOptions?: ClientOptions; // tests shorten the client's backoff
  watchdogIntervalMs?: number;
  clock?: () => Date; // tests run jobs on the simulator's clock
}

const OPEN_RETRY_MS = 15_000;

export class WorkerService {
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  private ingest: IngestConsumer | undefined;

  private constructor(
    readonly deps: JobDeps,
    private readonly redis: Redis,
    private readonly jobsQueue: Queue,
    private readonly client: { current?: SensoterraClient },
  ) {}

  static async start(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<WorkerService> {
    warnIfTokenExpiring(config.api.token, log);
    const redis = producerConnection(config.redisUrl);
    let db: Warehouse | undefined;
    try {
      await whenReady(redis, config.redisUrl);
      db = await openWithRetry(config, log);
      await applySettings(db, config);
    } catch (err) {
      await db?.close();
      await closeRedis(redis);
      throw err;
    }
    const client: { current?: SensoterraClient } = {};
    const deps: JobDeps = { db, config, log, clock: opts.clock, api: () => (client.current ??= new SensoterraClient(config, log, opts.clientOptions)) };
    const jobsQueue = new Queue(QUEUES.jobs, { connection: redis, prefix: config.queuePrefix });
    const service = new WorkerService(deps, redis, jobsQueue, client);
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
    this.consume(QUEUES.jobs, 1, (job) => this.runScheduled(job));
    this.ingest = new IngestConsumer(this.deps);
    this.ingest.start();
    const handlers = controlHandlers(this.deps);
    this.consume(QUEUES.control, 4, (job) => this.answer(handlers, job));
    const checkEveryMs = opts.watchdogIntervalMs ?? 60_000;
    this.timers.push(setInterval(() => void checkSchedules(this.jobsQueue, config, log).catch((err: unknown) => log.warn({ err }, 'schedule watchdog failed')), checkEveryMs));
    await this.beat();
    this.timers.push(setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS));
  }

  get jobs(): Queue {
    return this.jobsQueue;
  }

  /** Finishes the jobs in hand, then lets go of the file and of Redis. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearInterval(timer);
      await Promise.all([...this.workers.map((w) => w.close()), this.ingest?.stop()]);
      await Promise.all(this.connections.map((c) => closeRedis(c)));
      await this.redis.del(heartbeatKey(this.deps.config.queuePrefix)).catch(() => undefined);
      await this.jobsQueue.close();
      await this.client.current?.close();
      await this.deps.db.close();
      await closeRedis(this.redis);
      this.deps.log.info('worker stopped');
    })();
    return this.stopping;
  }

  private consume(queue: string, concurrency: number, processor: Processor): void {
    const { config, log } = this.deps;
    const connection = consumerConnection(config.redisUrl);
    this.connections.push(connection);
    const worker = new Worker(queue, processor, {
      connection,
      prefix: config.queuePrefix,
      concurrency,
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
      if (!isRetryable(err)) throw new UnrecoverableError((err as Error).message);
      throw err;
    }
  }

  private async answer(handlers: ReturnType<typeof controlHandlers>, job: Job): Promise<unknown> {
    this.deps.log.debug({ request: job.name, jobId: job.id }, 'command request taken');
    const handler = handlers[job.name];
    if (!handler) throw new SyncError(ErrorCodes.NOT_FOUND, `the worker does not know the request "${job.name}": is it an older version?`);
    try {
      return await handler(job.data, (progress) => void job.updateProgress(progress as object).catch(() => undefined));
    } catch (err) {
      // only the message travels back through Redis: carry the error code in it (see control/channel.ts)
      if (err instanceof SyncError) throw new Error(encodeError(err));
      throw err;
    }
  }

  private async beat(): Promise<void> {
    await this.redis
      .set(heartbeatKey(this.deps.config.queuePrefix), String(process.pid), 'PX', HEARTBEAT_TTL_MS)
      .catch((err: unknown) => this.deps.log.warn({ err }, 'heartbeat failed: is Redis down?'));
  }
}

/** The file may still be held for a moment by a command that is finishing: wait a little before giving up. */
async function openWithRetry(config: Config, log: Logger): Promise<Warehouse> {
  const deadline = Date.now() + OPEN_RETRY_MS;
  for (;;) {
    try {
      return await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
    } catch (err) {
      if (!(err instanceof SyncError) || err.code !== ErrorCodes.WAREHOUSE_LOCKED || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

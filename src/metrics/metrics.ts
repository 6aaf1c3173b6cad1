/**
 * What the process counts for Prometheus (GET /metrics on METRICS_PORT, server.ts). Every role keeps one Metrics:
 * the receiver counts pushes, the worker its writer, jobs and API requests, and the worker's gauges (backlog, lag,
 * warehouse size, export age) are read when scraped. The names below are a promise, like table names: the
 * README lists them, its alert rules and the Grafana dashboard use them, and a test checks them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why a push was answered as it was: the `reason` label of sensoterra_pushes_total. */
export type PushOutcome =
  | 'accepted' // 202, readings rejected one by one included
  | 'invalid' // 400 or 413: the body cannot be read as a push (kept in rejected_pushes)
  | 'not_utf8' // 400: kept as base64 in rejected_pushes
  | 'credentials' // 401: missing or wrong secret
  | 'signature' // 401: missing or wrong HMAC signature
  | 'unreadable' // 415: content type, charset or encoding
  | 'too_large' // 413: over PUSH_MAX_BODY
  | 'busy' // 503: over PUSH_MAX_PENDING_BYTES
  | 'queue_unavailable'; // 503: Redis did not take it

/** What the worker's gauges are read from when scraped (set by the worker once it runs). */
export interface WorkerGauges {
  /** Batches of pushes not yet landed, batches kept failed (for `replay`), and the oldest's wait in seconds. */
  ingest(): Promise<{ backlog: number; failed: number; lagS: number }>;
  /** Bytes of the warehouse file and its WAL. */
  warehouseBytes(): number;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RUN_SECONDS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

export class Metrics {
  readonly registry = new Registry();

  // the receiver
  readonly pushes = this.counter('sensoterra_pushes_total', 'Pushes answered, by HTTP status and reason', [
    'status',
    'reason',
  ]);
  readonly pushReadings = this.counter(
    'sensoterra_push_readings_total',
    'Readings in accepted pushes: accepted, or rejected one by one (kept with the reason)',
    ['result'],
  );
  readonly pushDuration = new Histogram({
    name: 'sensoterra_push_request_duration_seconds',
    help: 'Time from a push request to its answer (202 only once it is in Redis)',
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly pushBatchSize = new Histogram({
    name: 'sensoterra_push_batch_pushes',
    help: 'Pushes per group-commit batch handed to Redis in one round trip',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  // the worker: its writer of pushed readings, its jobs, the Sensoterra API
  readonly writerReadings = this.counter(
    'sensoterra_writer_readings_total',
    'Pushed readings the writer has landed, by outcome: inserted, duplicate (already stored), conflict (another value stored)',
    ['outcome'],
  );
  readonly writerRejected = new Counter({
    name: 'sensoterra_writer_rejected_total',
    help: 'Rows the writer added to rejected_pushes: pushes it could not read, and readings rejected one by one (each distinct reason and body once)',
    registers: [this.registry],
  });
  readonly writerPushes = this.counter(
    'sensoterra_writer_pushes_total',
    'Pushes the writer has taken from the queue: landed, or parked in rejected_pushes because they could not be stored',
    ['outcome'],
  );
  readonly jobRuns = this.counter('sensoterra_job_runs_total', 'Job runs (syncs, export, reconcile, ...) by outcome', [
    'job',
    'outcome',
  ]);
  readonly jobDuration = new Histogram({
    name: 'sensoterra_job_run_duration_seconds',
    help: 'How long job runs took, by job (failed runs included)',
    labelNames: ['job'],
    buckets: RUN_SECONDS,
    registers: [this.registry],
  });
  readonly jobLastSuccess = new Gauge({
    name: 'sensoterra_job_last_success_timestamp_seconds',
    help: 'When each job last succeeded (Unix time), from the warehouse at start and from each run since',
    labelNames: ['job'],
    registers: [this.registry],
  });
  readonly apiRequests = this.counter(
    'sensoterra_api_requests_total',
    'Requests to the Sensoterra API, by HTTP status ("error" when no answer came)',
    ['status'],
  );
  readonly apiRetries = this.counter(
    'sensoterra_api_retries_total',
    'Sensoterra API requests sent again: after a failure (backoff), a 429 (rate_limited), an expired key (login)',
    ['reason'],
  );

  /** Node's own: CPU, resident memory, heap, event-loop delay, open handles (process_* and nodejs_*). */
  includeProcess(): this {
    collectDefaultMetrics({ register: this.registry });
    return this;
  }

  private worker: WorkerGauges | undefined;
  private workerGauges = false;

  /**
   * The worker's gauges, read when scraped from `source` (undefined once the worker has stopped: they are left
   * out); only a process that runs the worker has them.
   */
  watchWorker(source: WorkerGauges | undefined): void {
    this.worker = source;
    if (this.workerGauges) return; // a worker started again in this process: the same gauges, from the new one
    this.workerGauges = true;
    this.registerWorkerGauges();
  }

  private registerWorkerGauges(): void {
    type IngestState = Awaited<ReturnType<WorkerGauges['ingest']>>;
    let ingest: Promise<IngestState | undefined> | undefined;
    // one Redis read per scrape for the three ingest gauges; none while the worker is stopped; left out on failure
    const readIngest = (): Promise<IngestState | undefined> =>
      (ingest ??= (this.worker?.ingest() ?? Promise.resolve(undefined))
        .catch(() => undefined)
        .finally(() => setImmediate(() => (ingest = undefined))));
    const gauge = (name: string, help: string, read: () => Promise<number | undefined>): void =>
      void new ReadGauge(name, help, this.registry, read);
    gauge(
      'sensoterra_ingest_backlog_batches',
      'Batches of acknowledged pushes not yet landed (waiting, or in the writer’s hands)',
      async () => (await readIngest())?.backlog,
    );
    gauge(
      'sensoterra_ingest_lag_seconds',
      'How long the oldest batch of pushes not yet landed has waited (0 when none waits)',
      async () => (await readIngest())?.lagS,
    );
    gauge(
      'sensoterra_ingest_failed_batches',
      'Batches of pushes kept after their last attempt failed: `replay` lands them again',
      async () => (await readIngest())?.failed,
    );
    gauge('sensoterra_warehouse_size_bytes', 'Bytes of the warehouse file and its WAL', async () =>
      this.worker?.warehouseBytes(),
    );
    gauge(
      'sensoterra_export_age_seconds',
      'Seconds since the export was last published (left out until it has been)',
      async () => {
        const at = (await this.jobLastSuccess.get()).values.find((v) => v.labels.job === 'export')?.value;
        return at === undefined ? undefined : Date.now() / 1000 - at;
      },
    );
  }

  /** A finished run of a job. */
  jobFinished(job: string, outcome: 'succeeded' | 'failed', seconds: number, finishedAt: Date): void {
    this.jobRuns.inc({ job, outcome });
    this.jobDuration.observe({ job }, seconds);
    if (outcome === 'succeeded') this.jobLastSuccess.set({ job }, finishedAt.getTime() / 1000);
  }

  /** The exposition text, and its content type, for GET /metrics. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

/**
 * A gauge read when scraped, and left out of the scrape (its HELP and TYPE only) while its value cannot be known: a
 * stopped worker, Redis down, no export yet. prom-client would show an unlabelled gauge as 0, which here would
 * claim an empty backlog or a fresh export.
 */
class ReadGauge extends Gauge {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly read: () => Promise<number | undefined>,
  ) {
    super({ name, help, registers: [registry] });
  }

  override async get(): ReturnType<Gauge['get']> {
    const value = await this.read();
    this.set(value ?? 0);
    const got = await super.get();
    return value === undefined ? { ...got, values: [] } : got;
  }
}

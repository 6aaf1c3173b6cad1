/**
 * What the process counts for Prometheus (GET /metrics on METRICS_PORT, server.ts). Every process keeps one
 * Metrics, and serves the groups of its roles: the receiver's (pushes), the worker's (its writer, jobs, API
 * requests, and the gauges read when scraped: backlog, lag, warehouse size, export age). Each label value known
 * in advance is there from the start at 0, so that `increase()` sees the first failure after a restart. The label
 * that names a job is `job_name`: Prometheus keeps `job` for the scrape job. The names are a promise, like table
 * names: the README lists them, its alert rules and the Grafana dashboard use them, and a test checks them.
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
  | 'queue_unavailable' // 503: Redis did not take it
  | 'malformed' // 400 or 431: not an HTTP request Node's parser reads (receiver/http.ts)
  | 'timeout' // 408: the request did not arrive whole within PUSH_TIMEOUT_MS
  | 'expectation' // 417: an Expect header other than 100-continue
  | 'fault'; // 500: a fault of ours

/** Every answer the receiver gives a push, by status: each starts at 0. */
const PUSH_ANSWERS: readonly [number, PushOutcome][] = [
  [202, 'accepted'],
  [400, 'invalid'],
  [413, 'invalid'],
  [400, 'not_utf8'],
  [401, 'credentials'],
  [401, 'signature'],
  [413, 'too_large'],
  [415, 'unreadable'],
  [503, 'busy'],
  [503, 'queue_unavailable'],
  [400, 'malformed'],
  [431, 'malformed'],
  [408, 'timeout'],
  [417, 'expectation'],
  [500, 'fault'],
];

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
  /** What each role serves (registered by serveReceiver / serveWorker). */
  private readonly receiverGroup: Metric[] = [];
  private readonly workerGroup: Metric[] = [];
  private readonly served = new Set<Metric[]>();

  // the receiver
  readonly pushes = this.metric(
    this.receiverGroup,
    new Counter({
      registers: [], // registered when the process serves this role (serveReceiver, serveWorker)
      name: 'sensoterra_pushes_total',
      help: 'Pushes answered (requests to the push path), by HTTP status and reason',
      labelNames: ['status', 'reason'] as const,
    }),
  );
  readonly pushReadings = this.metric(
    this.receiverGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_push_readings_total',
      help: 'Readings in accepted pushes: accepted, or rejected (a reading, or an uplink whose readings cannot be used, each kept with the reason)',
      labelNames: ['result'] as const,
    }),
  );
  readonly pushDuration = this.metric(
    this.receiverGroup,
    new Histogram({
      registers: [],
      name: 'sensoterra_push_request_duration_seconds',
      help: 'Time from a push request to its answer (202 only once it is in Redis)',
      buckets: SECONDS,
    }),
  );
  readonly pushBatchSize = this.metric(
    this.receiverGroup,
    new Histogram({
      registers: [],
      name: 'sensoterra_push_batch_pushes',
      help: 'Pushes per group-commit batch handed to Redis in one round trip',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    }),
  );

  // the worker: its writer of pushed readings, its jobs, the Sensoterra API
  readonly writerReadings = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_writer_readings_total',
      help: 'Pushed readings the writer has landed, by outcome: inserted, duplicate (already stored), conflict (another value stored)',
      labelNames: ['outcome'] as const,
    }),
  );
  readonly writerPushes = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_writer_pushes_total',
      help: 'Pushes the writer has taken from the queue: landed, or parked in rejected_pushes because they could not be stored',
      labelNames: ['outcome'] as const,
    }),
  );
  readonly writerRejected = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_writer_rejected_total',
      help: 'Rows the writer added to rejected_pushes: pushes it could not read, and parts rejected one by one (each distinct reason and body once)',
    }),
  );
  readonly jobRuns = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_job_runs_total',
      help: 'Job runs (syncs, export, reconcile, ...) by job_name and outcome',
      labelNames: ['job_name', 'outcome'] as const,
    }),
  );
  readonly jobDuration = this.metric(
    this.workerGroup,
    new Histogram({
      registers: [],
      name: 'sensoterra_job_run_duration_seconds',
      help: 'How long job runs took, by job_name (failed runs included)',
      labelNames: ['job_name'] as const,
      buckets: RUN_SECONDS,
    }),
  );
  readonly jobLastSuccess = this.metric(
    this.workerGroup,
    new Gauge({
      registers: [],
      name: 'sensoterra_job_last_success_timestamp_seconds',
      help: 'When each job last succeeded (Unix time), from the warehouse at start and from each run since',
      labelNames: ['job_name'] as const,
    }),
  );
  readonly apiRequests = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_api_requests_total',
      help: 'Requests to the Sensoterra API, by HTTP status ("error" when no answer came)',
      labelNames: ['status'] as const,
    }),
  );
  readonly apiRetries = this.metric(
    this.workerGroup,
    new Counter({
      registers: [],
      name: 'sensoterra_api_retries_total',
      help: 'Sensoterra API requests sent again: after a failure (backoff), a 429 (rate_limited), an expired key (login)',
      labelNames: ['reason'] as const,
    }),
  );

  /** The receiver's metrics, served from this process: every push answer from 0. */
  serveReceiver(): this {
    for (const [status, reason] of PUSH_ANSWERS) this.pushes.inc({ status, reason }, 0);
    for (const result of ['accepted', 'rejected']) this.pushReadings.inc({ result }, 0);
    return this.serve(this.receiverGroup);
  }

  /** The worker's metrics, served from this process: each job's runs and each outcome from 0. */
  serveWorker(jobs: readonly string[]): this {
    for (const outcome of ['inserted', 'duplicate', 'conflict']) this.writerReadings.inc({ outcome }, 0);
    for (const outcome of ['landed', 'parked']) this.writerPushes.inc({ outcome }, 0);
    for (const reason of ['backoff', 'rate_limited', 'login']) this.apiRetries.inc({ reason }, 0);
    for (const job_name of jobs) {
      for (const outcome of ['succeeded', 'failed']) this.jobRuns.inc({ job_name, outcome }, 0);
      this.jobDuration.zero({ job_name });
    }
    return this.serve(this.workerGroup);
  }

  private serve(group: Metric[]): this {
    if (this.served.has(group)) return this; // a worker started again in this process
    this.served.add(group);
    for (const metric of group) this.registry.registerMetric(metric);
    return this;
  }

  /**
   * Node's own: CPU, resident memory, heap, event-loop delay (process_* and nodejs_*), without prom-client's three
   * gauges named like counters (nodejs_active_handles_total, ...), which Prometheus' own lint refuses.
   */
  includeProcess(): this {
    collectDefaultMetrics({ register: this.registry });
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
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
    // a Redis that hangs (not down: no answer at all) leaves them out after INGEST_READ_MS, not the whole scrape
    const readIngest = (): Promise<IngestState | undefined> =>
      (ingest ??= withTimeout(this.worker?.ingest() ?? Promise.resolve(undefined), INGEST_READ_MS)
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
        const at = (await this.jobLastSuccess.get()).values.find((v) => v.labels.job_name === 'export')?.value;
        return at === undefined ? undefined : Date.now() / 1000 - at;
      },
    );
  }

  /** A finished run of a job. */
  jobFinished(job: string, outcome: 'succeeded' | 'failed', seconds: number, finishedAt: Date): void {
    this.jobRuns.inc({ job_name: job, outcome });
    this.jobDuration.observe({ job_name: job }, seconds);
    if (outcome === 'succeeded') this.jobLastSuccess.set({ job_name: job }, finishedAt.getTime() / 1000);
  }

  /** The exposition text, and its content type, for GET /metrics. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /** A metric of a role's group: made unregistered, registered when the process serves that role. */
  private metric<M extends Counter<string> | Gauge<string> | Histogram<string>>(group: Metric[], metric: M): M {
    group.push(metric);
    return metric;
  }
}

type Metric = Counter<string> | Gauge<string> | Histogram<string>;

/** How long a scrape waits for Redis' answer about the ingest queue. */
const INGEST_READ_MS = 1_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
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

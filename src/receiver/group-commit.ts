/**
 * Group commit: the pushes that arrive within a few milliseconds share one Redis round trip (one BullMQ job
 * holding all their bodies), and each request is acknowledged only once that job is in Redis. One BullMQ job per
 * reading would top out near 20k jobs/s; this goes as fast as the HTTP server does.
 */
import type { Queue } from 'bullmq';
import { RedisUnavailableError } from '../errors.js';
import type { PushLimits } from '../push/limits.js';

/**
 * One push as the writer receives it: when it arrived (ms since the epoch) and its body, verbatim; `x: 'base64'`
 * when the body was not UTF-8 text and travels as the base64 of its bytes (refused, and kept as it came).
 */
export interface PushEnvelope {
  r: number;
  b: string;
  x?: 'base64';
}

export interface IngestBatch {
  pushes: PushEnvelope[];
  /** The limits the receiver judged these pushes by: the writer judges by the same, whatever its own settings. */
  limits: PushLimits;
}

export interface GroupCommitOptions {
  maxInFlight: number; // batches on their way to Redis at once; more pushes wait and go together in the next
  maxPushes: number; // pushes per BullMQ job; a larger backlog goes as several jobs in one round trip
  maxBytes: number; // body bytes per BullMQ job (a job holds at least one push, whatever its size)
  limits: PushLimits; // sent along with every job
  timeoutMs: number; // Redis must take a batch within this, or its pushes get a 503
  redisUrl: string;
  /** Told the size of every batch Redis took, in pushes (for the metrics). */
  onSent?: (pushes: number) => void;
}

/** Ingest jobs: retried with backoff; finished ones leave Redis at once; failed ones stay for `replay`. */
const INGEST_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: false,
} as const;

interface Waiting {
  push: PushEnvelope;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Batching without a timer: a push that finds Redis idle goes at once (with whatever arrived in the same turn of
 * the event loop); pushes that arrive while batches are on their way wait and go together as soon as one returns.
 * So a lone push pays one round trip, and under load the batches grow by themselves.
 */
export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: Queue,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Resolves once the push is durably in Redis; rejects (RedisUnavailableError) if Redis does not take it. */
  add(push: PushEnvelope): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ push, resolve, reject });
      this.schedule();
    });
  }

  /** Sends what is pending now, and waits for every batch still on its way. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight.size > 0) {
      if (this.pending.length > 0 && this.inFlight.size < this.options.maxInFlight) this.flush();
      await Promise.race(this.inFlight).catch(() => undefined);
    }
  }

  /** At the end of this turn of the event loop, if a batch may leave now. */
  private schedule(): void {
    if (this.scheduled || this.inFlight.size >= this.options.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const sending = this.send(batch).finally(() => {
      this.inFlight.delete(sending);
      if (this.pending.length > 0) this.schedule();
    });
    this.inFlight.add(sending);
  }

  /** One round trip: one job per maxPushes pushes, all added together. */
  private async send(batch: Waiting[]): Promise<void> {
    const jobs: { name: string; data: IngestBatch; opts: typeof INGEST_JOB_OPTIONS }[] = [];
    let pushes: PushEnvelope[] = [];
    let bytes = 0;
    for (const { push } of batch) {
      if (
        pushes.length > 0 &&
        (pushes.length >= this.options.maxPushes || bytes + push.b.length > this.options.maxBytes)
      ) {
        jobs.push({ name: 'pushes', data: { pushes, limits: this.options.limits }, opts: INGEST_JOB_OPTIONS });
        pushes = [];
        bytes = 0;
      }
      pushes.push(push);
      bytes += push.b.length;
    }
    jobs.push({ name: 'pushes', data: { pushes, limits: this.options.limits }, opts: INGEST_JOB_OPTIONS });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(Object.assign(new Error(`no answer within ${this.options.timeoutMs} ms`), { name: 'TimeoutError' })),
          this.options.timeoutMs,
        );
      });
      // a batch that timed out may still land later: the pusher retries, and the writer drops the duplicates
      await Promise.race([
        jobs.length === 1 ? this.queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.queue.addBulk(jobs),
        timeout,
      ]);
      for (const w of batch) w.resolve();
      this.options.onSent?.(batch.length);
    } catch (cause) {
      const err = new RedisUnavailableError(this.options.redisUrl, cause);
      for (const w of batch) w.reject(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

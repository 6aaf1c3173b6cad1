/**
 * Group commit: the pushes that arrive within a few milliseconds share one Redis round trip (one BullMQ job
 * holding all their bodies), and each request is acknowledged only once that job is in Redis. One BullMQ job per
 * reading would top out near 20k jobs/s; this goes as fast as the HTTP server does.
 */
import type { Queue } from 'bullmq';
import { RedisUnavailableError } from '../errors.js';

/** One push as the writer receives it: when it arrived (ms since the epoch) and its body, verbatim. */
export interface PushEnvelope {
  r: number;
  b: string;
}

export interface IngestBatch {
  pushes: PushEnvelope[];
}

export interface GroupCommitOptions {
  windowMs: number; // how long the first push of a batch waits for company
  maxPushes: number;
  maxBytes: number;
  timeoutMs: number; // Redis must take the batch within this, or the pushes get a 503
  redisUrl: string;
}

/** Ingest jobs: retried with backoff; finished ones leave Redis at once; failed ones stay for `replay`. */
export const INGEST_JOB_OPTIONS = {
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

export class GroupCommit {
  private pending: Waiting[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: Queue,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Resolves once the push is durably in Redis; rejects (RedisUnavailableError) if Redis does not take it. */
  add(push: PushEnvelope): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ push, resolve, reject });
      this.pendingBytes += push.b.length;
      if (this.pending.length >= this.options.maxPushes || this.pendingBytes >= this.options.maxBytes) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Sends what is pending now, and waits for every batch still on its way. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const sending = this.send(batch);
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  private async send(batch: Waiting[]): Promise<void> {
    const data: IngestBatch = { pushes: batch.map((w) => w.push) };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      });
      await Promise.race([this.queue.add('pushes', data, INGEST_JOB_OPTIONS), timeout]);
      for (const w of batch) w.resolve();
    } catch (cause) {
      const err = new RedisUnavailableError(this.options.redisUrl, cause);
      for (const w of batch) w.reject(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Samples a figure every `everyMs` (VmRSS, the queue's backlog) until stopped, keeping every value seen. */
export class Sampler {
  private readonly timer: NodeJS.Timeout;
  private busy = false;
  readonly samples: number[] = [];

  constructor(
    private readonly read: () => number | undefined | Promise<number | undefined>,
    everyMs = 1_000,
  ) {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  get max(): number {
    return this.samples.reduce((max, v) => Math.max(max, v), 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    if (this.busy) return; // a slow read (Redis under load) is not stacked up behind itself
    this.busy = true;
    try {
      const value = await this.read();
      if (value !== undefined) this.samples.push(value);
    } catch {
      // a failed sample is a missing sample, not a failed benchmark
    } finally {
      this.busy = false;
    }
  }
}

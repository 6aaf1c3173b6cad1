/**
 * Readings a pull could not store, counted by reason for the run's sync_runs.details, so that none is dropped
 * without a word. Reasons are grouped: the first MAX_REASONS distinct ones are kept with their counts.
 */
const MAX_REASONS = 20;

export interface SkippedSummary {
  total: number;
  reasons: Record<string, number>;
}

export class SkippedReadings {
  private total = 0;
  private readonly reasons = new Map<string, number>();

  add(reason: string): void {
    this.total++;
    const seen = this.reasons.get(reason);
    if (seen !== undefined) this.reasons.set(reason, seen + 1);
    else if (this.reasons.size < MAX_REASONS) this.reasons.set(reason, 1);
  }

  merge(other: SkippedSummary): void {
    this.total += other.total;
    for (const [reason, n] of Object.entries(other.reasons)) {
      const seen = this.reasons.get(reason);
      if (seen !== undefined) this.reasons.set(reason, seen + n);
      else if (this.reasons.size < MAX_REASONS) this.reasons.set(reason, n);
    }
  }

  get count(): number {
    return this.total;
  }

  summary(): SkippedSummary {
    return { total: this.total, reasons: Object.fromEntries(this.reasons) };
  }
}

/** What a benchmark hands back, and how figures are shown. A benchmark measures and reports; it asserts nothing. */

export interface Target {
  /** What is compared, e.g. "receiver / no-op requests/s". */
  what: string;
  /** The target, as a person reads it, e.g. ">= 0.50". */
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchResult {
  /** The settings the figures were measured with. */
  settings: Record<string, unknown>;
  figures: Record<string, unknown>;
  targets: Target[];
  /** The readable report. */
  lines: string[];
}

export interface BenchContext {
  /** Set by --cpu-prof: children write V8 CPU profiles here. */
  profileDir: string | undefined;
  /** The bench process and Redis: with the server under test, what is not "other load" (see OtherLoad). */
  systemPids: number[];
  /** Aborted on Ctrl-C: a benchmark stops its load, cleans up and returns. */
  signal: AbortSignal;
  /** Progress, on stderr, so that stdout holds only the report. */
  progress(message: string): void;
}

export interface Benchmark {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function verdict(t: Target): string {
  return t.pass ? 'PASS' : 'MISS';
}

export function targetLines(targets: Target[]): string[] {
  return targets.map((t) => `  ${verdict(t)}  ${t.what}: ${t.measured} (target ${t.target})`);
}

/** Rounds for display and for the JSON: figures with more digits than the measurement has are noise. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Says how much else ran on the machine during a measurement, and warns when it was enough to lower the figures. */
export function otherLoadLine(cores: number): string {
  const warning =
    cores > 0.1 ? ': WARNING, something else was busy; these figures are low, run again on a quiet machine' : '';
  return `  other processes used ${cores.toFixed(2)} cores meanwhile${warning}`;
}

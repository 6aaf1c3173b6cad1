/**
 * The writer into a large warehouse: sustained readings/s landing into warehouses of 0, 10 million and 100 million
 * readings (writer-scale-child.ts: the same 5,000 probes, batches and 1 % of late uplinks each time), and a bare
 * DuckDB Appender writing as many readings on the same machine in the same run, as a yardstick.
 * Targets (issue: grow to 100 million readings), on the writer's transaction (parse, stage, de-duplicate, store; the
 * rollup's refresh, a transaction of its own right after, is reported beside): at 100 million, at least 0.8 of the
 * rate into the empty warehouse (de-duplication whose cost follows the batch, not the table), and at least 0.3 of
 * the Appender's rate.
 * Long (the 100-million build alone takes minutes): run on request only (`--only writer-scale`).
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStep, type StepFigures } from './lib/steps.js';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';

const CHILD = fileURLToPath(new URL('./writer-scale-child.js', import.meta.url));
/** The warehouses, by size: hours of hourly readings of 5,000 probes' 5 series. */
const SIZES = [
  { name: 'empty', hours: 0 },
  { name: '10 million', hours: 400 },
  { name: '100 million', hours: 4_000 },
];
const DISK_NEEDED = 8 * 2 ** 30;

function step(args: string[], ctx: BenchContext): Promise<StepFigures> {
  return runStep({ script: CHILD, label: 'writer-scale', args }, ctx);
}

export const writerScale: Benchmark = {
  name: 'writer-scale',
  title: 'The writer into warehouses of 0, 10 million and 100 million readings, against a bare DuckDB Appender',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const { bavail, bsize } = statfsSync(tmpdir());
    if (bavail * bsize < DISK_NEEDED)
      throw new Error(`writer-scale needs about ${DISK_NEEDED / 2 ** 30} GiB free in ${tmpdir()}`);
    const runs: { name: string; built: StepFigures; landed: StepFigures }[] = [];
    for (const size of SIZES) {
      const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-writer-'));
      try {
        ctx.progress(`writer-scale: building the ${size.name} warehouse`);
        const built = await step(['build', dir, String(size.hours)], ctx);
        ctx.progress(`writer-scale: landing into the ${size.name} warehouse`);
        const landed = await step(['land', dir], ctx);
        runs.push({ name: size.name, built, landed });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-appender-'));
    try {
      ctx.progress('writer-scale: the bare Appender');
      const appended = await step(['appender', dir], ctx);
      return report(runs, appended);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export function report(
  runs: { name: string; built: StepFigures; landed: StepFigures }[],
  appended: StepFigures,
): BenchResult {
  const n = (v: number | string | undefined): number => Number(v);
  const rate = (f: StepFigures): number => n(f.transactionReadingsPerSecond ?? f.readingsPerSecond);
  const empty = runs[0]!.landed;
  const largest = runs.at(-1)!.landed;
  const vsEmpty = rate(largest) / rate(empty);
  const vsAppender = rate(largest) / n(appended.readingsPerSecond);
  const targets = [
    {
      what: `writer's transaction into ${runs.at(-1)!.name} readings / into the empty warehouse`,
      target: '>= 0.8',
      measured: String(round(vsEmpty, 2)),
      pass: vsEmpty >= 0.8,
    },
    {
      what: `writer's transaction into ${runs.at(-1)!.name} readings (de-duplication included) / bare DuckDB Appender`,
      target: '>= 0.3',
      measured: String(round(vsAppender, 2)),
      pass: vsAppender >= 0.3,
    },
  ];
  const busiest = Math.max(...runs.map((r) => r.landed.otherCores), appended.otherCores);
  return {
    settings: {
      probes: 5_000,
      batches: n(empty.batches),
      pushesPerBatch: n(empty.pushesPerBatch),
      readingsPerPush: 5,
      latePushes: '1 in 100, 91 days before',
      duckdbMemoryLimit: '1GB (default)',
      duckdbThreads: '2 (default)',
    },
    figures: { runs, appended, vsEmpty, vsAppender },
    targets,
    lines: [
      ...runs.map(
        ({ name, built, landed }) =>
          `  ${name.padEnd(12)} ${thousands(n(landed.readingsBefore))} readings (file ${round(n(built.warehouseBytes) / 2 ** 20)} MiB): ` +
          `${thousands(n(landed.landed))} landed; transactions ${round(n(landed.transactionMs) / 1000, 2)} s ` +
          `(${thousands(rate(landed))} readings/s), with the rollup's refreshes ${round(n(landed.landMs) / 1000, 2)} s ` +
          `(${thousands(n(landed.readingsPerSecond))} readings/s); slowest batch ${round(n(landed.slowestMs))} ms; peak ${thousands(n(landed.peakMb))} MB`,
      ),
      `  bare Appender: ${thousands(n(appended.rows))} readings in ${round(n(appended.ms) / 1000, 2)} s, ${thousands(n(appended.readingsPerSecond))} readings/s`,
      `  other processes used at most ${busiest.toFixed(2)} cores meanwhile` +
        (busiest > 0.1 ? ': WARNING, something else was busy' : ''),
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`),
    ],
  };
}

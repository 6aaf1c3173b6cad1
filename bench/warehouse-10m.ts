/**
 * The warehouse at 10 million readings: readings_daily and readings_enriched for one month of one customer, and a
 * full publish, each step in a process of its own (warehouse-10m-child.ts) so that its peak memory is its own.
 * Targets (issue 4): under 1 s, under 3 s, under 20 s.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';

const CHILD = fileURLToPath(new URL('./warehouse-10m-child.js', import.meta.url));

function step(name: string, dir: string, signal: AbortSignal): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, name, dir], { signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>);
    });
  });
}

export const warehouse10m: Benchmark = {
  name: 'warehouse-10m',
  title: 'Views and a full publish over 10 million readings',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-10m-'));
    try {
      ctx.progress('warehouse-10m: building 10 million readings (sync 1,000 probes, generate readings, daily rollup)');
      const built = await step('build', dir, ctx.signal);
      ctx.progress('warehouse-10m: views for one month of one customer');
      const views = await step('views', dir, ctx.signal);
      ctx.progress('warehouse-10m: full publish');
      const published = await step('publish', dir, ctx.signal);
      return report(built, views, published);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function report(
  built: Record<string, number>,
  views: Record<string, number>,
  published: Record<string, number>,
): BenchResult {
  const s = (ms: number): string => `${round(ms / 1000, 2)} s`;
  const targets = [
    {
      what: 'readings_daily, one month of one customer (median of 5)',
      target: '< 1 s',
      measured: s(views.dailyMedianMs!),
      pass: views.dailyMedianMs! < 1_000,
    },
    {
      what: 'readings_enriched, one month of one customer (median of 5)',
      target: '< 3 s',
      measured: s(views.enrichedMedianMs!),
      pass: views.enrichedMedianMs! < 3_000,
    },
    {
      what: 'full publish of 10 million readings',
      target: '< 20 s',
      measured: s(published.publishMs!),
      pass: published.publishMs! < 20_000,
    },
  ];
  return {
    settings: {
      probes: 1_000,
      customers: 20,
      seriesPerProbe: 5,
      hours: 2_000,
      duckdbMemoryLimit: '1GB (default)',
      duckdbThreads: '2 (default)',
    },
    figures: { built, views, published },
    targets,
    lines: [
      `  warehouse: ${thousands(built.readings!)} readings of 1,000 probes (20 customers), hourly, 5 series each; written in ${s(built.insertMs!)}, daily rollup of all of them ${s(built.rollupMs!)} (peak ${round(built.peakMb!)} MB)`,
      `  readings_daily for customer ${views.customer} (${views.probes} probes), June 2024: ${thousands(views.dailyRows!)} rows, median ${s(views.dailyMedianMs!)}, max ${s(views.dailyMaxMs!)}`,
      `  readings_enriched, same customer and month: ${thousands(views.enrichedRows!)} rows, median ${s(views.enrichedMedianMs!)}, max ${s(views.enrichedMaxMs!)} (peak ${round(views.peakMb!)} MB)`,
      `  full publish (snapshot + Parquet) of ${thousands(published.readings!)} readings: ${s(published.publishMs!)} (peak ${round(published.peakMb!)} MB)`,
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`),
    ],
  };
}

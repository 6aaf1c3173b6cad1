/**
 * Publishing at 100 million readings: a full publish, then another after ten minutes of ingest at 2,000 readings/s
 * (1,200,000 readings, 1 % of them late into an older month), each step in a process of its own
 * (publish-100m-child.ts) so that its peak memory is its own. The bench calls publish() twice and reports both; what
 * the second one reuses of the first (files with the same inode) shows whether it was incremental.
 * Then the views agronomists query most, on that warehouse, for one month of one customer.
 * Targets (issue: incremental publish): the incremental publish under a tenth of the full one, and under 10 s; (issue:
 * grow to 100 million readings) readings_daily under 1 s and readings_enriched under 3 s.
 * Long (the build alone takes minutes, and ~10 GB of disk): run on request only (`--only publish-100m`).
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStep, type StepFigures } from './lib/steps.js';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';

const CHILD = fileURLToPath(new URL('./publish-100m-child.js', import.meta.url));
/** What the warehouse, its temporary files and two export versions take, with room to spare. */
const DISK_NEEDED = 20 * 2 ** 30;

type Step = 'build' | 'publish-full' | 'ingest' | 'publish-incremental' | 'views';

/** One step in a child process of its own (publish-100m-child.ts). */
function step(name: Step, dir: string, ctx: BenchContext): Promise<StepFigures> {
  return runStep({ script: CHILD, label: 'publish-100m', args: [name, dir] }, ctx);
}

export const publish100m: Benchmark = {
  name: 'publish-100m',
  title:
    'A full publish of 100 million readings, then an incremental one after ten minutes of ingest; the views at that size',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const { bavail, bsize } = statfsSync(tmpdir());
    if (bavail * bsize < DISK_NEEDED)
      throw new Error(
        `publish-100m needs about ${DISK_NEEDED / 2 ** 30} GiB free in ${tmpdir()}, ${round((bavail * bsize) / 2 ** 30, 1)} GiB are`,
      );
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-100m-'));
    try {
      ctx.progress(
        'publish-100m: building 100 million readings (sync 5,000 probes, generate readings in 10 chunks, daily rollup)',
      );
      const built = await step('build', dir, ctx);
      ctx.progress('publish-100m: full publish');
      const full = await step('publish-full', dir, ctx);
      ctx.progress('publish-100m: ingest of ten minutes at 2,000 readings/s (1,200,000 readings) and its rollup');
      const ingested = await step('ingest', dir, ctx);
      ctx.progress('publish-100m: incremental publish');
      const incremental = await step('publish-incremental', dir, ctx);
      ctx.progress('publish-100m: the views for one month of one customer');
      const views = await step('views', dir, ctx);
      return report(built, full, ingested, incremental, views);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** The report of one run's figures (exported so that a run's JSON can be printed again). */
export function report(
  built: StepFigures,
  full: StepFigures,
  ingested: StepFigures,
  incremental: StepFigures,
  views: StepFigures,
): BenchResult {
  const n = (v: number | string | undefined): number => Number(v);
  const s = (ms: number | string | undefined): string =>
    n(ms) < 1_000 ? `${round(n(ms))} ms` : `${round(n(ms) / 1000, 2)} s`;
  const size = (bytes: number | string | undefined): string =>
    n(bytes) >= 2 ** 30 ? `${round(n(bytes) / 2 ** 30, 2)} GiB` : `${round(n(bytes) / 2 ** 20)} MiB`;
  const mb = (v: number | string | undefined): string => `${thousands(n(v))} MB`;
  const ratio = n(incremental.publishMs) / n(full.publishMs);
  const targets = [
    {
      what: 'incremental publish / full publish',
      target: '< 0.10',
      measured: ratio < 0.01 ? ratio.toPrecision(2) : String(round(ratio, 2)),
      pass: ratio < 0.1,
    },
    {
      what: 'incremental publish after 1,200,000 new readings',
      target: '< 10 s',
      measured: s(incremental.publishMs),
      pass: n(incremental.publishMs) < 10_000,
    },
    {
      what: 'readings_daily, one month of one customer, at 100 million readings (median of 5)',
      target: '< 1 s',
      measured: s(views.dailyMedianMs),
      pass: n(views.dailyMedianMs) < 1_000,
    },
    {
      what: 'readings_enriched, one month of one customer, at 100 million readings (median of 5)',
      target: '< 3 s',
      measured: s(views.enrichedMedianMs),
      pass: n(views.enrichedMedianMs) < 3_000,
    },
  ];
  const busiest = Math.max(full.otherCores, incremental.otherCores, views.otherCores);
  return {
    settings: {
      probes: 5_000,
      customers: 50,
      seriesPerProbe: 5,
      hours: 4_000,
      readingsFrom: '2024-01-01T00:00Z',
      readingsTo: '2024-06-15T16:00Z (END, excluded)',
      chunkHours: 400,
      ingested: 1_200_000,
      ingestedRecent: '1,188,000 in the two hours before END (June 2024)',
      ingestedLate: '12,000: 100 probes x 5 series x 24 hours of 2024-03-10',
      exportKeepVersions: '3 (default)',
      parquetCompression: 'default',
      duckdbMemoryLimit: '1GB (default)',
      duckdbThreads: '2 (default)',
    },
    figures: { built, full, ingested, incremental, views, ratio },
    targets,
    lines: [
      `  warehouse: ${thousands(n(built.readings))} readings of ${thousands(n(built.probes))} probes (50 customers), hourly, 5 series each, 2024-01-01 to 2024-06-15; ` +
        `probes synced in ${s(built.syncMs)}, readings and ${thousands(n(built.statuses))} hourly statuses (probe_status) written in ${s(built.insertMs)} (${built.chunks} INSERTs each), daily rollup of all of them ${s(built.rollupMs)} ` +
        `(${thousands(n(built.rollupRows))} rows); file ${size(built.warehouseBytes)}; peak ${mb(built.peakMb)}`,
      `  full publish of ${thousands(n(full.readings))} readings: ${s(full.publishMs)} (peak ${mb(full.peakMb)}); ` +
        `snapshot ${size(full.snapshotBytes)}, version ${size(full.versionBytes)}, ${full.parquetFiles} Parquet files (${full.readingsParquetFiles} of readings, in ${full.readingsPartitions} month partitions)`,
      `  ingest: ${thousands(n(ingested.recent))} readings in the two hours before END and ${thousands(n(ingested.late))} late ones (2024-03-10), ` +
        `received now, inserted in ${s(ingested.insertMs)}, with ${thousands(n(ingested.statuses))} statuses of their uplinks; rollup refresh ${s(ingested.rollupMs)} (${thousands(n(ingested.rollupRows))} rows); ` +
        `warehouse file ${size(ingested.warehouseBytes)} (peak ${mb(ingested.peakMb)}); then \`sync\` ${s(ingested.diskSyncMs)} (the ten minutes' writeback)`,
      `  incremental publish of ${thousands(n(incremental.readings))} readings: ${s(incremental.publishMs)} (peak ${mb(incremental.peakMb)}); ` +
        `current/warehouse.duckdb ${size(incremental.snapshotBytes)}, version ${size(incremental.versionBytes)}`,
      `    reused from the previous version (same inode): Parquet files ${incremental.parquetReused} of ${incremental.parquetFiles} ` +
        `(readings ${incremental.readingsParquetReused} of ${incremental.readingsParquetFiles}, in ${incremental.readingsPartitions} month partitions), ` +
        `all files ${incremental.filesReused} of ${incremental.files}, ${size(incremental.bytesReused)}; snapshot ${n(incremental.snapshotReused) ? 'reused' : 'new'}; ` +
        `readings files written now: ${incremental.readingsWritten || 'none'}`,
      `  views, May 2024 of customer ${views.customer} (${views.probes} probes), every row read: readings_daily ${thousands(n(views.dailyRows))} rows, ` +
        `median ${s(views.dailyMedianMs)} (slowest ${s(views.dailyMaxMs)}); readings_enriched ${thousands(n(views.enrichedRows))} rows, ` +
        `median ${s(views.enrichedMedianMs)} (slowest ${s(views.enrichedMaxMs)}); peak ${mb(views.peakMb)}`,
      `  incremental / full: ${targets[0]!.measured}; EXPORT_DIR holds ${incremental.versions} versions, ${size(incremental.exportDirBytes)} on disk`,
      `  other processes used ${full.otherCores.toFixed(2)} cores during the full publish, ${incremental.otherCores.toFixed(2)} during the incremental one, ${views.otherCores.toFixed(2)} during the views` +
        (busiest > 0.1 ? ': WARNING, something else was busy; these times are high' : ''),
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`),
    ],
  };
}

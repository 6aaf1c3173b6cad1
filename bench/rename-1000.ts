/**
 * What renaming all 1,000 probes costs in a warehouse of 10 million readings: one probe sync that gives every probe
 * a new name (a new version each), its apply and the daily-rollup refresh after it, measured twice in one run on two
 * copies of one warehouse: with the code as it is ("after": a rename marks nothing for the rollup), and with the
 * marking rule of commit 7989e0e ("before": a new version_hash marked the probe's whole history, so the refresh
 * rolled all 10 million readings up again). The warehouse is built once by warehouse-10m-child.js (`build`, the same
 * step as warehouse-10m), copied, and each variant runs in a fresh process (rename-1000-child.ts) so that its peak
 * memory is its own. Reports the figures and the ratio after/before; asserts nothing.
 * Long (the build alone takes about a minute): run on request only (`--only rename-1000`), not in the default run.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OtherLoad } from './lib/proc.js';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';

const BUILD_CHILD = fileURLToPath(new URL('./warehouse-10m-child.js', import.meta.url));
const RENAME_CHILD = fileURLToPath(new URL('./rename-1000-child.js', import.meta.url));

type Figures = Record<string, number>;

function child(script: string, args: string[], profile: string | undefined, signal: AbortSignal): Promise<Figures> {
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeArgs, script, ...args],
      { signal, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${args[0]}: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Figures);
      },
    );
  });
}

/**
 * A rename child, and the cores other processes used meanwhile: the machine's busy time less the bench's and Redis'
 * (OtherLoad) and less the CPU the child reports for itself (an exited child's /proc entry is gone).
 */
async function renameChild(variant: 'after' | 'before', dir: string, ctx: BenchContext): Promise<Figures> {
  const other = new OtherLoad(ctx.systemPids);
  const started = performance.now();
  const figures = await child(RENAME_CHILD, [variant, dir], ctx.profileDir, ctx.signal);
  const seconds = (performance.now() - started) / 1_000;
  return { ...figures, wallSeconds: seconds, otherCores: Math.max(0, other.cores() - figures.cpuSeconds! / seconds) };
}

/** The warehouse's files (the database and any WAL left), as they are after the build's process has closed it. */
function copyWarehouse(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from))
    if (file.startsWith('warehouse.duckdb')) copyFileSync(join(from, file), join(to, file));
}

export const rename1000: Benchmark = {
  name: 'rename-1000',
  title: 'Renaming all 1,000 probes in one probe sync, 10 million readings: the rollup refresh, now and before',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-rename-'));
    const afterDir = join(dir, 'after');
    const beforeDir = join(dir, 'before');
    try {
      ctx.progress('rename-1000: building 10 million readings (the warehouse-10m build step)');
      mkdirSync(afterDir);
      const built = await child(BUILD_CHILD, ['build', afterDir], ctx.profileDir, ctx.signal);
      copyWarehouse(afterDir, beforeDir);
      ctx.progress('rename-1000: renaming 1,000 probes, the code as it is (after)');
      const after = await renameChild('after', afterDir, ctx);
      ctx.progress('rename-1000: renaming 1,000 probes on a copy, marked by the rule of 7989e0e (before)');
      const before = await renameChild('before', beforeDir, ctx);
      return report(built, after, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** The report of one run's figures (exported so that a run's JSON can be printed again). */
export function report(built: Figures, after: Figures, before: Figures): BenchResult {
  const s = (ms: number): string => (ms < 1_000 ? `${round(ms)} ms` : `${round(ms / 1000, 2)} s`);
  const total = (f: Figures): number => f.oldMarkMs! + f.applyMs! + f.refreshMs!;
  // small ratios in two significant digits (0.0056, not 0.006), with before/after beside them when far from 1
  const ratio = (a: number, b: number): string => {
    if (b === 0) return '-';
    const r = a / b;
    const shown = r === 0 || r >= 0.01 ? String(round(r, 2)) : r.toPrecision(2);
    return r > 0 && r < 0.5 ? `${shown} (before ${1 / r < 10 ? round(1 / r, 1) : thousands(1 / r)}x after)` : shown;
  };
  const peak = (f: Figures): string =>
    f.peakReset
      ? `peak ${round(f.peakMb!)} MB while applying and refreshing (RSS ${round(f.rssBeforeMb!)} MB before; ${round(f.setupPeakMb!)} MB while staging)`
      : `peak ${round(f.peakMb!)} MB (whole process)`;
  const line = (name: string, f: Figures): string[] => [
    `  ${name}: ${thousands(f.probesRead!)} probes read, ${thousands(f.newVersions!)} new versions, ${thousands(f.renamed!)} renamed; ` +
      `${thousands(f.probesMarked!)} probes marked for the rollup`,
    `    ${f.oldMarkMs! > 0 ? `old rule (mark) ${s(f.oldMarkMs!)} + ` : ''}apply ${s(f.applyMs!)} + rollup refresh ${s(f.refreshMs!)} = ${s(total(f))}; ` +
      `refresh wrote ${thousands(f.rowsWritten!)} rows (daily_rollup holds ${thousands(f.rollupRowsAfter!)}); ${peak(f)}`,
  ];
  const ratios = {
    total: total(after) / total(before),
    refresh: after.refreshMs! / before.refreshMs!,
    apply: after.applyMs! / (before.oldMarkMs! + before.applyMs!),
    peak: after.peakMb! / before.peakMb!,
  };
  return {
    settings: {
      probes: 1_000,
      customers: 20,
      seriesPerProbe: 5,
      hours: 2_000,
      renamed: 1_000,
      duckdbMemoryLimit: '1GB (default)',
      duckdbThreads: '2 (default)',
      before: 'sql/rollup/mark-probes.sql of 7989e0e',
    },
    figures: { built, after, before, ratios },
    targets: [],
    lines: [
      `  warehouse: ${thousands(built.readings!)} readings of 1,000 probes, written in ${s(built.insertMs!)}, rolled up in ${s(built.rollupMs!)}; copied for the second variant`,
      ...line('after (the code as it is)', after),
      ...line('before (7989e0e: a new version_hash marks the whole history)', before),
      `  after / before: whole sync (mark + apply + refresh) ${ratio(total(after), total(before))}; refresh ${ratio(after.refreshMs!, before.refreshMs!)}; ` +
        `apply ${ratio(after.applyMs!, before.oldMarkMs! + before.applyMs!)} (before's with its old mark); rows written ${ratio(after.rowsWritten!, before.rowsWritten!)}; peak memory ${ratio(after.peakMb!, before.peakMb!)}`,
      `  other processes used ${after.otherCores!.toFixed(2)} cores during "after", ${before.otherCores!.toFixed(2)} during "before"` +
        (Math.max(after.otherCores!, before.otherCores!) > 0.1
          ? ': WARNING, something else was busy; these times are high'
          : ''),
      '  (one run: two fresh processes on copies of one warehouse; compare the two within a run, not across runs)',
    ],
  };
}

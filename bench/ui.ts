/**
 * ui: the worker's web page on a warehouse of 1,000 probes with a year of hourly readings each (43.8 million): the
 * probe page's data for one probe and the whole year (5 series x 8,760 points) and the health table of the 1,000
 * probes, each asked over HTTP five times, in a child process (ui-child.ts) after it has built the warehouse.
 * Targets (issue: see it at a glance): the probe page under 500 ms, the health table under 1 s (the median of five).
 * Long (the build writes 43.8 million readings): run on request only (`--only ui`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStep, type StepFigures } from './lib/steps.js';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';

const CHILD = fileURLToPath(new URL('./ui-child.js', import.meta.url));

export const ui: Benchmark = {
  name: 'ui',
  title: 'The web page: one probe over a year, and the health table of 1,000 probes (43.8 million readings)',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-ui-'));
    try {
      ctx.progress('ui: building 1,000 probes x a year of hourly readings, then asking the web page');
      return report(await runStep({ script: CHILD, label: 'ui', args: [dir] }, ctx));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function report(f: StepFigures): BenchResult {
  const n = (key: string): number => Number(f[key]);
  const targets = [
    {
      what: `the probe page's data, one probe over a year (${thousands(n('probePagePoints'))} points in ${n('probePageSeries')} series): median of 5`,
      target: '< 500 ms',
      measured: `${round(n('probePageMedianMs'))} ms`,
      pass: n('probePageMedianMs') < 500,
    },
    {
      what: `the health table of ${thousands(n('healthTableRows'))} probes: median of 5`,
      target: '< 1000 ms',
      measured: `${round(n('healthTableMedianMs'))} ms`,
      pass: n('healthTableMedianMs') < 1000,
    },
  ];
  return {
    settings: { probes: n('probes'), hoursPerProbe: 8_760, series: 5, runs: 5 },
    figures: f,
    targets,
    lines: [
      `  warehouse: ${thousands(n('probes'))} probes, ${thousands(n('readings'))} readings (built in ${round(n('buildSeconds'), 1)} s)`,
      `  probe page (GET /api/probe, a year): median ${round(n('probePageMedianMs'))} ms, slowest ${round(n('probePageSlowestMs'))} ms`,
      `  health table (GET /api/probes): median ${round(n('healthTableMedianMs'))} ms, slowest ${round(n('healthTableSlowestMs'))} ms`,
      `  peak memory of the child ${thousands(n('peakMb'))} MB; other processes used at most ${n('otherCores').toFixed(2)} cores meanwhile`,
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`),
    ],
  };
}

/**
 * A pull of a large account: `sync-probes` of 1,000, 10,000 and 100,000 simulated probes at SENSOTERRA_RATE_LIMIT
 * (its default, 5 requests/s), each into a new warehouse in a child process of its own (pull-scale-child.ts) so
 * that its peak memory is the pull's alone (after sync-parameters, -locations and -customers, as `sync all` runs
 * them); the simulator runs here, in the bench's process, and notes when each GET /probe arrives (sync-customers'
 * list of each customer's probes, then sync-probes' pages of 500: customers are probes / 100).
 * Targets (issue: grow to 100 million readings): the pages asked for at no less than 0.9 of the rate limit (the pull
 * spends its budget; it never asks faster than the limit either), and the peak memory at 100,000 probes under twice
 * that at 1,000 (a page at a time, never the whole account).
 * Then the largest pull once more with DUCKDB_MEMORY_LIMIT=128MB, the bound docs/scaling.md offers a small worker:
 * it must complete, and its peak is reported (no target). About ten minutes: run on request only (`--only pull-scale`).
 */
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStep, type StepFigures } from './lib/steps.js';
import { round, thousands, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';
import { generateAccount, Simulator } from '../src/simulator/index.js';

const CHILD = fileURLToPath(new URL('./pull-scale-child.js', import.meta.url));
const SIZES = [1_000, 10_000, 100_000];
const RATE_LIMIT = 5; // SENSOTERRA_RATE_LIMIT's default
/** The DUCKDB_MEMORY_LIMIT of the last, bounded pull. */
const BOUNDED_MEMORY = '128MB';
/**
 * GET /probe under the API's base: the probe lists the pull asks for, sync-customers' one per customer
 * (?customer=ID: which probes are whose) and then sync-probes' pages of 500.
 */
const pageList = (sim: Simulator): RegExp => new RegExp(`^${new URL(sim.url).pathname}/probe(\\?|$)`);

interface PullFigures {
  probes: number;
  /** DUCKDB_MEMORY_LIMIT, when set (the default otherwise) */
  memoryLimit?: string;
  step: StepFigures;
  pages: number;
  /** requests after the first, over the time from the first request to the last */
  requestsPerSecond: number;
}

/** One size: the simulator here, the pull in a child; when each page was asked for, from the simulator's side. */
async function pullOf(probes: number, ctx: BenchContext, memoryLimit?: string): Promise<PullFigures> {
  const sim = await Simulator.start({
    account: generateAccount({ seed: 17, probes, customers: Math.max(10, probes / 100) }),
    now: new Date('2024-07-01T00:00:00Z'),
  });
  const asked: number[] = [];
  const pages = pageList(sim);
  // the simulator's own server (private: a benchmark may look), for the moment each request arrives
  sim['server'].on('request', (req: IncomingMessage) => {
    if (req.method === 'GET' && pages.test(req.url ?? '')) asked.push(performance.now());
  });
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-pull-'));
  try {
    const { email, password } = sim.account.account;
    const step = await runStep(
      {
        script: CHILD,
        label: `pull-scale ${thousands(probes)}${memoryLimit === undefined ? '' : ` at ${memoryLimit}`}`,
        args: [dir, sim.url, email, password, String(RATE_LIMIT), ...(memoryLimit === undefined ? [] : [memoryLimit])],
      },
      ctx,
    );
    const spanS = (asked.at(-1)! - asked[0]!) / 1000;
    return { probes, memoryLimit, step, pages: asked.length, requestsPerSecond: (asked.length - 1) / spanS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  }
}

export const pullScale: Benchmark = {
  name: 'pull-scale',
  title: `sync-probes of 1,000, 10,000 and 100,000 probes at SENSOTERRA_RATE_LIMIT=${RATE_LIMIT}`,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const pulls: PullFigures[] = [];
    for (const probes of SIZES) {
      ctx.progress(`pull-scale: ${thousands(probes)} probes`);
      pulls.push(await pullOf(probes, ctx));
    }
    const largest = SIZES.at(-1)!;
    ctx.progress(`pull-scale: ${thousands(largest)} probes with DUCKDB_MEMORY_LIMIT=${BOUNDED_MEMORY}`);
    return report(pulls, await pullOf(largest, ctx, BOUNDED_MEMORY));
  },
};

export function report(pulls: PullFigures[], bounded: PullFigures): BenchResult {
  const slowest = Math.min(...pulls.map((p) => p.requestsPerSecond));
  const fastest = Math.max(...pulls.map((p) => p.requestsPerSecond));
  const memory = Number(pulls.at(-1)!.step.peakMb) / Number(pulls[0]!.step.peakMb);
  const targets = [
    {
      what: `probe lists asked for per second / SENSOTERRA_RATE_LIMIT (${RATE_LIMIT}), the lowest of the three pulls`,
      target: '>= 0.9',
      measured: String(round(slowest / RATE_LIMIT, 2)),
      pass: slowest / RATE_LIMIT >= 0.9,
    },
    {
      what: `peak memory of the pull of ${thousands(pulls.at(-1)!.probes)} probes / of ${thousands(pulls[0]!.probes)}`,
      target: '< 2',
      measured: String(round(memory, 2)),
      pass: memory < 2,
    },
  ];
  const busiest = Math.max(...pulls.map((p) => p.step.otherCores));
  return {
    settings: { rateLimit: RATE_LIMIT, pageSize: 500, seed: 17, customers: 'probes / 100 (at least 10)' },
    figures: { pulls, memory, bounded },
    targets,
    lines: [
      ...pulls.map(
        (p) =>
          `  ${thousands(p.probes).padStart(7)} probes: ${p.pages} probe lists asked for at ${round(p.requestsPerSecond, 3)}/s; ` +
          `sync-probes ${round(Number(p.step.probesMs) / 1000, 2)} s (its apply included); ${thousands(Number(p.step.probes))} probes in the warehouse; peak ${thousands(Number(p.step.peakMb))} MB`,
      ),
      `  again with DUCKDB_MEMORY_LIMIT=${bounded.memoryLimit}: ${thousands(Number(bounded.step.probes))} probes in the warehouse, ` +
        `sync-probes ${round(Number(bounded.step.probesMs) / 1000, 2)} s, peak ${thousands(Number(bounded.step.peakMb))} MB`,
      `  the fastest pull asked ${round(fastest / RATE_LIMIT, 3)} x the limit (times of arrival at the simulator; the client spaces its requests 1/limit apart)`,
      `  other processes used at most ${busiest.toFixed(2)} cores meanwhile` +
        (busiest > 0.1 ? ': WARNING, something else was busy' : ''),
      ...targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`),
    ],
  };
}

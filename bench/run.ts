/**
 * `npm run bench [-- --only <name>] [-- --cpu-prof]`: runs the benchmarks one after the other (never two at once:
 * on a small machine they would measure each other), prints a report on stdout, and writes the figures to
 * bench/results/latest.json. A benchmark measures and says PASS or MISS against its target; it never fails a build.
 * Benchmarks in ON_REQUEST run only when named with --only (rename-1000: a 10-million-reading build and two syncs;
 * publish-100m: a 100-million-reading build and two publishes; writer-scale: builds of 0, 10 and 100 million
 * readings and the writer into each; pull-scale: sync-probes of up to 100,000 simulated probes at the rate limit;
 * ui: the web page over a 43.8-million-reading build).
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopAllChildren } from './lib/children.js';
import { describeMachine, machineFacts } from './lib/machine.js';
import { verdict, type Benchmark, type BenchContext, type BenchResult } from './lib/report.js';
import { publish100m } from './publish-100m.js';
import { pullScale } from './pull-scale.js';
import { pushThroughput } from './push-throughput.js';
import { rename1000 } from './rename-1000.js';
import { sustainedLoad } from './sustained-load.js';
import { ui } from './ui.js';
import { warehouse10m } from './warehouse-10m.js';
import { writerCost } from './writer-cost.js';
import { writerScale } from './writer-scale.js';

const BENCHMARKS: Benchmark[] = [pushThroughput, sustainedLoad, warehouse10m, writerCost];
// run only when named with --only: too long for the default run (which stays under about 5 minutes)
const ON_REQUEST: Benchmark[] = [rename1000, publish100m, writerScale, pullScale, ui];
// dist/bench/run.js -> <project>/bench/results: results live beside the sources, not in the build output
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

class UsageError extends Error {}

function options(): { only: Benchmark[]; profileDir: string | undefined } {
  let values: { only?: string; 'cpu-prof'?: boolean };
  try {
    ({ values } = parseArgs({ options: { only: { type: 'string' }, 'cpu-prof': { type: 'boolean' } } }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; usage: npm run bench [-- --only <name>] [--cpu-prof]`);
  }
  const only =
    values.only === undefined ? BENCHMARKS : [...BENCHMARKS, ...ON_REQUEST].filter((b) => b.name === values.only);
  if (only.length === 0)
    throw new UsageError(
      `--only ${values.only}: expected one of ${[...BENCHMARKS, ...ON_REQUEST].map((b) => b.name).join(', ')}`,
    );
  return { only, profileDir: values['cpu-prof'] ? `${RESULTS_DIR}profiles` : undefined };
}

async function main(): Promise<number> {
  const { only, profileDir } = options();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const machine = await machineFacts();
  const ctx: BenchContext = {
    profileDir,
    systemPids: machine.redisPid === undefined ? [process.pid] : [process.pid, machine.redisPid],
    signal: interrupted.signal,
    progress: (message) => process.stderr.write(`[bench] ${message}\n`),
  };
  const results: Record<string, BenchResult> = {};
  print(['sensoterra-sync benchmarks', ...describeMachine(machine), '']);
  for (const bench of only) {
    if (interrupted.signal.aborted) break;
    ctx.progress(`${bench.name}: start`);
    const result = await bench.run(ctx);
    if (interrupted.signal.aborted) break; // figures of a cut-short run would mislead: none are kept
    results[bench.name] = result;
    print([`== ${bench.name}: ${bench.title}`, ...result.lines, '']);
  }
  if (interrupted.signal.aborted) {
    print(['interrupted: no figures written']);
    return 130;
  }
  print([
    'summary',
    ...Object.entries(results).flatMap(([name, r]) =>
      r.targets.map((t) => `  ${verdict(t)}  ${name}: ${t.what}: ${t.measured} (target ${t.target})`),
    ),
  ]);
  writeResults(machine, results, profileDir);
  return 0;
}

function writeResults(machine: object, results: Record<string, BenchResult>, profileDir: string | undefined): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      { settings: r.settings, figures: r.figures, targets: r.targets },
    ]),
  );
  const file = `${RESULTS_DIR}latest.json`;
  writeFileSync(file, `${JSON.stringify({ machine, profiles: profileDir ?? null, benchmarks: json }, null, 2)}\n`);
  print(['', `figures written to ${file}${profileDir ? `; CPU profiles in ${profileDir}` : ''}`]);
}

function print(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Ctrl-C or a kill: stop the load and the children, let each benchmark remove its Redis keys and files, then go.
// A second Ctrl-C ends the bench at once (the handler is gone); the children are killed on exit regardless.
const interrupted = new AbortController();
// every request in flight and every paced wait of the push sender listens on it: 16 at once is expected, not a leak
setMaxListeners(1_000, interrupted.signal);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`[bench] ${signal}: stopping\n`);
    interrupted.abort();
    process.exitCode = 130;
    void stopAllChildren();
    setTimeout(() => process.exit(130), 20_000).unref();
  });
}

try {
  const code = await main();
  process.exitCode ??= code;
} catch (err) {
  process.stderr.write(
    `bench failed: ${err instanceof UsageError ? err.message : ((err as Error).stack ?? String(err))}\n`,
  );
  process.exitCode = err instanceof UsageError ? 2 : 1;
} finally {
  await stopAllChildren();
}

/**
 * sustained-load: the whole service (`start --role all`: receiver + the one writer) under a steady 2,000 readings/s
 * for 60 s, from the simulator's push sender in the bench process. Measures whether the writer keeps up (how long
 * after the last acknowledged push every reading is queryable) and what the worker process costs in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateAccount,
  sendPushes,
  Simulator,
  uplinksFor,
  type PushSendResult,
  type Uplink,
} from '../src/simulator/index.js';
import { openDuckDb } from '../src/warehouse/duckdb.js';
import { cpuSeconds, OtherLoad, vmField } from './lib/proc.js';
import { benchPrefix, IngestQueue } from './lib/queue.js';
import {
  otherLoadLine,
  round,
  targetLines,
  thousands,
  type Benchmark,
  type BenchContext,
  type BenchResult,
  type Target,
} from './lib/report.js';
import { Sampler } from './lib/sampler.js';
import { DUCKDB_SETTINGS, startService, type Service } from './lib/service.js';

const LOAD = {
  probes: 200,
  ratePerSecond: 2_000,
  durationS: 60,
  concurrency: 16,
  uplinksPerRequest: 1,
  historyDays: 14,
};
const TARGETS = { queryableMs: 2_000, workerMb: 300 };
/**
 * The service runs as the Docker image runs it (Dockerfile: MALLOC_ARENA_MAX=2, --max-semi-space-size=4), unless
 * BENCH_RUNTIME asks for `readme`: as the README starts it, `npx sensoterra-sync start` (bin/sensoterra-sync.js, whose
 * `#!` line sets the same), or `plain`: bare `node dist/src/cli/main.js start` with the defaults, to compare.
 */
const RUNTIMES: Record<string, { name: string; env: Record<string, string>; nodeArgs: string[]; bin?: boolean }> = {
  docker: {
    name: 'as in the Docker image: MALLOC_ARENA_MAX=2, node --max-semi-space-size=4',
    env: { MALLOC_ARENA_MAX: '2' },
    nodeArgs: ['--max-semi-space-size=4'],
  },
  readme: {
    name: 'as the README starts it: npx sensoterra-sync start (bin/sensoterra-sync.js)',
    env: {},
    nodeArgs: [],
    bin: true,
  },
  plain: { name: 'plain node dist/src/cli/main.js (no tuning)', env: {}, nodeArgs: [] },
};
const RUNTIME = RUNTIMES[process.env.BENCH_RUNTIME ?? 'docker'] ?? RUNTIMES.docker!;
/** How long to wait for the writer to catch up before calling it a miss. */
const DRAIN_TIMEOUT_MS = 120_000;

interface Measured {
  offered: { uplinks: number; readings: number };
  sent: PushSendResult;
  sendSeconds: number;
  queryableMs: number | undefined;
  maxBacklog: number;
  failedBatches: number;
  peakRssMb: number; // VmHWM
  maxSampledRssMb: number;
  rssSamplesMb: number[]; // VmRSS each second, from the start of the load
  /** VmRSS at the end, split: anonymous (V8 heap, malloc, DuckDB) and file-backed (mapped code: libduckdb.so, node). */
  endRss: { anonMb: number; fileMb: number };
  workerCpuCores: number;
  otherCpuCores: number;
  stored: { readings: number; pushes: number };
}

export const sustainedLoad: Benchmark = {
  name: 'sustained-load',
  title: `Sustained load: ${thousands(LOAD.ratePerSecond)} readings/s for ${LOAD.durationS} s through start --role all`,
  async run(ctx) {
    const queue = await IngestQueue.open(benchPrefix('sustained'));
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-'));
    let sim: Simulator | undefined;
    try {
      sim = await Simulator.start({ account: generateAccount({ seed: 7, probes: LOAD.probes }) });
      return report(await measure(sim, dir, queue, ctx));
    } finally {
      await sim?.close();
      ctx.progress(`sustained-load: deleted ${await queue.removeAndClose()} keys under ${queue.prefix}`);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function measure(sim: Simulator, dir: string, queue: IngestQueue, ctx: BenchContext): Promise<Measured> {
  ctx.progress('sustained-load: starting the service (--role all)');
  const service = await startService({
    role: 'all',
    prefix: queue.prefix,
    dir,
    profileDir: ctx.profileDir,
    env: {
      SENSOTERRA_API_URL: sim.url,
      SENSOTERRA_EMAIL: sim.account.account.email,
      SENSOTERRA_PASSWORD: sim.account.account.password,
      ...RUNTIME.env,
    },
    nodeArgs: RUNTIME.nodeArgs,
    bin: RUNTIME.bin,
  });
  try {
    ctx.progress(`sustained-load: ${LOAD.ratePerSecond} readings/s for ${LOAD.durationS} s`);
    const during = await underLoad(sim, service, queue, ctx);
    await service.child.stop();
    // only once the worker has let go of the file can anyone else open it: count what landed
    return { ...during, stored: await countStored(join(dir, 'warehouse.duckdb')) };
  } finally {
    await service.child.stop();
  }
}

async function underLoad(
  sim: Simulator,
  service: Service,
  queue: IngestQueue,
  ctx: BenchContext,
): Promise<Omit<Measured, 'stored'>> {
  const pid = service.child.pid;
  const rss = new Sampler(() => vmField(pid, 'VmRSS'));
  const backlog = new Sampler(() => queue.backlog());
  const other = new OtherLoad([...ctx.systemPids, pid]);
  try {
    const cpuBefore = cpuSeconds(pid) ?? Number.NaN;
    const offered = { uplinks: 0, readings: 0 };
    const now = new Date();
    const history = uplinksFor(sim.account, {
      from: new Date(now.getTime() - LOAD.historyDays * 86_400_000),
      to: now,
      seed: sim.seed,
    });
    const started = performance.now();
    const sent = await sendPushes(forDuration(history, LOAD.durationS * 1_000, offered), {
      url: service.pushUrl,
      secret: service.secret,
      uplinksPerRequest: LOAD.uplinksPerRequest,
      concurrency: LOAD.concurrency,
      ratePerSecond: LOAD.ratePerSecond,
      signal: ctx.signal,
    });
    const sendSeconds = (performance.now() - started) / 1_000; // every request has had its answer: the last acknowledgement is now
    const queryableMs = await queue.waitEmpty(DRAIN_TIMEOUT_MS, ctx.signal);
    const peakRssMb = vmField(pid, 'VmHWM') ?? Number.NaN;
    const endRss = { anonMb: vmField(pid, 'RssAnon') ?? Number.NaN, fileMb: vmField(pid, 'RssFile') ?? Number.NaN };
    const workerCpuCores = ((cpuSeconds(pid) ?? Number.NaN) - cpuBefore) / ((performance.now() - started) / 1_000);
    const memory = { peakRssMb, maxSampledRssMb: rss.max, rssSamplesMb: rss.samples, endRss };
    const otherCpuCores = other.cores();
    return {
      offered,
      sent,
      sendSeconds,
      queryableMs,
      maxBacklog: backlog.max,
      failedBatches: await queue.failed(),
      ...memory,
      workerCpuCores,
      otherCpuCores,
    };
  } finally {
    rss.stop();
    backlog.stop();
  }
}

/** The uplinks of `source` until `ms` have passed since the first was taken, counting what was handed out. */
function* forDuration(
  source: Iterable<Uplink>,
  ms: number,
  counted: { uplinks: number; readings: number },
): Generator<Uplink> {
  const deadline = performance.now() + ms;
  for (const uplink of source) {
    if (performance.now() >= deadline) return;
    counted.uplinks += 1;
    counted.readings += uplink.readings.length;
    yield uplink;
  }
  throw new Error(`the account's ${LOAD.historyDays} days of history ran out before ${ms} ms: use more probes or days`);
}

async function countStored(path: string): Promise<{ readings: number; pushes: number }> {
  const instance = await openDuckDb(path, { memoryLimit: '256MB', threads: 1 }, true);
  const connection = await instance.connect();
  try {
    const count = async (sql: string): Promise<number> =>
      Number((await connection.runAndReadAll(sql)).getRows()[0]?.[0] ?? 0);
    return {
      readings: await count(`SELECT count(*) FROM readings WHERE source = 'push'`),
      pushes: await count('SELECT count(*) FROM raw_pushes'),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function report(m: Measured): BenchResult {
  const nonAcknowledged = m.sent.requests - (m.sent.statuses[202] ?? 0);
  // one uplink per request, so every request's readings were acknowledged when every answer was a 202
  const acknowledgedReadings = nonAcknowledged === 0 ? m.sent.readings : undefined;
  const targets: Target[] = [
    {
      what: 'every acknowledged reading queryable after the load stops',
      target: `<= ${TARGETS.queryableMs} ms`,
      measured: m.queryableMs === undefined ? `not within ${DRAIN_TIMEOUT_MS} ms` : `${Math.round(m.queryableMs)} ms`,
      pass:
        m.queryableMs !== undefined &&
        m.queryableMs <= TARGETS.queryableMs &&
        m.failedBatches === 0 &&
        nonAcknowledged === 0,
    },
    {
      what: 'worker peak RSS (VmHWM)',
      target: `< ${TARGETS.workerMb} MB`,
      measured: `${Math.round(m.peakRssMb)} MB`,
      pass: m.peakRssMb < TARGETS.workerMb,
    },
  ];
  return {
    settings: {
      ...LOAD,
      duckdbMemoryLimit: DUCKDB_SETTINGS.memoryLimit,
      duckdbThreads: DUCKDB_SETTINGS.threads,
      scheduledPulls: 'off',
      runtime: RUNTIME.name,
    },
    figures: figuresOf(m, acknowledgedReadings),
    targets,
    lines: linesOf(m, acknowledgedReadings, nonAcknowledged, targets),
  };
}

function figuresOf(m: Measured, acknowledgedReadings: number | undefined): Record<string, unknown> {
  return {
    readingsOffered: m.offered.readings,
    requestsSent: m.sent.requests,
    readingsSent: m.sent.readings,
    readingsAcknowledged: acknowledgedReadings ?? null,
    statuses: m.sent.statuses,
    errors: m.sent.errors,
    sendSeconds: round(m.sendSeconds, 2),
    readingsPerS: round(m.sent.readings / m.sendSeconds),
    queryableMs: m.queryableMs === undefined ? null : round(m.queryableMs),
    maxBacklogBatches: m.maxBacklog,
    failedBatches: m.failedBatches,
    peakRssMb: round(m.peakRssMb, 1),
    maxSampledRssMb: round(m.maxSampledRssMb, 1),
    rssAtEnd: { anonMb: round(m.endRss.anonMb, 1), fileMb: round(m.endRss.fileMb, 1) },
    rssSamplesMb: m.rssSamplesMb.map((v) => round(v)),
    workerCpuCores: round(m.workerCpuCores, 2),
    otherCpuCores: round(m.otherCpuCores, 2),
    storedPushReadings: m.stored.readings,
    storedPushes: m.stored.pushes,
  };
}

function linesOf(
  m: Measured,
  acknowledgedReadings: number | undefined,
  nonAcknowledged: number,
  targets: Target[],
): string[] {
  const statuses = Object.entries(m.sent.statuses)
    .map(([status, n]) => `${status}: ${thousands(n)}`)
    .join(', ');
  return [
    `  load: ${LOAD.probes} probes' uplinks, 1 per request, ${LOAD.concurrency} in flight, capped at ${thousands(LOAD.ratePerSecond)} readings/s for ${LOAD.durationS} s; DuckDB memory_limit ${DUCKDB_SETTINGS.memoryLimit}, threads ${DUCKDB_SETTINGS.threads}; scheduled pulls off`,
    `  runtime: ${RUNTIME.name}`,
    `  sent: ${thousands(m.sent.requests)} requests, ${thousands(m.sent.readings)} readings in ${m.sendSeconds.toFixed(1)} s (${thousands(m.sent.readings / m.sendSeconds)} readings/s); answers ${statuses || 'none'}; no answer ${m.sent.errors}`,
    `  acknowledged: ${acknowledgedReadings === undefined ? `not all: ${nonAcknowledged} requests without a 202` : `${thousands(acknowledgedReadings)} readings`}; in the warehouse afterwards: ${thousands(m.stored.readings)} push readings, ${thousands(m.stored.pushes)} pushes`,
    `  queryable ${m.queryableMs === undefined ? 'NOT within the timeout' : `${Math.round(m.queryableMs)} ms`} after the last acknowledgement; ingest backlog peaked at ${m.maxBacklog} batches (sampled each second); failed batches ${m.failedBatches}`,
    `  worker (receiver + writer in one process): VmHWM ${m.peakRssMb.toFixed(1)} MB, max sampled VmRSS ${m.maxSampledRssMb.toFixed(1)} MB, CPU ${m.workerCpuCores.toFixed(2)} cores on average`,
    `  worker VmRSS ${rssPath(m.rssSamplesMb)}; at the end ${m.endRss.anonMb.toFixed(0)} MB anonymous + ${m.endRss.fileMb.toFixed(0)} MB file-backed`,
    otherLoadLine(m.otherCpuCores),
    ...targetLines(targets),
  ];
}

/** VmRSS at the start of the load and every 15 s after, e.g. "136 -> 250 -> 281 -> 290 -> 295 MB". */
function rssPath(samples: number[]): string {
  const picked = samples.filter((_, i) => i % 15 === 0 || i === samples.length - 1);
  return `${picked.map((v) => Math.round(v)).join(' -> ')} MB (every 15 s)`;
}

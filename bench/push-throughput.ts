/**
 * push-throughput: how many pushes a second the receiver (`start --role receiver`) acknowledges, next to a no-op
 * node:http server under the same load: same load generator (autocannon), body, connections and duration, each
 * in a child process of its own, one after the other (on 2 cores, running both at once would measure contention).
 * The ratio says what parsing, authentication and the group commit to Redis cost over bare HTTP. The receiver
 * serves its metrics (METRICS_PORT) meanwhile, and its count of accepted pushes is checked against autocannon's
 * (equal, give or take the requests still on their way when autocannon stops).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { generateAccount, uplinksFor, type Uplink } from '../src/simulator/index.js';
import { startChild, type Child } from './lib/children.js';
import { cpuSeconds, OtherLoad } from './lib/proc.js';
import { benchPrefix, IngestQueue } from './lib/queue.js';
import {
  otherLoadLine,
  round,
  targetLines,
  thousands,
  type Benchmark,
  type BenchContext,
  type BenchResult,
} from './lib/report.js';
import { startService } from './lib/service.js';
import { freePort } from '../src/dev/private-redis.js';

const LOAD = { connections: 64, warmupS: 2, durationS: 10 };
const TARGET_RATIO = 0.5;
const NOOP_SERVER = fileURLToPath(new URL('./noop-server.js', import.meta.url));

interface Run {
  requestsPerS: number; // mean of autocannon's per-second samples
  acknowledged: number; // 2xx answers in the measured seconds
  acknowledgedPerS: number; // 2xx answers / duration
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU the server process used during the measured seconds, in cores (1.0 = one core busy all the time). */
  serverCpuCores: number;
  /** The same for the bench process, where autocannon runs: on 2 cores the load generator takes its share too. */
  generatorCpuCores: number;
  /** Cores used by anything else on the machine meanwhile (a test suite, ...): should be near 0. */
  otherCpuCores: number;
  warmupAcknowledged: number;
}

export const pushThroughput: Benchmark = {
  name: 'push-throughput',
  title: 'Push receiver throughput vs a no-op node:http server',
  async run(ctx) {
    const uplink = multiDepthUplink();
    const body = JSON.stringify(uplink);
    const noop = await measureNoop(body, ctx);
    const receiver = await measureReceiver(body, ctx);
    return report(uplink, body, noop, receiver);
  },
};

/** One uplink of a 4-depth probe (ST-MULTI-60): 4 moisture readings and a temperature. */
function multiDepthUplink(): Uplink {
  const account = generateAccount({ seed: 1, probes: 20 });
  const probe = account.probes.find((p) => p.depths.length === 4);
  if (!probe) throw new Error('the generated account has no 4-depth probe');
  const to = new Date();
  for (const uplink of uplinksFor(account, {
    from: new Date(to.getTime() - 2 * 3_600_000),
    to,
    serials: [probe.serial],
  }))
    return uplink;
  throw new Error(`no uplink for probe ${probe.serial} in the last 2 hours`);
}

async function measureNoop(body: string, ctx: BenchContext): Promise<Run> {
  ctx.progress('push-throughput: no-op server');
  const server = await startChild({
    name: 'no-op server',
    script: NOOP_SERVER,
    env: { PATH: process.env.PATH ?? '' },
    nodeArgs: ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`] : [],
    ready: (line) => (line.startsWith('{"port"') ? (JSON.parse(line) as { port: number }).port : undefined),
  });
  try {
    return await load(server, `http://127.0.0.1:${server.value}/push`, body, {}, ctx.systemPids);
  } finally {
    await server.stop();
  }
}

async function measureReceiver(
  body: string,
  ctx: BenchContext,
): Promise<Run & { batches: number; pushesPerBatch: number }> {
  ctx.progress('push-throughput: receiver (--role receiver)');
  const queue = await IngestQueue.open(benchPrefix('throughput'));
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-'));
  try {
    const metricsPort = await freePort();
    const service = await startService({
      role: 'receiver',
      prefix: queue.prefix,
      dir,
      profileDir: ctx.profileDir,
      env: { METRICS_PORT: String(metricsPort) },
    });
    let run: Run;
    let counted: number;
    try {
      run = await load(service.child, service.pushUrl, body, { authorization: service.secret }, ctx.systemPids);
      counted = await acceptedPushes(`http://127.0.0.1:${metricsPort}/metrics`);
    } finally {
      await service.child.stop();
    }
    // No writer runs: every acknowledged push is still waiting in Redis, one job per group-commit batch.
    const batches = await queue.backlog();
    const pushes = run.acknowledged + run.warmupAcknowledged;
    // autocannon stops counting at the end of each run, with up to one request per connection still on its way
    if (counted < pushes || counted > pushes + 2 * LOAD.connections)
      throw new Error(`the receiver's metrics count ${counted} accepted pushes, autocannon ${pushes} acknowledged`);
    return { ...run, batches, pushesPerBatch: batches > 0 ? pushes / batches : 0 };
  } finally {
    ctx.progress(`push-throughput: deleted ${await queue.removeAndClose()} keys under ${queue.prefix}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** sensoterra_pushes_total{status="202",reason="accepted"} as the receiver's GET /metrics says. */
async function acceptedPushes(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = /^sensoterra_pushes_total\{status="202",reason="accepted"\} (\d+)$/m.exec(text);
  if (!line) throw new Error(`no count of accepted pushes in ${url}`);
  return Number(line[1]);
}

/** A warm-up (JIT, connections, Redis), then the measured run, with the server's CPU time around it. */
async function load(
  server: Child<unknown>,
  url: string,
  body: string,
  headers: Record<string, string>,
  systemPids: number[],
): Promise<Run> {
  const options = {
    url,
    method: 'POST' as const,
    body,
    headers: { 'content-type': 'application/json', ...headers },
    connections: LOAD.connections,
  };
  const warmup = await autocannon({ ...options, duration: LOAD.warmupS });
  const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
  const generatorBefore = process.cpuUsage();
  const other = new OtherLoad([...systemPids, server.pid]);
  const result = await autocannon({ ...options, duration: LOAD.durationS });
  const cpuAfter = cpuSeconds(server.pid) ?? Number.NaN;
  const generator = process.cpuUsage(generatorBefore);
  return {
    requestsPerS: result.requests.average,
    acknowledged: result['2xx'],
    acknowledgedPerS: result['2xx'] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    serverCpuCores: (cpuAfter - cpuBefore) / result.duration,
    generatorCpuCores: (generator.user + generator.system) / 1e6 / result.duration,
    otherCpuCores: other.cores(),
    warmupAcknowledged: warmup['2xx'],
  };
}

function report(
  uplink: Uplink,
  body: string,
  noop: Run,
  receiver: Run & { batches: number; pushesPerBatch: number },
): BenchResult {
  const readingsPerBody = uplink.readings.length;
  const ratio = receiver.requestsPerS / noop.requestsPerS;
  const targets = [
    {
      what: 'receiver / no-op requests/s',
      target: `>= ${TARGET_RATIO.toFixed(2)}`,
      measured: ratio.toFixed(2),
      pass: ratio >= TARGET_RATIO,
    },
  ];
  const row = (name: string, r: Run): string =>
    `  ${name.padEnd(9)} ${thousands(r.requestsPerS).padStart(7)} req/s   p50 ${r.latencyP50Ms} ms   p99 ${r.latencyP99Ms} ms   ` +
    `non-2xx ${r.non2xx}   errors ${r.errors}   CPU: server ${r.serverCpuCores.toFixed(2)}, autocannon ${r.generatorCpuCores.toFixed(2)} cores`;
  return {
    settings: {
      ...LOAD,
      bodyBytes: Buffer.byteLength(body),
      readingsPerBody,
      loadGenerator: 'autocannon (in the bench process)',
    },
    figures: {
      noop: roundRun(noop),
      receiver: {
        ...roundRun(receiver),
        readingsPerS: round(receiver.acknowledgedPerS * readingsPerBody),
        batches: receiver.batches,
        pushesPerBatch: round(receiver.pushesPerBatch, 1),
      },
      ratio: round(ratio, 3),
    },
    targets,
    lines: [
      `  load: autocannon, ${LOAD.connections} connections, ${LOAD.warmupS} s warm-up + ${LOAD.durationS} s measured, one uplink of ${readingsPerBody} readings (${Buffer.byteLength(body)} bytes) per request`,
      row('no-op', noop),
      row('receiver', receiver),
      `  receiver (metrics served on METRICS_PORT, its count of accepted pushes checked against autocannon's): ${thousands(receiver.acknowledgedPerS * readingsPerBody)} readings/s acknowledged; ${receiver.batches} group-commit batches in Redis, ${receiver.pushesPerBatch.toFixed(1)} pushes each on average`,
      `  ratio receiver / no-op: ${ratio.toFixed(2)}`,
      otherLoadLine(Math.max(noop.otherCpuCores, receiver.otherCpuCores)),
      ...targetLines(targets),
    ],
  };
}

function roundRun(r: Run): Record<string, number> {
  return {
    requestsPerS: round(r.requestsPerS),
    acknowledged: r.acknowledged,
    acknowledgedPerS: round(r.acknowledgedPerS),
    latencyP50Ms: r.latencyP50Ms,
    latencyP99Ms: r.latencyP99Ms,
    non2xx: r.non2xx,
    errors: r.errors,
    serverCpuCores: round(r.serverCpuCores, 2),
    generatorCpuCores: round(r.generatorCpuCores, 2),
    otherCpuCores: round(r.otherCpuCores, 2),
  };
}

/**
 * writer-cost: what the writer (src/ingest/land-pushes.ts: parse each push with parsePush, land the batch in one DuckDB
 * transaction) costs per push, by push size, on a real warehouse. Every case is a batch of about the same number of
 * bytes (8 MB), so time and memory per byte can be compared across sizes: a writer whose cost grows faster than the
 * body (the old one copied an uplink's unknown fields into each of its readings: a 259 KB body cost ~800 MB) shows
 * up as a case whose µs per KB, or memory per byte, is far above the small pushes'.
 *
 * No Redis, no receiver: the ingest job's `run` is called directly, as the consumer calls it (src/ingest/consumer.ts),
 * with a JobContext from jobContext. Each case runs in a child process of its own (this same file, `child <case>
 * <dir> <pids>`), on a fresh warehouse in a temporary directory, so that its peak memory is its own: one warm-up batch
 * (1 MB of the same pushes), then BATCHES measured batches, each landed before the next, readings all new.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { landPushes } from '../src/ingest/land-pushes.js';
import { loadConfig } from '../src/service/load-config.js';
import { jobContext } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { OtherLoad, vmField } from './lib/proc.js';
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
import { readRows } from './lib/warehouse-sql.js';

const SELF = fileURLToPath(import.meta.url);
const KB = 1_024;
const MB = 1_048_576;
/** Bytes of push bodies in one measured batch (one transaction; the consumer takes up to 32 MB in one). */
const BATCH_BYTES = 8 * MB;
const WARMUP_BYTES = 1 * MB;
const BATCHES = 3;
/**
 * Targets. Time: no push size costs more per KB than TARGET_PER_KB x the small pushes' (linear: no size amplifies;
 * the old writer took seconds for the issue's one 259 KB body, thousands of µs per KB). Memory: no batch grows the process by more than
 * TARGET_MEMORY x its bytes. The writer holds ~2 KB per reading until its transaction commits (DuckDB's copies of
 * the staged rows and of the matched batch, the appender, V8) and a reading is ~95-120 bytes of JSON: 17-25x
 * measured, whatever the push size and from 2 to 32 MB batches; 30x leaves room for when V8 happens to collect, and
 * the old writer was ~3,000x (800 MB for a 259 KB body).
 */
const TARGET_PER_KB = 3;
const TARGET_MEMORY = 30;
/** As the Docker image runs the writer (see sustained-load); BENCH_RUNTIME=plain for bare node. */
const RUNTIME: { name: string; env: Record<string, string>; nodeArgs: string[] } =
  process.env.BENCH_RUNTIME === 'plain'
    ? { name: 'plain node (no tuning)', env: {}, nodeArgs: [] }
    : {
        name: 'as in the Docker image: MALLOC_ARENA_MAX=2, node --max-semi-space-size=4',
        env: { MALLOC_ARENA_MAX: '2' },
        nodeArgs: ['--max-semi-space-size=4'],
      };

// ---- the pushes ----------------------------------------------------------------------------------------------------

/** Probes the pushes of a case cycle through; every push also moves on in time, so that every reading is new. */
const PROBES = 200;
const SLOT_MS = 15 * 60_000;
const T0 = Date.UTC(2025, 0, 1);
const DEPTHS = [15, 30, 45, 60];

interface Case {
  name: string;
  label: string;
  /** Readings each push lands; 0: the parser refuses the body whole (kept verbatim in rejected_pushes). */
  readingsPerPush: number;
  body(i: number): string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const value = (i: number, k: number): number => Math.round(100 + ((i * 7_919 + k * 104_729) % 400)) / 10;

/**
 * Push `i`: an uplink of probe i % PROBES carrying `slots` measurements of a 4-depth probe (4 moisture readings
 * and a temperature each), as the simulator writes them (bench/push-throughput.ts, `multiDepthUplink`). One slot
 * is the simulator's uplink exactly (the temperature of an odd probe id takes the uplink's time); more slots, a
 * probe sending its backlog, each reading with its own time.
 */
function uplink(
  i: number,
  slots: number,
  extra: { uplink?: (i: number) => Record<string, unknown>; reading?: Record<string, unknown> } = {},
): string {
  const probe = i % PROBES;
  const first = Math.floor(i / PROBES) * slots;
  const probeId = 50_000 + probe;
  const readings: Record<string, unknown>[] = [];
  for (let s = 0; s < slots; s++) {
    const at = iso(T0 + (first + s) * SLOT_MS);
    DEPTHS.forEach((depth, d) =>
      readings.push({
        type: 'MOISTURE',
        depth,
        value: value(i, s * 5 + d),
        unit: '%',
        timestamp: at,
        ...extra.reading,
      }),
    );
    const temperatureAt = slots === 1 && probeId % 2 === 1 ? null : at;
    readings.push({
      type: 'TEMPERATURE',
      value: value(i, s * 5 + 4) / 2,
      unit: '°C',
      timestamp: temperatureAt,
      ...extra.reading,
    });
  }
  return JSON.stringify({
    serial: String(24_000_000_000 + probe),
    probe_id: probeId,
    customer_id: 1001,
    timestamp: iso(T0 + (first + slots - 1) * SLOT_MS),
    battery: 'NORMAL',
    rssi: -79,
    readings,
    ...extra.uplink?.(i),
  });
}

/** Unknown uplink fields just under PUSH_MAX_EXTRA (16,384 bytes as JSON): many small keys, as a gateway might add. */
function gatewayFields(i: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let bytes = 2;
  for (let k = 0; bytes < 16_000; k++) {
    const key = `gw_${String(k).padStart(4, '0')}`;
    const text = `v${i}-${k}-abcdef`;
    fields[key] = text;
    bytes += JSON.stringify(key).length + JSON.stringify(text).length + 2;
  }
  return fields;
}

/** The issue's body: a 200 KB unknown field beside 4,000 readings, 259 KB. Refused now (PUSH_MAX_STRING). */
function amplification(i: number): string {
  const readings = Array.from({ length: 4_000 }, () => ({ value: 27.4 }));
  const probe = i % PROBES;
  return JSON.stringify({
    serial: String(24_000_000_000 + probe),
    probe_id: 50_000 + probe,
    timestamp: iso(T0 + i * SLOT_MS),
    readings,
    blob: 'x'.repeat(200 * KB),
  });
}

const CASES: Case[] = [
  { name: 'small', label: 'small: 1 uplink, 5 readings', readingsPerPush: 5, body: (i) => uplink(i, 1) },
  { name: 'medium', label: 'medium: 1 uplink, 100 readings', readingsPerPush: 100, body: (i) => uplink(i, 20) },
  { name: 'large', label: 'large: 1 uplink, 1,000 readings', readingsPerPush: 1_000, body: (i) => uplink(i, 200) },
  {
    name: 'large-extra',
    label: 'large + unknown fields at the limits',
    readingsPerPush: 1_000,
    body: (i) => uplink(i, 200, { uplink: gatewayFields, reading: { snr: 7.5 } }),
  },
  { name: 'amplification', label: "the issue's 259 KB body (refused)", readingsPerPush: 0, body: amplification },
];

// ---- the child: one case, on its own warehouse --------------------------------------------------------------------

interface BatchFigures {
  pushes: number;
  bytes: number;
  landed: number;
  rejected: number;
  ms: number;
  rollupMs: number;
  rssBeforeMb: number;
  peakRssGrowthMb: number;
  heapGrowthMb: number;
  retainedMb: number;
}

interface CaseFigures {
  batches: BatchFigures[];
  otherCores: number;
  warehouse: Record<string, number>;
  startRssMb: number;
}

async function child(name: string, dir: string, systemPids: number[]): Promise<CaseFigures> {
  const spec = CASES.find((c) => c.name === name);
  if (!spec) throw new Error(`no case ${name}`);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const log = createLogger('silent');
  const env: Record<string, string> = {
    WAREHOUSE_PATH: join(dir, 'warehouse.duckdb'),
    EXPORT_DIR: join(dir, 'export'),
    LOG_LEVEL: 'silent',
  };
  for (const v of ['DUCKDB_MEMORY_LIMIT', 'DUCKDB_THREADS']) if (process.env[v]) env[v] = process.env[v]!;
  const config = loadConfig(env);
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config);
  const deps = {
    db,
    config,
    log,
    api: () => {
      throw new Error('writer-cost: the ingest job needs no API');
    },
  };
  let next = 0;
  const batchOf = (bytes: number): { r: number; b: string }[] => {
    const pushes: { r: number; b: string }[] = [];
    const r = Date.now();
    for (let total = 0; total < bytes;) {
      const b = spec.body(next++);
      pushes.push({ r, b });
      total += Buffer.byteLength(b);
    }
    return pushes;
  };
  const land = async (pushes: { r: number; b: string }[]): Promise<{ landed: number; rejected: number }> => {
    const ctx = jobContext(deps, { runId: randomUUID(), startedAt: new Date(), trigger: 'bench', log });
    const result = await landPushes({ pushes }, ctx);
    return { landed: result.inserted, rejected: Number(result.details?.rejected ?? 0) };
  };

  await land(batchOf(WARMUP_BYTES)); // JIT, DuckDB's first appends and its tables' first blocks
  await db.refreshRollup();
  gc();
  const startRssMb = vmField(process.pid, 'VmRSS') ?? Number.NaN;
  const other = new OtherLoad([process.pid, ...systemPids]);
  const batches: BatchFigures[] = [];
  for (let n = 0; n < BATCHES; n++) {
    const pushes = batchOf(BATCH_BYTES);
    const bytes = pushes.reduce((sum, p) => sum + Buffer.byteLength(p.b), 0);
    gc();
    const rssBefore = vmField(process.pid, 'VmRSS')!;
    const heapBefore = process.memoryUsage().heapUsed;
    let rssSampled = 0;
    writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS: the batch's peak is its own
    const sampler = new Sampler(() => {
      const m = process.memoryUsage();
      rssSampled = Math.max(rssSampled, m.rss);
      return m.heapUsed;
    }, 5);
    const started = performance.now();
    const { landed, rejected } = await land(pushes);
    const ms = performance.now() - started;
    sampler.stop();
    const peak = Math.max(vmField(process.pid, 'VmHWM')!, rssSampled / MB);
    const rollupStarted = performance.now();
    await db.refreshRollup();
    const rollupMs = performance.now() - rollupStarted;
    gc();
    batches.push({
      pushes: pushes.length,
      bytes,
      landed,
      rejected,
      ms,
      rollupMs,
      rssBeforeMb: rssBefore,
      peakRssGrowthMb: Math.max(0, peak - rssBefore), // RSS may fall between reading it and the reset
      heapGrowthMb: (sampler.max - heapBefore) / MB,
      retainedMb: vmField(process.pid, 'VmRSS')! - rssBefore,
    });
  }
  const otherCores = other.cores();
  const warehouse: Record<string, number> = {};
  for (const table of ['readings', 'raw_pushes', 'rejected_pushes', 'uplink_extras']) {
    warehouse[table] = Number((await readRows(db, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
  }
  await db.close();
  return { batches, otherCores, warehouse, startRssMb };
}

// ---- the parent: the cases one after the other, and the report ----------------------------------------------------

function runCase(spec: Case, dir: string, ctx: BenchContext): Promise<CaseFigures> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...RUNTIME.env };
  for (const v of ['DUCKDB_MEMORY_LIMIT', 'DUCKDB_THREADS']) if (process.env[v]) env[v] = process.env[v]!;
  return new Promise((resolve, reject) => {
    const args = [...RUNTIME.nodeArgs, SELF, 'child', spec.name, dir, ctx.systemPids.join(',')];
    execFile(process.execPath, args, { env, signal: ctx.signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`writer-cost ${spec.name}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as CaseFigures);
    });
  });
}

export const writerCost: Benchmark = {
  name: 'writer-cost',
  title: "The writer's cost per push by size: ingest-pushes on a real warehouse, 8 MB batches",
  async run(ctx) {
    const results: [Case, CaseFigures][] = [];
    for (const spec of CASES) {
      if (ctx.signal.aborted) break;
      ctx.progress(`writer-cost: ${spec.label}`);
      const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bench-writer-'));
      try {
        results.push([spec, await runCase(spec, dir, ctx)]);
      } catch (err) {
        if (!ctx.signal.aborted) throw err; // Ctrl-C: the child was stopped, no figures
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (results.length < CASES.length) return { settings: {}, figures: {}, targets: [], lines: ['  interrupted'] }; // not kept by run.ts
    return report(results);
  },
};

interface Row {
  name: string;
  label: string;
  pushes: number;
  bytes: number;
  bytesPerPush: number;
  landed: number;
  expected: number;
  rejected: number;
  ms: number;
  msAll: number[];
  rollupMs: number;
  usPerKb: number;
  usPerReading: number | null;
  usPerPush: number;
  peakRssGrowthMb: number;
  peakPerByte: number;
  heapGrowthMb: number;
  retainedMb: number;
  growthByBatchMb: number[];
  rssMb: { afterWarmup: number; end: number };
  otherCores: number;
  warehouse: Record<string, number>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rowOf(spec: Case, f: CaseFigures): Row {
  const b = f.batches;
  const ms = median(b.map((x) => x.ms));
  const pushes = median(b.map((x) => x.pushes));
  const bytes = median(b.map((x) => x.bytes));
  const landed = median(b.map((x) => x.landed));
  const worst = b.reduce((w, x) => (x.peakRssGrowthMb / x.bytes > w.peakRssGrowthMb / w.bytes ? x : w));
  return {
    name: spec.name,
    label: spec.label,
    pushes,
    bytes,
    bytesPerPush: bytes / pushes,
    landed,
    expected: pushes * spec.readingsPerPush,
    rejected: median(b.map((x) => x.rejected)),
    ms,
    msAll: b.map((x) => round(x.ms)),
    rollupMs: median(b.map((x) => x.rollupMs)),
    usPerKb: (ms * 1_000) / (bytes / KB),
    usPerReading: landed > 0 ? (ms * 1_000) / landed : null,
    usPerPush: (ms * 1_000) / pushes,
    peakRssGrowthMb: worst.peakRssGrowthMb,
    peakPerByte: (worst.peakRssGrowthMb * MB) / worst.bytes,
    heapGrowthMb: Math.max(...b.map((x) => x.heapGrowthMb)),
    retainedMb: Math.max(...b.map((x) => x.retainedMb)),
    growthByBatchMb: b.map((x) => x.peakRssGrowthMb),
    rssMb: { afterWarmup: f.startRssMb, end: b[b.length - 1]!.rssBeforeMb + b[b.length - 1]!.retainedMb },
    otherCores: f.otherCores,
    warehouse: f.warehouse,
  };
}

/**
 * cost per push = perKb x KB + perPush, fitted over the cases that land readings: least squares of µs per KB on
 * 1 / (KB per push), so that each case weighs by its relative error (plain least squares on µs per push would let
 * the 100 KB pushes decide the constant, which only the small pushes can show).
 */
function fit(rows: Row[]): { perKb: number; perPush: number } {
  const xs = rows.map((r) => KB / r.bytesPerPush);
  const ys = rows.map((r) => r.usPerKb);
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  const perPush = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return { perKb: my - perPush * mx, perPush };
}

function report(results: [Case, CaseFigures][]): BenchResult {
  const rows = results.map(([spec, f]) => rowOf(spec, f));
  const small = rows.find((r) => r.name === 'small')!;
  const worstPerKb = rows.reduce((w, r) => (r.usPerKb > w.usPerKb ? r : w));
  const worstMemory = rows.reduce((w, r) => (r.peakPerByte > w.peakPerByte ? r : w));
  const perKbRatio = worstPerKb.usPerKb / small.usPerKb;
  const line = fit(rows.filter((r) => r.landed > 0));
  const targets: Target[] = [
    {
      what: `µs per KB of body, the costliest case (${worstPerKb.name}) / small pushes`,
      target: `<= ${TARGET_PER_KB.toFixed(2)}`,
      measured: perKbRatio.toFixed(2),
      pass: perKbRatio <= TARGET_PER_KB,
    },
    {
      what: `peak RSS growth per batch / the batch's bytes, the highest case (${worstMemory.name})`,
      target: `< ${TARGET_MEMORY}`,
      measured: worstMemory.peakPerByte.toFixed(1),
      pass: worstMemory.peakPerByte < TARGET_MEMORY,
    },
  ];
  const unexpected = rows.filter((r) => r.landed !== r.expected || (r.expected === 0 && r.rejected !== r.pushes));
  const otherCores = Math.max(...rows.map((r) => r.otherCores));
  const header = `  ${'case'.padEnd(38)} ${'pushes'.padStart(6)} ${'bytes/push'.padStart(10)} ${'readings'.padStart(8)} ${'ms'.padStart(6)} ${'µs/KB'.padStart(6)} ${'µs/reading'.padStart(10)} ${'µs/push'.padStart(8)} ${'peak RSS'.padStart(9)} ${'x bytes'.padStart(7)} ${'heap'.padStart(7)} ${'x small µs/KB'.padStart(13)}`;
  const table = rows.map(
    (r) =>
      `  ${r.label.padEnd(38)} ${thousands(r.pushes).padStart(6)} ${thousands(r.bytesPerPush).padStart(10)} ${thousands(r.landed).padStart(8)} ${thousands(r.ms).padStart(6)} ` +
      `${r.usPerKb.toFixed(1).padStart(6)} ${(r.usPerReading === null ? '-' : r.usPerReading.toFixed(1)).padStart(10)} ${thousands(r.usPerPush).padStart(8)} ` +
      `${`${r.peakRssGrowthMb.toFixed(0)} MB`.padStart(9)} ${r.peakPerByte.toFixed(1).padStart(7)} ${`${r.heapGrowthMb.toFixed(0)} MB`.padStart(7)} ${(r.usPerKb / small.usPerKb).toFixed(2).padStart(13)}`,
  );
  return {
    settings: {
      batchBytes: BATCH_BYTES,
      warmupBytes: WARMUP_BYTES,
      batchesPerCase: BATCHES,
      probes: PROBES,
      runtime: RUNTIME.name,
      duckdbMemoryLimit: process.env.DUCKDB_MEMORY_LIMIT ?? '1GB (default)',
      duckdbThreads: process.env.DUCKDB_THREADS ?? '2 (default)',
      warehouse: 'fresh per case (child process of its own); warm-up batch, then each batch landed before the next',
    },
    figures: {
      cases: Object.fromEntries(
        rows.map((r) => [
          r.name,
          {
            pushes: r.pushes,
            bytes: r.bytes,
            bytesPerPush: round(r.bytesPerPush),
            readingsLanded: r.landed,
            rejected: r.rejected,
            msMedian: round(r.ms),
            msBatches: r.msAll,
            rollupMsMedian: round(r.rollupMs),
            usPerKb: round(r.usPerKb, 1),
            usPerReading: r.usPerReading === null ? null : round(r.usPerReading, 2),
            usPerPush: round(r.usPerPush, 1),
            peakRssGrowthMb: round(r.peakRssGrowthMb, 1),
            peakRssGrowthPerByte: round(r.peakPerByte, 2),
            peakRssGrowthKbPerReading: r.landed > 0 ? round((r.peakRssGrowthMb * MB) / KB / r.landed, 2) : null,
            heapGrowthMb: round(r.heapGrowthMb, 1),
            retainedRssMb: round(r.retainedMb, 1),
            peakRssGrowthMbByBatch: r.growthByBatchMb.map((x) => round(x, 1)),
            rssMbAfterWarmup: round(r.rssMb.afterWarmup),
            rssMbAtEnd: round(r.rssMb.end),
            usPerKbRatioToSmall: round(r.usPerKb / small.usPerKb, 2),
            otherCpuCores: round(r.otherCores, 2),
            warehouseAfter: r.warehouse,
          },
        ]),
      ),
      fit: { usPerKb: round(line.perKb, 1), usPerPush: round(line.perPush, 1) },
    },
    targets,
    lines: [
      `  ${BATCHES} batches of ${BATCH_BYTES / MB} MB of push bodies per case (median ms; peak memory of the worst batch), each one transaction of ingest-pushes (parse + land), after a ${WARMUP_BYTES / MB} MB warm-up;`,
      `  each case in a child process of its own, on a fresh warehouse (${RUNTIME.name}); the rollup refresh after each batch is not counted`,
      header,
      ...table,
      `  peak RSS growth by batch, MB (the first sets the working set, the next reuse it): ${rows.map((r) => `${r.name} ${r.growthByBatchMb.map((x) => x.toFixed(0)).join('/')}`).join(', ')}`,
      `  the process's RSS after the warm-up -> after the last batch: ${rows.map((r) => `${r.name} ${r.rssMb.afterWarmup.toFixed(0)} -> ${r.rssMb.end.toFixed(0)} MB`).join(', ')}`,
      `  peak RSS growth per reading landed: ${rows
        .filter((r) => r.landed > 0)
        .map((r) => `${r.name} ${((r.peakRssGrowthMb * MB) / KB / r.landed).toFixed(1)} KB`)
        .join(', ')}`,
      ...rows
        .filter((r) => r.expected === 0)
        .map(
          (r) =>
            `  ${r.name}: ${r.rejected} of ${r.pushes} pushes refused per batch, kept verbatim (rejected_pushes holds ${thousands(r.warehouse.rejected_pushes ?? 0)} after the run), no reading landed`,
        ),
      `  rollup refresh after a batch (median, not in the figures above): ${rows.map((r) => `${r.name} ${thousands(r.rollupMs)} ms`).join(', ')}`,
      `  per push, fitted over the cases that land readings: about ${line.perKb.toFixed(0)} µs per KB of body ` +
        (line.perPush >= 0
          ? `+ ${line.perPush.toFixed(0)} µs per push`
          : `and no measurable cost per push (fitted ${line.perPush.toFixed(0)} µs: within the noise)`),
      ...(unexpected.length > 0
        ? [
            `  WARNING: not landed as expected: ${unexpected.map((r) => `${r.name} landed ${r.landed} of ${r.expected}, rejected ${r.rejected}`).join('; ')}`,
          ]
        : []),
      otherLoadLine(otherCores),
      ...targetLines(targets),
    ],
  };
}

// Run as `node writer-cost.js child <case> <dir> <pids>`: one case, its figures as one JSON line on stdout.
if (process.argv[1] === SELF && process.argv[2] === 'child') {
  try {
    const [name, dir, pids] = process.argv.slice(3);
    const figures = await child(name!, dir!, (pids ?? '').split(',').filter(Boolean).map(Number));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

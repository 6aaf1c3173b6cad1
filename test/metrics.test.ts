/**
 * Metrics: GET /metrics on METRICS_PORT, in every role, tells an operator that pushes arrive, the writer keeps up
 * and the pulls succeed. After a known push load and known syncs, a scrape finds the exact counts; the names are
 * a promise (the README's alert rules and the Grafana dashboard use them) and the text parses as Prometheus'
 * exposition format.
 */
import { readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis } from '../src/dev/private-redis.js';
import { createLogger } from '../src/logger.js';
import { PushReceiver } from '../src/receiver/server.js';
import { runJob } from '../src/job-runtime/runner.js';
import { startService, type Service } from '../src/service/service.js';
import { WorkerService } from '../src/service/worker.js';
import { Simulator } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { parseExposition, valueOf, type Family } from './helpers/prometheus.js';
import { apiEnv } from './helpers/pulls.js';
import { deleteKeys } from './helpers/redis.js';
import { someUplinks, readingsOf } from './helpers/push-load.js';
import { ingestDrained, post, PUSH_SECRET } from './helpers/stack.js';
import { readRows } from './helpers/warehouse.js';

/** Every family the service promises (the README lists them), and only these under sensoterra_. */
const PROMISED = {
  sensoterra_pushes_total: 'counter',
  sensoterra_push_readings_total: 'counter',
  sensoterra_push_request_duration_seconds: 'histogram',
  sensoterra_push_batch_pushes: 'histogram',
  sensoterra_writer_readings_total: 'counter',
  sensoterra_writer_pushes_total: 'counter',
  sensoterra_writer_rejected_total: 'counter',
  sensoterra_ingest_backlog_batches: 'gauge',
  sensoterra_ingest_lag_seconds: 'gauge',
  sensoterra_ingest_failed_batches: 'gauge',
  sensoterra_job_runs_total: 'counter',
  sensoterra_job_run_duration_seconds: 'histogram',
  sensoterra_job_last_success_timestamp_seconds: 'gauge',
  sensoterra_api_requests_total: 'counter',
  sensoterra_api_retries_total: 'counter',
  sensoterra_export_age_seconds: 'gauge',
  sensoterra_warehouse_size_bytes: 'gauge',
};
/** Node's own, which dashboards use beside ours. */
const PROCESS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds'];

let sim: Simulator;
let place: TestPlace;
let service: Service;
let metricsUrl: string;
let pushUrl: string;

beforeAll(async () => {
  sim = await Simulator.start({ account: smallAccount(), now: NOW });
  const port = await freePort();
  place = testPlace(
    apiEnv(sim, {
      PUSH_PORT: '0',
      PUSH_SECRET,
      METRICS_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
    }),
  );
  service = await startService(place.config, createLogger('silent'), 'all', { checkRedisDurability: false });
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const receiver = service.parts.find((p) => p instanceof PushReceiver)!;
  pushUrl = `${receiver.url}${receiver.path}`;
});

afterAll(async () => {
  await service?.stop();
  await sim?.close();
  await deleteKeys(place.prefix);
  place.cleanup();
});

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

function worker(): WorkerService {
  return service.parts.find((p) => p instanceof WorkerService)!;
}

describe('GET /metrics after a known push load and known syncs', () => {
  it('counts every push by its answer, every reading by what became of it, and the batches to Redis', async () => {
    const uplinks = someUplinks(sim.account, 60);
    const withRejected = structuredClone(uplinks[0]!);
    withRejected.readings.push({ ...withRejected.readings[0]!, depth: 12.5 });
    const bodies = [...uplinks.slice(1), withRejected].map((u) => JSON.stringify(u));
    for (const body of bodies) expect((await post(pushUrl, body)).status).toBe(202);
    expect((await post(pushUrl, bodies[0]!)).status).toBe(202); // redelivered: its readings are duplicates
    expect((await post(pushUrl, '{"uplinks": [')).status).toBe(400); // kept in rejected_pushes
    expect((await post(pushUrl, bodies[0]!, { authorization: 'wrong' })).status).toBe(401);
    expect((await post(pushUrl, bodies[0]!, { 'content-type': 'text/plain' })).status).toBe(415);
    await ingestDrained(place);

    const accepted = bodies.length + 1;
    // the first uplink's readings came with the rejected one, the second's twice
    const readingsAccepted = readingsOf(uplinks) + uplinks[1]!.readings.length;
    const m = await scrape();
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '202', reason: 'accepted' })).toBe(accepted);
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '400', reason: 'invalid' })).toBe(1);
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '401', reason: 'credentials' })).toBe(1);
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '415', reason: 'unreadable' })).toBe(1);
    expect(valueOf(m, 'sensoterra_push_readings_total', { result: 'accepted' })).toBe(readingsAccepted);
    expect(valueOf(m, 'sensoterra_push_readings_total', { result: 'rejected' })).toBe(1);
    expect(valueOf(m, 'sensoterra_push_request_duration_seconds_count')).toBe(accepted + 3);
    // what went to Redis: the accepted pushes and the one kept in rejected_pushes
    expect(valueOf(m, 'sensoterra_push_batch_pushes_sum')).toBe(accepted + 1);

    const [stored] = await readRows(worker().deps.db, `SELECT count(*) AS n FROM readings`);
    const [rejected] = await readRows(worker().deps.db, `SELECT count(*) AS n FROM rejected_pushes`);
    expect(valueOf(m, 'sensoterra_writer_readings_total', { outcome: 'inserted' })).toBe(Number(stored!.n));
    expect(valueOf(m, 'sensoterra_writer_readings_total', { outcome: 'duplicate' })).toBe(uplinks[1]!.readings.length);
    expect(valueOf(m, 'sensoterra_writer_readings_total', { outcome: 'conflict' })).toBe(0);
    // the body that is not a push, and the reading rejected on its own
    expect(Number(rejected!.n)).toBe(2);
    expect(valueOf(m, 'sensoterra_writer_rejected_total')).toBe(2);
    expect(valueOf(m, 'sensoterra_writer_pushes_total', { outcome: 'landed' })).toBe(accepted + 1);
    expect(valueOf(m, 'sensoterra_ingest_backlog_batches')).toBe(0);
    expect(valueOf(m, 'sensoterra_ingest_lag_seconds')).toBe(0);
    expect(valueOf(m, 'sensoterra_ingest_failed_batches')).toBe(0);
    const bytes = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    const { warehousePath } = place.config;
    expect(valueOf(m, 'sensoterra_warehouse_size_bytes')).toBe(bytes(warehousePath) + bytes(`${warehousePath}.wal`));
    // nothing published yet: left out, not shown as a fresh 0
    expect(m.get('sensoterra_export_age_seconds')?.samples).toEqual([]);
  });

  it('counts job runs by outcome with their durations, and API requests by status with their retries', async () => {
    const deps = worker().deps;
    sim.requests.length = 0;
    sim.addFault({ kind: 'status', status: 503, body: '{"message":"busy"}', times: 1, when: { path: '/probe' } });
    const before = Date.now() / 1000;
    await runJob('sync-probes', {}, deps, { trigger: 'command' });
    const after = Date.now() / 1000;
    sim.addFault({ kind: 'status', status: 404, body: '{"message":"gone"}', times: 1, when: { path: '/location' } });
    await expect(runJob('sync-locations', {}, deps, { trigger: 'command' })).rejects.toThrow('404');
    await runJob('export', {}, deps, { trigger: 'command' });
    const exported = Date.now() / 1000;

    const m = await scrape();
    expect(valueOf(m, 'sensoterra_job_runs_total', { job_name: 'sync-probes', outcome: 'succeeded' })).toBe(1);
    expect(valueOf(m, 'sensoterra_job_runs_total', { job_name: 'sync-probes', outcome: 'failed' })).toBe(0);
    expect(valueOf(m, 'sensoterra_job_runs_total', { job_name: 'sync-locations', outcome: 'failed' })).toBe(1);
    expect(valueOf(m, 'sensoterra_job_runs_total', { job_name: 'export', outcome: 'succeeded' })).toBe(1);
    expect(valueOf(m, 'sensoterra_job_run_duration_seconds_count', { job_name: 'sync-probes' })).toBe(1);
    expect(valueOf(m, 'sensoterra_job_run_duration_seconds_count', { job_name: 'sync-locations' })).toBe(1);
    const probesDone = valueOf(m, 'sensoterra_job_last_success_timestamp_seconds', { job_name: 'sync-probes' })!;
    expect(probesDone).toBeGreaterThanOrEqual(before);
    expect(probesDone).toBeLessThanOrEqual(after);
    expect(valueOf(m, 'sensoterra_job_last_success_timestamp_seconds', { job_name: 'sync-locations' })).toBeUndefined();
    const age = valueOf(m, 'sensoterra_export_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThanOrEqual(Date.now() / 1000 - after);
    expect(exported).toBeGreaterThanOrEqual(after);

    // as the simulator saw them: every answer, by status (the login included), and the 503 asked again
    const byStatus = new Map<number, number>();
    for (const r of sim.requests) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect([...byStatus.keys()].sort((a, b) => a - b)).toEqual([200, 404, 503]);
    for (const [status, n] of byStatus)
      expect(valueOf(m, 'sensoterra_api_requests_total', { status: String(status) })).toBe(n);
    expect(valueOf(m, 'sensoterra_api_retries_total', { reason: 'backoff' })).toBe(1);
    expect(valueOf(m, 'sensoterra_api_requests_total', { status: 'error' })).toBeUndefined();
  });

  it('has every known label value from the start, at 0, so that a first failure is an increase', async () => {
    const m = await scrape();
    // never answered in this file, yet there
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '503', reason: 'queue_unavailable' })).toBe(0);
    expect(valueOf(m, 'sensoterra_pushes_total', { status: '500', reason: 'fault' })).toBe(0);
    expect(valueOf(m, 'sensoterra_job_runs_total', { job_name: 'reconcile', outcome: 'failed' })).toBe(0);
    expect(valueOf(m, 'sensoterra_job_run_duration_seconds_count', { job_name: 'backfill' })).toBe(0);
    expect(valueOf(m, 'sensoterra_writer_pushes_total', { outcome: 'parked' })).toBe(0);
    expect(valueOf(m, 'sensoterra_api_retries_total', { reason: 'rate_limited' })).toBe(0);
    // no label named job: Prometheus keeps it for its scrape job
    for (const family of m.values())
      for (const sample of family.samples) expect(sample.labels).not.toHaveProperty('job');
  });

  it('uses the promised names, each with its type and help, in the exposition format', async () => {
    const m = await scrape();
    const ours = Object.fromEntries(
      [...m].filter(([name]) => name.startsWith('sensoterra_')).map(([n, f]) => [n, f.type]),
    );
    expect(ours).toEqual(PROMISED);
    for (const name of PROCESS) expect(m.has(name), name).toBe(true);
    for (const [name, family] of m) {
      expect(family.help.length, name).toBeGreaterThan(10);
      if (family.type === 'counter') expect(name, 'a counter ends in _total').toMatch(/_total$/);
    }
  });
});

describe('the documented metrics', () => {
  /** The families a text refers to (a histogram's _bucket, _sum and _count are its family's). */
  function familiesIn(text: string): Set<string> {
    const names = text.match(/\bsensoterra_[a-z_]+/g) ?? [];
    return new Set(names.map((n) => (n in PROMISED ? n : n.replace(/_(bucket|sum|count)$/, ''))));
  }

  it('the README lists every promised metric with its type, and no other', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(sensoterra_[a-z_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(PROMISED);
  });

  it('the example alert rules and the Grafana dashboard use promised metrics only', () => {
    const alerts = readFileSync(new URL('../docs/alerts.yml', import.meta.url), 'utf8');
    const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    for (const text of [alerts, dashboard])
      for (const name of familiesIn(text)) expect(Object.keys(PROMISED), name).toContain(name);
    // every rule has an expression; the dashboard is JSON whose every panel queries something
    expect(alerts.match(/^\s+- alert: /gm)?.length).toBe(alerts.match(/^\s+expr: /gm)?.length);
    const panels = (JSON.parse(dashboard) as { panels: { targets: { expr: string }[] }[] }).panels;
    expect(panels.length).toBeGreaterThan(5);
    for (const panel of panels) expect(panel.targets.every((t) => t.expr.length > 0)).toBe(true);
  });
});

describe('the metrics port', () => {
  it('answers GET /metrics only: other paths 404, other methods 405; the push port has no /metrics', async () => {
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404);
    const posted = await fetch(metricsUrl, { method: 'POST', body: '{}' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
    const onPushPort = await fetch(pushUrl.replace(/\/push$/, '/metrics'));
    expect(onPushPort.status).toBe(404);
  });

  it('is served by a receiver alone too, with the push counts and without the worker’s gauges', async () => {
    const port = await freePort();
    const alone = testPlace({ PUSH_PORT: '0', PUSH_SECRET, METRICS_PORT: String(port) });
    const receiver = await startService(alone.config, createLogger('silent'), 'receiver', {
      checkRedisDurability: false,
    });
    try {
      const url = `${(receiver.parts[1] as PushReceiver).url}${alone.config.push.path}`;
      expect((await post(url, '{}', { authorization: 'wrong' })).status).toBe(401);
      const m = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(valueOf(m, 'sensoterra_pushes_total', { status: '401', reason: 'credentials' })).toBe(1);
      expect(m.has('sensoterra_ingest_backlog_batches')).toBe(false);
      expect(m.has('sensoterra_warehouse_size_bytes')).toBe(false);
      expect(m.has('sensoterra_writer_rejected_total')).toBe(false);
      expect(m.has('sensoterra_job_runs_total')).toBe(false);
    } finally {
      await receiver.stop();
      await deleteKeys(alone.prefix);
      alone.cleanup();
    }
  });

  it('answers a scrape within seconds while Redis hangs, leaving out only what Redis would have said', async () => {
    const redis = await PrivateRedis.start({});
    const port = await freePort();
    const hung = testPlace({ ...apiEnv(sim), REDIS_URL: redis.url, METRICS_PORT: String(port) });
    const worker = await startService(hung.config, createLogger('silent'), 'worker', { checkRedisDurability: false });
    try {
      const before = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(valueOf(before, 'sensoterra_ingest_backlog_batches')).toBe(0);
      process.kill(redis.pid!, 'SIGSTOP'); // there, but answering nothing
      try {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(20_000) });
        const m = parseExposition(await res.text());
        expect(m.get('sensoterra_ingest_backlog_batches')?.samples).toEqual([]);
        expect(m.get('sensoterra_ingest_lag_seconds')?.samples).toEqual([]);
        expect(valueOf(m, 'sensoterra_warehouse_size_bytes')).toBeGreaterThan(0);
      } finally {
        process.kill(redis.pid!, 'SIGCONT');
      }
    } finally {
      await worker.stop();
      await redis.destroy();
      hung.cleanup();
    }
  });

  it('keeps at most a few connections open: a crowd of idle ones is turned away, not kept', async () => {
    const { port } = new URL(metricsUrl);
    const sockets = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
            socket.on('error', () => undefined);
          }),
      ),
    );
    try {
      const closed = await Promise.all(
        sockets.map(
          (s) =>
            new Promise<boolean>((resolve) => {
              if (s.destroyed || s.readableEnded) return resolve(true);
              s.once('close', () => resolve(true));
              setTimeout(() => resolve(false), 2_000).unref();
            }),
        ),
      );
      expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(100 - 32);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('is refused when it is PUSH_PORT: the variable named, and what would be valid', () => {
    expect(() => testPlace({ METRICS_PORT: '9100', PUSH_PORT: '9100' })).toThrow(
      'METRICS_PORT=9100 is PUSH_PORT too: metrics need a port of their own (a proxy exposes PUSH_PORT); choose another, or 0 for none',
    );
  });
});

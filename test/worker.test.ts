/**
 * The worker: schedules upserted from configuration, jobs run from the queue, and commands answered while the
 * worker holds the DuckDB file (no other process can open it then).
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../src/logger.js';
import { closeRedis, consumerConnection } from '../src/redis.js';
import { Simulator } from '../src/simulator/index.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { WorkerService } from '../src/service/worker.js';
import { NOW, smallAccount } from './helpers/account.js';
import { CLI, runCli } from './helpers/cli.js';
import { DEFAULT_SCHEDULES, testPlace, type TestPlace } from './helpers/config.js';
import { apiEnv, FAST_RETRIES } from './helpers/pulls.js';
import { deleteKeys, PrivateRedis } from './helpers/redis.js';
import { readRows } from './helpers/warehouse.js';

let sim: Simulator | undefined;
let place: TestPlace | undefined;
let worker: WorkerService | undefined;
const logLines: Record<string, unknown>[] = [];

const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

async function startWorker(env: Record<string, string> = {}): Promise<WorkerService> {
  sim ??= await Simulator.start({ account: smallAccount(), now: NOW });
  place ??= testPlace(apiEnv(sim, env));
  worker = await WorkerService.start(place.config, createLogger('info', logSink), {
    clientOptions: { retry: FAST_RETRIES },
  });
  return worker;
}

afterEach(async () => {
  await worker?.stop();
  await sim?.close();
  if (place) await deleteKeys(place.prefix);
  place?.cleanup();
  worker = sim = place = undefined;
  logLines.length = 0;
});

describe('the worker', () => {
  it('holds the warehouse: no other process can open the file while it runs', async () => {
    await startWorker();
    const other = await openInAnotherProcess(place!.config.warehousePath);
    expect(other).toMatch(
      /^E_WAREHOUSE_LOCKED the warehouse .* is held by another process \(a running sensoterra-sync worker\?\)/,
    );
  });

  it('answers `sync` from the command line while it holds the file, and prints what changed', async () => {
    const w = await startWorker();
    const result = await runCli(['sync', 'probes'], place!.env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^sync-probes {2}succeeded {2}3 probes read: 3 new, 9 new readings {2}\(\d+\.\d s\)\n$/,
    );
    expect(await readRows(w.deps.db, 'SELECT count(*) AS n FROM probes')).toEqual([{ n: 3 }]);
    expect(await readRows(w.deps.db, "SELECT trigger FROM sync_runs WHERE job = 'sync-probes'")).toEqual([
      { trigger: 'command' },
    ]);
  });

  it('runs `sync all` in order, and exits non-zero if one of them failed', async () => {
    await startWorker();
    sim!.addFault({
      kind: 'status',
      status: 400,
      body: '{"message":"no locations for you"}',
      times: 1,
      when: { path: '/location' },
    });
    const result = await runCli(['sync', 'all'], place!.env);
    expect(result.code).toBe(1);
    // what changed on stdout, in order; what failed on stderr, in one line
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'sync-parameters succeeded',
      'sync-customers succeeded',
      'sync-probes succeeded',
    ]);
    expect(result.stderr).toBe('sensoterra-sync: sync-locations failed: GET /location: 400 no locations for you\n');
  });

  it('stops `sync all` at refused credentials: one login asked, one line saying which pulls were not run', async () => {
    await startWorker({ SENSOTERRA_PASSWORD: 'not-the-password' });
    sim!.clearRequests();
    const result = await runCli(['sync', 'all'], place!.env);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'sensoterra-sync: sync-parameters failed: POST /customer/auth: 401 invalid email or password: check SENSOTERRA_EMAIL/SENSOTERRA_PASSWORD or SENSOTERRA_TOKEN (not run, as they would fail the same way: sync-locations, sync-customers, sync-probes)\n',
    );
    expect(result.code).toBe(1);
    expect(sim!.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /customer/auth 401']);
  });

  it('stops `sync all` at a login the API URL cannot reach (a 404): one request, one line', async () => {
    sim ??= await Simulator.start({ account: smallAccount(), now: NOW });
    await startWorker({ SENSOTERRA_API_URL: `${sim.url}/nope` });
    sim.clearRequests();
    const result = await runCli(['sync', 'all'], place!.env);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^sensoterra-sync: sync-parameters failed: POST \/customer\/auth: 404 .*: check SENSOTERRA_API_URL .*\(not run, as they would fail the same way: sync-locations, sync-customers, sync-probes\)\n$/,
    );
    expect(result.code).toBe(1);
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /nope/customer/auth 404']);
  });

  it('upserts one schedule per job from the configured patterns and time zone, and removes those switched off', async () => {
    const w = await startWorker({
      ...DEFAULT_SCHEDULES,
      SCHEDULE_TZ: 'Europe/Amsterdam',
      SCHEDULE_PROBES: '*/20 * * * *',
    });
    const schedules = await w.jobs.getJobSchedulers();
    expect(schedules.map((s) => [s.key, s.pattern, s.tz]).sort(byKey)).toEqual([
      ['export', '*/10 * * * *', 'Europe/Amsterdam'],
      ['reconcile', '15 * * * *', 'Europe/Amsterdam'],
      ['sync-customers', '30 * * * *', 'Europe/Amsterdam'],
      ['sync-locations', '0 * * * *', 'Europe/Amsterdam'],
      ['sync-parameters', '0 3 * * *', 'Europe/Amsterdam'],
      ['sync-probes', '*/20 * * * *', 'Europe/Amsterdam'],
    ]);
    await w.stop();

    // the same worker started again with one schedule switched off and another changed
    // (its warehouse and export stay in the first place's folder, removed with it)
    const first = place!;
    onTestFinished(() => first.cleanup());
    place = testPlace({ ...first.env, SCHEDULE_LOCATIONS: 'off', SCHEDULE_PROBES: '*/30 * * * *' });
    const again = await startWorker();
    const after = await again.jobs.getJobSchedulers();
    expect(after.map((s) => [s.key, s.pattern]).sort(byKey)).toEqual([
      ['export', '*/10 * * * *'],
      ['reconcile', '15 * * * *'],
      ['sync-customers', '30 * * * *'],
      ['sync-parameters', '0 3 * * *'],
      ['sync-probes', '*/30 * * * *'],
    ]);
  });

  it('notices, with its watchdog, a schedule whose next run is in the past', async () => {
    const w = await startWorker(DEFAULT_SCHEDULES);
    const { checkSchedules } = await import('../src/job-runtime/schedules.js');
    // two days on, every default schedule (daily at most) is overdue, whatever the time of day the test runs at
    // (a day on is not: run just after 03:00, the daily one's next run is less than a day plus the slack away)
    const twoDaysLater = Date.now() + 2 * 86_400_000;
    const overdue = await checkSchedules(w.jobs, place!.config, createLogger('info', logSink), twoDaysLater);
    expect(overdue.sort()).toEqual([
      'export',
      'reconcile',
      'sync-customers',
      'sync-locations',
      'sync-parameters',
      'sync-probes',
    ]);
    expect(logLines.filter((l) => l.msg === 'schedule overdue: its next run is in the past')).toHaveLength(6);
  });

  it('runs a queued job, records it, and logs a failure with its run id', async () => {
    const w = await startWorker();
    // BullMQ closes only the connections it made itself: this one is ours to close
    const consumer = consumerConnection(place!.config.redisUrl);
    const events = new QueueEvents('jobs', { connection: consumer, prefix: place!.prefix });
    await events.waitUntilReady();
    try {
      const ok = await w.jobs.add('sync-locations', {});
      expect(await ok.waitUntilFinished(events, 20_000)).toMatchObject({
        job: 'sync-locations',
        status: 'succeeded',
        inserted: 2,
      });

      sim!.addFault({
        kind: 'status',
        status: 401,
        body: '{"message":"wrong password"}',
        times: 1,
        when: { path: '/parameter' },
      });
      const failing = await w.jobs.add('sync-parameters', {}, { attempts: 3 });
      await expect(failing.waitUntilFinished(events, 20_000)).rejects.toThrow('GET /parameter: 401 wrong password');
      // a 401 is not retried: one attempt only
      const failed = (await w.jobs.getJob(failing.id!))!;
      expect(failed.attemptsMade).toBe(1);
      // what BullMQ keeps of it says what it was: the code, and the stack of where it was thrown
      expect(failed.failedReason).toBe(
        'GET /parameter: 401 wrong password: check SENSOTERRA_EMAIL/SENSOTERRA_PASSWORD or SENSOTERRA_TOKEN [E_API_AUTH]',
      );
      expect(failed.stacktrace?.[0]).toMatch(
        /^ApiError: GET \/parameter: 401 wrong password.*\n\s+at .*sensoterra\/http\.[jt]s/,
      );
    } finally {
      await events.close();
      await closeRedis(consumer);
    }
    const [failedRun] = await readRows(w.deps.db, "SELECT run_id, status FROM sync_runs WHERE job = 'sync-parameters'");
    expect(failedRun).toMatchObject({ status: 'failed' });
    const logged = logLines.find((l) => l.msg === 'job failed');
    expect(logged).toMatchObject({ job: 'sync-parameters', runId: failedRun!.run_id, level: 50 });
  });

  it("sends a command's failure back whole: `sync` through a worker without credentials says so as a local run does", async () => {
    sim ??= await Simulator.start({ account: smallAccount(), now: NOW });
    place = testPlace(); // no SENSOTERRA_* at all
    worker = await WorkerService.start(place.config, createLogger('info', logSink), {});
    const result = await runCli(['sync', 'all'], place.env);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'sensoterra-sync: configuration: no Sensoterra credentials: set SENSOTERRA_EMAIL and SENSOTERRA_PASSWORD, or SENSOTERRA_TOKEN (a long-lived token from POST /token)\n',
    );
    expect(result.code).toBe(2);
  });

  it('never writes a secret to its log', async () => {
    await startWorker();
    await runCli(['sync', 'probes'], place!.env);
    const text = JSON.stringify(logLines);
    expect(text).not.toContain(sim!.account.account.password);
  });
});

describe('a command that cannot reach the worker holding its warehouse', () => {
  it('right after Redis restarted (the heartbeat gone with it): waits for the worker to say so again, and asks it', async () => {
    const redis = await PrivateRedis.start(); // keeps nothing: a restart forgets the worker's heartbeat
    try {
      await startWorker({ REDIS_URL: redis.url });
      await redis.stop();
      await redis.resume();
      const result = await runCli(['query', 'SELECT 42 AS answer', '--format', 'csv'], place!.env);
      expect([result.stdout, result.stderr, result.code]).toEqual(['answer\n42\n', '', 0]);
    } finally {
      await worker?.stop();
      worker = undefined;
      await redis.destroy();
    }
  });

  it('with a wrong REDIS_URL: says the file is held and Redis does not answer there, not only "held"', async () => {
    await startWorker();
    const result = await runCli(['query', 'SELECT 1 AS one'], { ...place!.env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `sensoterra-sync: the warehouse ${place!.config.warehousePath} is held by another process, and Redis at redis://127.0.0.1:1 does not answer: a running worker is asked through Redis, so check REDIS_URL (this command's and the worker's must be the same) [E_WAREHOUSE_LOCKED]\n`,
    );
    expect(result.code).toBe(1);
  });

  it('with another QUEUE_PREFIX: says no worker there says it holds the file, and what to give the command', async () => {
    await startWorker();
    const result = await runCli(['query', 'SELECT 1 AS one'], {
      ...place!.env,
      QUEUE_PREFIX: `${place!.prefix}-other`,
    });
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `sensoterra-sync: the warehouse ${place!.config.warehousePath} is held by another process, and no worker says so in Redis at ${place!.config.redisUrl} under QUEUE_PREFIX=${place!.prefix}-other: if the service runs, give this command its REDIS_URL and QUEUE_PREFIX; otherwise another program has the file open [E_WAREHOUSE_LOCKED]\n`,
    );
    expect(result.code).toBe(1);
    await deleteKeys(`${place!.prefix}-other`);
  });
});

describe('start', () => {
  it('exits with one line saying what to fix when the push port is taken, and leaves nothing behind', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    const port = (taken.address() as { port: number }).port;
    place = testPlace({ PUSH_PORT: String(port), PUSH_SECRET: 's' });
    try {
      const result = await runCli(['start', '--role', 'receiver'], place.env, { timeoutMs: 20_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`the push receiver cannot listen on 127.0.0.1:${port} .*: set PUSH_PORT / PUSH_HOST`),
      );
    } finally {
      taken.close();
    }
  });

  it('refuses unauthenticated pushes anywhere but on localhost', async () => {
    const result = await runCli(['start', '--role', 'receiver'], { PUSH_INSECURE: '1', PUSH_HOST: '0.0.0.0' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'sensoterra-sync: configuration: PUSH_INSECURE=1 accepts unauthenticated pushes on localhost only, not on PUSH_HOST=0.0.0.0: set PUSH_SECRET',
    );
  });
});

describe('sync without a running worker', () => {
  it('opens the file itself, and leaves it free afterwards', async () => {
    sim = await Simulator.start({ account: smallAccount(), now: NOW });
    place = testPlace(apiEnv(sim));
    const result = await runCli(['sync', 'locations'], place.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sync-locations {2}succeeded {2}2 locations read: 2 new/);
    const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
    expect(await readRows(db, 'SELECT count(*) AS n FROM locations')).toEqual([{ n: 2 }]);
    await db.close();
  });
});

/** What happens when a second process tries to open the warehouse file: its error code and message. */
function openInAnotherProcess(path: string): Promise<string> {
  const duckdb = new URL('../warehouse/duckdb.js', `file://${CLI.replace('/cli/main.js', '/cli/')}`).href;
  const script = `import { openDuckDb } from ${JSON.stringify(duckdb)};
    openDuckDb(${JSON.stringify(path)}, { memoryLimit: '256MB', threads: 1 }, true)
      .then(() => console.log('opened'), (err) => console.log(err.code + ' ' + err.message));`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()),
    ),
  );
}

/** Schedulers as [key, ...] rows, by key (each is unique), in code-unit order as a bare sort() had them. */
function byKey(a: (string | undefined)[], b: (string | undefined)[]): number {
  return String(a[0]) < String(b[0]) ? -1 : 1;
}

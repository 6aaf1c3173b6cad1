/**
 * One worker per warehouse and queue prefix, and no trace left by a kill:
 * - a second worker that would share the prefix with another warehouse refuses to start, naming both;
 * - a command answers from the warehouse it names, never from whichever worker happens to listen;
 * - a run cut short by a kill is marked interrupted when the warehouse is next opened.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { askWorker, workerIsRunning } from '../src/control/channel.js';
import { loadConfig } from '../src/service/load-config.js';
import { createLogger } from '../src/logger.js';
import { Simulator } from '../src/simulator/index.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { WorkerService } from '../src/service/worker.js';
import { heartbeatKey } from '../src/job-runtime/queues.js';
import { closeRedis, producerConnection, whenReady } from '../src/redis.js';
import { deleteKeys } from './helpers/redis.js';
import { NOW, smallAccount } from './helpers/account.js';
import { CLI, runCli } from './helpers/cli.js';
import { testPlace } from './helpers/config.js';
import { apiEnv } from './helpers/pulls.js';
import { post, startStack, type Stack } from './helpers/stack.js';
import { eventually, exited, workerUp, HEAVY_MS } from './helpers/waiting.js';
import { createWarehouse, readRows } from './helpers/warehouse.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stackWithReadings(count: number): Promise<Stack> {
  const stack = await startStack();
  cleanups.push(() => stack.stop());
  for (let n = 0; n < count; n++) {
    const timestamp = new Date(Date.UTC(2024, 6, 1, 0, n)).toISOString();
    expect(
      (
        await post(
          stack.pushUrl,
          JSON.stringify({
            serial: '24000092104',
            timestamp,
            readings: [{ type: 'MOISTURE', depth: 10, value: 21, unit: '%' }],
          }),
        )
      ).status,
    ).toBe(202);
  }
  await stack.drained();
  return stack;
}

describe('a second worker on the same Redis and QUEUE_PREFIX', () => {
  it('refuses to start when it would write another warehouse, names both, and touches neither', async () => {
    const stack = await stackWithReadings(1);
    const otherPath = join(stack.place.dir, 'other', 'warehouse.duckdb');
    const other = loadConfig({ ...stack.place.env, WAREHOUSE_PATH: otherPath });

    const refused = WorkerService.start(other, createLogger('silent'));
    await expect(refused).rejects.toMatchObject({ code: 'E_WORKER_CONFLICT' });
    const message = String(((await refused.catch((err: unknown) => err)) as Error).message);
    expect(message).toContain(
      `already serves QUEUE_PREFIX=${stack.place.prefix} with the warehouse ${hostname()}:${stack.place.config.warehousePath}; this one would write ${hostname()}:${otherPath}, and pushes would be split between the two`,
    );
    expect(existsSync(otherPath)).toBe(false);
    expect(await workerIsRunning(stack.place.config)).toBe(true);
  });
});

describe('two workers that both started (the heartbeat vanished in between)', () => {
  it("the later one gives way within seconds: it stops, leaves the other's heartbeat, and `start` exits non-zero saying why", async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const place = testPlace(apiEnv(sim, { LOG_LEVEL: 'info' }));
    cleanups.push(async () => {
      await sim.close();
      await deleteKeys(place.prefix);
      place.cleanup();
    });
    const child = spawn(process.execPath, [CLI, 'start', '--role', 'worker'], {
      env: { PATH: process.env.PATH ?? '', ...place.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await workerUp(place);

    // another worker, with another warehouse, that started earlier, takes the key (as after a Redis restart)
    const other = {
      pid: 1,
      host: 'elsewhere',
      startedAt: 0,
      warehouse: 'elsewhere:/srv/warehouse.duckdb',
      writer: { state: 'up' },
    };
    const redis = producerConnection(place.config.redisUrl);
    await whenReady(redis, place.config.redisUrl);
    await redis.set(heartbeatKey(place.prefix), JSON.stringify(other), 'PX', 60_000);

    expect(await exited(child)).toBe(1);
    expect(stderr).toContain(
      'another worker with another warehouse serves this queue prefix and started first: this worker stops',
    );
    expect(stderr).toContain(`[E_WORKER_CONFLICT]`);
    expect(JSON.parse((await redis.get(heartbeatKey(place.prefix)))!)).toEqual(other);
    await closeRedis(redis);
  });
});

describe('a command while a worker runs', () => {
  it("answers from the warehouse it names: the worker's when it is the same, its own file when not", async () => {
    const stack = await stackWithReadings(3);
    const viaWorker = await runCli(
      ['query', 'SELECT count(*) AS n FROM readings', '--format', 'json'],
      stack.place.env,
    );
    expect(viaWorker.code).toBe(0);
    expect(JSON.parse(viaWorker.stdout)).toEqual([{ n: 3 }]);

    const elsewhere = { ...stack.place.env, WAREHOUSE_PATH: join(stack.place.dir, 'demo', 'warehouse.duckdb') };
    await createWarehouse(elsewhere.WAREHOUSE_PATH, stack.place.config);
    const local = await runCli(['query', 'SELECT count(*) AS n FROM readings', '--format', 'json'], elsewhere);
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toEqual([{ n: 0 }]);
  });

  it('is refused by a worker that holds another warehouse than the one the request names', async () => {
    const stack = await stackWithReadings(1);
    const other = loadConfig({ ...stack.place.env, WAREHOUSE_PATH: join(stack.place.dir, 'elsewhere.duckdb') });
    const asked = askWorker(other, 'query', { sql: 'SELECT 1 AS one' }, { timeoutMs: 30_000 });
    await expect(asked).rejects.toMatchObject({ code: 'E_WORKER_CONFLICT' });
    await expect(asked).rejects.toThrow(
      /^this worker holds the warehouse .*warehouse\.duckdb, not .*elsewhere\.duckdb: the request was not run$/,
    );
  });
});

describe('a run cut short by a kill', () => {
  it('is marked interrupted, with when and why, the next time the warehouse is opened', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    // a command logs only at debug (or with --verbose): the log says when the sync has started
    const place = testPlace(apiEnv(sim, { LOG_LEVEL: 'debug' }));
    cleanups.push(async () => {
      await sim.close();
      place.cleanup();
    });
    // the probe list takes a minute to come: the sync is surely running when it is killed
    sim.addFault({ kind: 'slow', delayMs: 60_000, when: { path: '/probe' } });
    const child = spawn(process.execPath, [CLI, 'sync', 'probes'], {
      env: { PATH: process.env.PATH ?? '', ...place.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(() => stderr.includes('"msg":"job started"'), 30_000, 'the sync started');
    child.kill('SIGKILL');
    await exited(child);

    const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
    try {
      expect(
        await readRows(db, 'SELECT job, status, finished_at IS NOT NULL AS finished, error FROM sync_runs'),
      ).toEqual([
        {
          job: 'sync-probes',
          status: 'interrupted',
          finished: true,
          error: 'interrupted: the process running it stopped before it finished (killed, crashed or lost its storage)',
        },
      ]);
    } finally {
      await db.close();
    }
  });

  it(
    'leaves a backfill that resumes where it stopped when it is run again',
    async () => {
      const sim = await Simulator.start({ account: smallAccount(), now: NOW });
      const place = testPlace(apiEnv(sim));
      cleanups.push(async () => {
        await sim.close();
        place.cleanup();
      });
      expect((await runCli(['sync', 'probes'], place.env)).code).toBe(0);
      // three probes, one chunk each: the first two come at once, the third takes a minute
      sim.addFault({ kind: 'slow', delayMs: 0, times: 2, when: { path: '/probe/' } });
      sim.addFault({ kind: 'slow', delayMs: 60_000, when: { path: '/probe/' } });
      const range = ['--from', new Date(NOW.getTime() - 3 * 86_400_000).toISOString(), '--to', NOW.toISOString()];
      const child = spawn(process.execPath, [CLI, 'backfill', ...range], {
        env: { PATH: process.env.PATH ?? '', ...place.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await eventually(() => stderr.includes(' 2/3 '), 30_000, 'two chunks of the backfill done');
      child.kill('SIGKILL');
      await exited(child);

      const again = await runCli(['backfill', ...range], place.env);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^backfill {2}succeeded {2}3 probes, 3 chunks \(2 already done\)/);
      const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
      try {
        expect(await readRows(db, "SELECT status FROM sync_runs WHERE job = 'backfill' ORDER BY started_at")).toEqual([
          { status: 'interrupted' },
          { status: 'succeeded' },
        ]);
      } finally {
        await db.close();
      }
    },
    HEAVY_MS,
  );
});

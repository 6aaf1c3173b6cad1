/**
 * A full disk costs neither a reading nor the service: the writer says it is down and why, the receiver keeps
 * acknowledging into Redis, and once space is back everything lands, exactly once, without a manual step.
 * The disk is a real tmpfs of a few MB, filled with a file (tests run as root here; see helpers/tmpfs.ts).
 */
import {
  closeSync,
  existsSync,
  readFileSync,
  openSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { queueStatus } from '../src/control/status.js';
import { QUEUES } from '../src/job-runtime/queues.js';
import { createLogger } from '../src/logger.js';
import { startService, type Service } from '../src/service/service.js';
import { PushReceiver } from '../src/receiver/server.js';
import { Simulator } from '../src/simulator/index.js';
import { runJob } from '../src/job-runtime/runner.js';
import { WorkerService } from '../src/service/worker.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { NOW, smallAccount } from './helpers/account.js';
import { migratedWarehouseAt, testPlace, type TestPlace } from './helpers/config.js';
import { apiEnv } from './helpers/pulls.js';
import { deleteKeys, withQueue } from './helpers/redis.js';
import { post, PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { mountSmallDisk, type SmallDisk } from './helpers/tmpfs.js';
import { eventually } from './helpers/waiting.js';
import { ROOT, runCli } from './helpers/cli.js';
import { readRows, runAside, runSql, tellWarehouse } from './helpers/warehouse.js';

const SERIAL = '24000092104';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function smallDisk(ctx: TestContext, megabytes: number): SmallDisk {
  const disk = mountSmallDisk(megabytes);
  if ('unavailable' in disk) {
    console.warn(`skipped: ${disk.unavailable}`);
    ctx.skip();
    throw new Error('unreachable');
  }
  cleanups.push(() => disk.unmount());
  return disk;
}

/** The n-th push of a test: one moisture reading a minute apart, so that every push adds exactly one reading. */
function nthPush(n: number): string {
  const timestamp = new Date(Date.UTC(2024, 6, 1) + n * 60_000).toISOString();
  return JSON.stringify({
    serial: SERIAL,
    probe_id: 49200,
    timestamp,
    readings: [{ type: 'MOISTURE', depth: 10, value: 20 + (n % 10), unit: '%' }],
  });
}

async function pushRange(url: string, from: number, to: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let n = from; n < to; n++) statuses.push((await post(url, nthPush(n))).status);
  return statuses;
}

async function readyz(baseUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function failedBatches(place: TestPlace): Promise<number> {
  return withQueue(place.config, QUEUES.ingest, async (queue) => (await queue.getJobCounts('failed')).failed ?? 0);
}

describe('an open that fails', () => {
  it('lets go of the file at once and checkpoints nothing: the WAL stays as it was, and another process can open it', async () => {
    const place = testPlace();
    cleanups.push(() => place.cleanup());
    const path = join(place.dir, 'warehouse.duckdb');
    await (await Warehouse.open(path, { memoryLimit: '256MB', threads: 1 }, createLogger('silent'))).close();
    // a newer build's migration, its commit still in the WAL (that build stopped before a checkpoint): refused here
    const other = await DuckDBInstance.create(path);
    const sql = await other.connect();
    await sql.run("INSERT INTO schema_migrations VALUES (9999, 'from_the_future', now(), 'ab')");
    await sql.run('PRAGMA disable_checkpoint_on_shutdown');
    sql.closeSync();
    other.closeSync();
    const files = (): string[] =>
      [path, `${path}.wal`].map((file) =>
        existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'none',
      );
    const before = files();
    expect(before[1]).not.toBe('none');

    await expect(Warehouse.open(path, { memoryLimit: '256MB', threads: 1 }, createLogger('silent'))).rejects.toThrow(
      /has migrations this build does not know: 9999_from_the_future/,
    );
    // DuckDB's closing checkpoint would have put the WAL into the file: on a full disk, a failed one leaves its marker
    // in the WAL (see closeWithoutCheckpoint)
    expect(files()).toEqual(before);
    // and nothing of the failed open holds the file any more: an instance lives on while a connection of it is open
    // (garbage collection may close a forgotten one before this looks, so this catches such a leak only sometimes)
    const opener = `import { DuckDBInstance } from '@duckdb/node-api';
      const instance = await DuckDBInstance.create(${JSON.stringify(path)});
      (await instance.connect()).closeSync();
      instance.closeSync();
      console.log('opened');`;
    const reopened = spawnSync(process.execPath, ['--input-type=module', '-e', opener], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect([reopened.stdout, reopened.stderr.slice(0, 300), reopened.status]).toEqual(['opened\n', '', 0]);
  });
});

describe('a disk that fills up under the writer', () => {
  it('names the cause of an invalidation, also when the writer meets its consequence first', async (ctx) => {
    const disk = smallDisk(ctx, 16);
    const db = await Warehouse.open(
      join(disk.dir, 'warehouse.duckdb'),
      { memoryLimit: '256MB', threads: 1 },
      createLogger('silent'),
    );
    cleanups.push(() => db.close());
    await runSql(db, 'CREATE TABLE filler AS SELECT range AS n FROM range(1000)');
    disk.fill();
    // a checkpoint on a connection of its own fails and invalidates the handle; the warehouse is not told yet
    const cause = await runAside(db, 'CHECKPOINT');
    const consequence: unknown = await runSql(db, 'INSERT INTO filler VALUES (1)').catch((err: unknown) => err);
    expect(String(consequence)).toMatch(/invalidated because of a previous fatal error/);
    expect(db.health()).toMatchObject({
      state: 'down',
      reason: expect.stringMatching(/invalidated because of a previous fatal error/),
    });
    tellWarehouse(db, cause);
    expect(db.health()).toMatchObject({
      state: 'down',
      reopening: true,
      reason: expect.stringMatching(/^FATAL Error: .*No space left on device/),
    });
  });

  it('says the writer is down and why, keeps acknowledging, and lands everything once space is back', async (ctx) => {
    const disk = smallDisk(ctx, 32);
    // a warehouse made and checkpointed before, as a real one is: with it, a failed reopen's instance that lived on
    // beside the next attempt's could add a failed checkpoint's marker to the WAL, and one with two never opened
    // again (the writer stayed down in 8 of 20 runs one day, 1 of 40 another; closeWithoutCheckpoint in duckdb.ts)
    migratedWarehouseAt(join(disk.dir, 'warehouse.duckdb'));
    const stack: Stack = await startStack({ env: { WAREHOUSE_PATH: join(disk.dir, 'warehouse.duckdb') } });
    cleanups.push(() => stack.stop());

    expect(await pushRange(stack.pushUrl, 0, 20)).toEqual(Array(20).fill(202));
    await stack.drained();
    disk.fill();

    // a checkpoint that cannot write its blocks invalidates the DuckDB handle (as an automatic one would); the
    // warehouse is told, as its own connections tell it, and the writer then meets only the consequence
    const failed = await runAside(stack.worker.deps.db, 'CHECKPOINT');
    expect(String(failed)).toMatch(/^Error: FATAL Error: .*No space left on device/);
    tellWarehouse(stack.worker.deps.db, failed);

    // pushes are still taken: they wait in Redis
    expect(await pushRange(stack.pushUrl, 20, 40)).toEqual(Array(20).fill(202));
    await eventually(
      async () => (await readyz(stack.receiver.url)).body.writer === 'down',
      30_000,
      'readyz saying the writer is down',
    );
    const down = await readyz(stack.receiver.url);
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({
      status: 'ready',
      writer: 'down',
      note: 'pushes are acknowledged and wait in Redis until the writer takes them',
    });
    expect(String(down.body.writerError)).toMatch(/No space left on device/);
    const status = await queueStatus(stack.place.config);
    expect(status.worker?.writer).toMatchObject({ state: 'down', reopening: true });
    const shown = await runCli(['status'], stack.place.env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /^writer {5}DOWN since \d{4}-\d\d-\d\dT[\d:.]+Z: .*No space left on device.* \(pushes wait in Redis\)$/m,
    );
    expect(shown.stdout).toMatch(
      /^warehouse {2}the warehouse .*warehouse\.duckdb is down \(.*\): the worker reopens it as soon as it can; pushes wait in Redis meanwhile$/m,
    );

    disk.free();
    await eventually(
      async () => (await readyz(stack.receiver.url)).body.writer === 'up',
      30_000,
      'readyz saying the writer is up again',
    );
    await stack.drained();
    expect(
      await stack.rows(
        `SELECT count(*)::INTEGER AS readings, count(DISTINCT ts)::INTEGER AS distinct_times FROM readings`,
      ),
    ).toEqual([{ readings: 40, distinct_times: 40 }]);
    expect(await stack.rows('SELECT count(*)::INTEGER AS n FROM rejected_pushes')).toEqual([{ n: 0 }]);
    expect(await failedBatches(stack.place)).toBe(0);
  });

  it('rides out commits that fail for space without invalidating anything, and never parks a push for it', async (ctx) => {
    const disk = smallDisk(ctx, 32);
    const stack: Stack = await startStack({ env: { WAREHOUSE_PATH: join(disk.dir, 'warehouse.duckdb') } });
    cleanups.push(() => stack.stop());
    expect(await pushRange(stack.pushUrl, 0, 5)).toEqual(Array(5).fill(202));
    await stack.drained();

    disk.fill();
    expect(await pushRange(stack.pushUrl, 5, 25)).toEqual(Array(20).fill(202));
    await eventually(
      async () => (await readyz(stack.receiver.url)).body.writer === 'down',
      30_000,
      'readyz saying the writer is down',
    );
    expect(String((await readyz(stack.receiver.url)).body.writerError)).toMatch(
      /^TransactionContext Error: Failed to commit: .*No space left on device/,
    );
    expect(stack.worker.deps.db.health()).toMatchObject({ state: 'down', reopening: false });
    // and it stays down while the disk is full, though a small write fits now and then
    for (let i = 0; i < 10; i++) {
      expect((await readyz(stack.receiver.url)).body.writer).toBe('down');
      await new Promise((r) => setTimeout(r, 200));
    }

    disk.free();
    await stack.drained();
    await eventually(
      async () => (await readyz(stack.receiver.url)).body.writer === 'up',
      30_000,
      'readyz saying the writer is up again',
    );
    expect(
      await stack.rows(
        'SELECT count(*)::INTEGER AS readings, count(DISTINCT ts)::INTEGER AS distinct_times FROM readings',
      ),
    ).toEqual([{ readings: 25, distinct_times: 25 }]);
    expect(await stack.rows('SELECT count(*)::INTEGER AS n FROM rejected_pushes')).toEqual([{ n: 0 }]);
    expect(await failedBatches(stack.place)).toBe(0);
  });

  it('starts with the disk already full: the receiver takes pushes, and they land once space is back', async (ctx) => {
    const disk = smallDisk(ctx, 8);
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const place = testPlace(
      apiEnv(sim, { PUSH_PORT: '0', PUSH_SECRET, WAREHOUSE_PATH: join(disk.dir, 'warehouse.duckdb') }),
    );
    cleanups.push(async () => {
      await sim.close();
      await deleteKeys(place.prefix);
      place.cleanup();
    });
    disk.fill();
    const service: Service = await startService(place.config, createLogger('silent'), 'all');
    cleanups.unshift(() => service.stop()); // stopped before the disk is unmounted
    const receiver = service.parts.find((part): part is PushReceiver => part instanceof PushReceiver)!;

    await eventually(
      async () => (await readyz(receiver.url)).body.writer === 'down',
      30_000,
      'readyz saying the writer is down',
    );
    expect(await pushRange(`${receiver.url}${place.config.push.path}`, 0, 10)).toEqual(Array(10).fill(202));

    disk.free();
    await eventually(
      async () => (await readyz(receiver.url)).body.writer === 'up',
      60_000,
      'readyz saying the writer is up',
    );
    await eventually(
      async () => (await queueStatus(place.config)).queues.ingest?.waiting === 0,
      30_000,
      'the ingest queue drained',
    );
    const worker = service.parts.find((part): part is WorkerService => part instanceof WorkerService)!;
    await eventually(
      async () => (await readRows(worker.deps.db, 'SELECT count(*)::INTEGER AS n FROM readings'))[0]?.n === 10,
      30_000,
      'ten readings landed',
    );
    expect(await failedBatches(place)).toBe(0);
  });
});

describe('an export that runs out of space', () => {
  it('leaves the previous version current, removes its partial files, and leaves the warehouse up', async (ctx) => {
    const disk = smallDisk(ctx, 64);
    const exportDir = join(disk.dir, 'export');
    const stack: Stack = await startStack({ env: { EXPORT_DIR: exportDir } });
    cleanups.push(() => stack.stop());
    expect(await pushRange(stack.pushUrl, 0, 10)).toEqual(Array(10).fill(202));
    await stack.drained();
    const first = await runJob('export', {}, stack.worker.deps, { trigger: 'command' });
    const current = readlinkSync(join(exportDir, 'current'));

    disk.fill(64 * 1024);
    await expect(runJob('export', {}, stack.worker.deps, { trigger: 'command' })).rejects.toThrow(
      /no space left on device|could not write file/i,
    );
    expect(readlinkSync(join(exportDir, 'current'))).toBe(current);
    expect(readdirSync(join(exportDir, 'versions'))).toEqual([String(first.details?.version)]);
    expect(existsSync(join(exportDir, current, 'manifest.json'))).toBe(true);
    // the export's folder is full, not the warehouse's: the writer never went down
    expect(stack.worker.deps.db.health()).toEqual({ state: 'up' });
    disk.free();
    expect(
      await stack.rows(
        "SELECT status, count(*)::INTEGER AS n FROM sync_runs WHERE job = 'export' GROUP BY status ORDER BY status",
      ),
    ).toEqual([
      { status: 'failed', n: 1 },
      { status: 'succeeded', n: 1 },
    ]);
  });
});

describe('a damaged warehouse file', () => {
  it('is reported as damaged, with what to do, not as held by another process', async () => {
    const place = testPlace();
    cleanups.push(() => place.cleanup());
    const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
    await runSql(db, 'CREATE TABLE filler AS SELECT range AS n, md5(range::VARCHAR) AS text FROM range(300000)');
    await db.close(); // checkpointed into the file
    const size = statSync(place.config.warehousePath).size;
    const fd = openSync(place.config.warehousePath, 'r+');
    writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);

    const opened = (async () => {
      const again = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
      try {
        await readRows(again, 'SELECT sum(n), max(text) FROM filler');
      } finally {
        await again.close();
      }
    })();
    const err = (await opened.catch((e: unknown) => e)) as { code?: string; message: string };
    expect(err.message).toMatch(/Corrupt database file|damaged/);
    if (err.code !== undefined) expect(err.code).toBe('E_WAREHOUSE_CORRUPT');
    expect(err.message).not.toMatch(/held by another process/);
  });
});

describe('a WAREHOUSE_PATH that cannot be opened', () => {
  it('that is a link to a disk not mounted yet: fails, and leaves the link as it was', async () => {
    const place = testPlace();
    cleanups.push(() => place.cleanup());
    const link = join(place.dir, 'warehouse-link.duckdb');
    const target = join(place.dir, 'not-mounted', 'warehouse.duckdb');
    symlinkSync(target, link);
    await expect(Warehouse.open(link, place.config.duckdb, createLogger('silent'))).rejects.toThrow(
      `cannot open the warehouse ${link} (WAREHOUSE_PATH): `,
    );
    expect(readlinkSync(link)).toBe(target);
  });

  it('under a file, where no folder can be made: one error naming the setting', async () => {
    const place = testPlace();
    cleanups.push(() => place.cleanup());
    const blocker = join(place.dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const path = join(blocker, 'warehouse.duckdb');
    await expect(Warehouse.open(path, place.config.duckdb, createLogger('silent'))).rejects.toMatchObject({
      code: 'E_WAREHOUSE',
      message: expect.stringMatching(
        new RegExp(`^cannot (make the folder of|open) the warehouse ${path} \\(WAREHOUSE_PATH\\): `),
      ) as unknown,
    });
  });
});

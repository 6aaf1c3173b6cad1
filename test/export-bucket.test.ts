/**
 * Publishing to object storage (EXPORT_URL), against a real S3-compatible server (s3rver) through the real AWS SDK:
 * the bucket holds the same layout as EXPORT_DIR, the pointer is written last so a reader never sees a half-written
 * version (not even when the publishing process is killed), and versions past EXPORT_KEEP_VERSIONS go.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { openBucket, pruneBucket, type Pointer } from '../src/export/bucket.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { sendPushes, uplinksFor } from '../src/simulator/index.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { CLI } from './helpers/cli.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { startS3, startTripwire, type S3Fixture } from './helpers/s3.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { readRows, runSql } from './helpers/warehouse.js';

const PREFIX = 'sensoterra/export';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function s3(): Promise<S3Fixture> {
  const fixture = await startS3();
  cleanups.push(() => fixture.stop());
  return fixture;
}

const bucketEnv = (fixture: S3Fixture, endpoint = fixture.endpoint): Record<string, string> => ({
  ...fixture.env,
  AWS_ENDPOINT_URL: endpoint,
  EXPORT_URL: `s3://${fixture.bucket}/${PREFIX}`,
});

async function pointer(fixture: S3Fixture): Promise<Pointer> {
  return JSON.parse(await fixture.getText(`${PREFIX}/current.json`)) as Pointer;
}

/** A version's files as the S3 API lists and serves them, downloaded into a folder of their own. */
async function download(fixture: S3Fixture, version: string): Promise<{ dir: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-bucket-read-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `${PREFIX}/versions/${version}/`;
  const files = (await fixture.listKeys(prefix)).map((key) => key.slice(prefix.length)).sort();
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), await fixture.getBytes(`${prefix}${file}`));
  }
  return { dir, files };
}

function localFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function filledStack(env: Record<string, string>): Promise<Stack> {
  const stack = await startStack({ env });
  cleanups.push(() => stack.stop());
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
    await runJob(job, {}, stack.worker.deps, { trigger: 'command' });
  await pushRange(stack, '2024-06-29T00:00:00Z', '2024-07-02T00:00:00Z');
  return stack;
}

async function pushRange(stack: Stack, from: string, to: string): Promise<void> {
  const uplinks = uplinksFor(stack.sim.account, { from: new Date(from), to: new Date(to) });
  await sendPushes(uplinks, { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 20 });
  await stack.drained();
}

describe('an export published to a bucket', () => {
  it('holds the local version file for file, and read back through the S3 API equals the warehouse', async () => {
    const fixture = await s3();
    const stack = await filledStack(bucketEnv(fixture));
    const first = await runJob('export', {}, stack.worker.deps, { trigger: 'command' });
    expect(first.status).toBe('succeeded');
    await pushRange(stack, '2024-07-02T00:00:00Z', '2024-07-03T00:00:00Z');
    const second = await runJob('export', {}, stack.worker.deps, { trigger: 'command' });
    expect(second.summary).toMatch(/to s3:\/\/export-test\/sensoterra\/export: \d+ files uploaded, [1-9]\d* copied/);

    const current = await pointer(fixture);
    expect(current.version).toBe(second.details?.version);
    expect(current.path).toBe(`versions/${current.version}/`);
    const local = String(second.details?.path);
    const read = await download(fixture, current.version);
    expect(read.files).toEqual(localFiles(local));
    for (const file of read.files) expect(sha(join(read.dir, file)), file).toBe(sha(join(local, file)));

    // what a reader of the bucket gets is the warehouse: every table's rows, and the readings themselves
    const instance = await DuckDBInstance.create(join(read.dir, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' });
    const c = await instance.connect();
    try {
      const readingsSql =
        'SELECT serial, type, depth_cm, epoch_ms(ts) AS ts, value FROM readings ORDER BY serial, type, depth_cm, ts';
      const fromBucket = (await c.runAndReadAll(readingsSql)).getRowObjectsJson();
      const live = (await stack.rows(readingsSql)).map((r) => ({
        ...r,
        ts: String(r.ts),
        value: r.value,
      }));
      expect(fromBucket.length).toBeGreaterThan(0);
      expect(fromBucket).toEqual(JSON.parse(JSON.stringify(live)));
      const parquet = (
        await c.runAndReadAll(
          `SELECT count(*) AS n FROM read_parquet('${join(read.dir, 'parquet/readings/**/*.parquet')}', hive_partitioning = true)`,
        )
      ).getRowObjectsJson();
      expect(parquet).toEqual([{ n: String(fromBucket.length) }]);
      for (const table of ['probes', 'probe_history', 'customers', 'sync_runs']) {
        const [{ n }] = (await stack.rows(`SELECT count(*) AS n FROM ${table}`)) as [{ n: unknown }];
        const inBucket = (await c.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJson();
        // sync_runs: the export's own run is recorded as it finishes, after the snapshot
        if (table !== 'sync_runs') expect(inBucket, table).toEqual([{ n: String(n) }]);
      }
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('lists past 1,000 keys and removes only the versions past EXPORT_KEEP_VERSIONS and its grace', async () => {
    const fixture = await s3();
    const stack = await filledStack({ ...bucketEnv(fixture), EXPORT_KEEP_VERSIONS: '2' });
    const versions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const run = await runJob('export', {}, stack.worker.deps, { trigger: 'command' });
      versions.push(String(run.details?.version));
    }
    // a publish stopped long ago left 1,050 files and no manifest; one just started has one file so far
    const abandoned = '2020-01-01T00-00-00-000Z';
    const started = new Date().toISOString().replace(/[:.]/g, '-');
    await fixture.seed(
      Array.from({ length: 1_050 }, (_, i) => `${PREFIX}/versions/${abandoned}/parquet/part-${i}.parquet`),
      'x',
    );
    await fixture.client().send(
      new PutObjectCommand({
        Bucket: fixture.bucket,
        Key: `${PREFIX}/versions/${started}/warehouse.duckdb`,
        Body: 'x',
      }),
    );

    const bucket = stack.place.config.exportBucket!;
    const open = await openBucket(bucket);
    try {
      // right after the publishes: only the abandoned one is old enough to go
      expect(await pruneBucket(open, bucket, 2, versions[3]!)).toEqual([abandoned]);
      const versionsLeft = async (): Promise<string[]> => [
        ...new Set((await fixture.listKeys(`${PREFIX}/versions/`)).map((k) => k.split('/')[3]!)),
      ];
      expect((await versionsLeft()).sort()).toEqual([...versions, started].sort());
      // ten minutes on: the versions past the newest two, and the one that never finished
      expect(await pruneBucket(open, bucket, 2, versions[3]!, Date.now() + 10 * 60_000)).toEqual(
        [...versions.slice(0, 2), started].sort(),
      );
      expect((await versionsLeft()).sort()).toEqual(versions.slice(2));
      expect((await pointer(fixture)).version).toBe(versions[3]);
    } finally {
      open.close();
    }
  });
});

describe('a publish to a bucket killed half-way', () => {
  /**
   * A warehouse whose snapshot is more than one 5 MB part, for a kill between parts: 120,000 readings that each keep
   * 64 random hex digits of unknown fields (`extra`), which compress poorly, fill 6.5 MB (two parts: a margin of 30%
   * over one; without the noise it took 800,000 readings, and each publish three times as long). Were it ever one
   * part, the kill at part 2 would not trip, and the test would fail saying so.
   */
  async function bigWarehouse(env: Record<string, string>): Promise<TestPlace> {
    const place = testPlace({ ...env, EXPORT_S3_PART_MB: '5' });
    cleanups.push(() => place.cleanup());
    const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
    await addReadings(db, 0);
    await db.close();
    return place;
  }

  async function addReadings(db: Warehouse, from: number): Promise<void> {
    await runSql(
      db,
      `INSERT INTO readings (serial, type, depth_cm, ts, value, unit, source, received_at, extra)
       SELECT 'P' || (i % 100), 'MOISTURE', 10, TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_seconds(i), random() * 40, '%', 'push', now(),
         json_object('noise', md5(random()::VARCHAR) || md5(random()::VARCHAR))
       FROM range(${from}, ${from + 120_000}) r(i)`,
    );
  }

  /** `sensoterra-sync export` in a process of its own, killed (SIGKILL) when the tripwire is hit. */
  async function exportKilledAt(
    fixture: S3Fixture,
    place: TestPlace,
    match: (req: { method: string; url: string }) => boolean,
  ): Promise<{ signal: NodeJS.Signals | null; trips: number }> {
    let child: ReturnType<typeof spawn> | undefined;
    const wire = await startTripwire(fixture.endpoint, { match, onTrip: () => void child?.kill('SIGKILL') });
    cleanups.push(() => wire.close());
    child = spawn(process.execPath, [CLI, 'export'], {
      env: { ...place.env, AWS_ENDPOINT_URL: wire.endpoint },
      stdio: 'ignore',
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, s) => resolve(s)));
    return { signal, trips: wire.trips };
  }

  async function exportOk(place: TestPlace): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'export'], { env: place.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(0);
  }

  it('between the parts of a file, or between the data and the pointer, leaves readers on the previous version', async () => {
    const fixture = await s3();
    const place = await bigWarehouse(bucketEnv(fixture));
    await exportOk(place);
    const before = await pointer(fixture);
    const manifestBefore = await fixture.getText(`${PREFIX}/versions/${before.version}/manifest.json`);

    const path = (url: string): string => new URL(url, 'http://x').pathname;
    const inPart = await exportKilledAt(fixture, place, (r) => r.method === 'PUT' && /[?&]partNumber=2&/.test(r.url));
    expect(inPart).toEqual({ signal: 'SIGKILL', trips: 1 });
    expect(await pointer(fixture)).toEqual(before);

    const atPointer = await exportKilledAt(
      fixture,
      place,
      (r) => r.method === 'PUT' && path(r.url).endsWith('current.json'),
    );
    expect(atPointer).toEqual({ signal: 'SIGKILL', trips: 1 });
    expect(await pointer(fixture)).toEqual(before);
    // the version readers are on is whole: its manifest, and every file it names in its tables, as before
    expect(await fixture.getText(`${PREFIX}/versions/${before.version}/manifest.json`)).toBe(manifestBefore);
    const read = await download(fixture, before.version);
    expect(read.files).toContain('warehouse.duckdb');
    const instance = await DuckDBInstance.create(join(read.dir, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' });
    const c = await instance.connect();
    const [counted] = (await c.runAndReadAll('SELECT count(*) AS n FROM readings')).getRowObjectsJson();
    c.closeSync();
    instance.closeSync();
    expect(counted).toEqual({
      n: String((JSON.parse(manifestBefore) as { tables: { readings: number } }).tables.readings),
    });

    // the next publish goes through, and is what readers then see
    const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
    await addReadings(db, 120_000);
    const [{ n }] = (await readRows(db, 'SELECT count(*) AS n FROM readings')) as [{ n: number }];
    await db.close();
    await exportOk(place);
    const after = await pointer(fixture);
    expect(after.version > before.version).toBe(true);
    const manifest = JSON.parse(await fixture.getText(`${PREFIX}/versions/${after.version}/manifest.json`)) as {
      tables: { readings: number };
    };
    expect(manifest.tables.readings).toBe(Number(n));
  }, 300_000); // four exports, each a process of its own: minutes on a loaded machine
});

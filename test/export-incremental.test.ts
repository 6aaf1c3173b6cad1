/**
 * Incremental publishing: a publish writes only what changed since the version `current` points at, and the
 * version it makes holds exactly what a full publish of the same moment would, table for table and file for file.
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { publish, type PublishReport } from '../src/export/publish.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { sendPushes, uplinksFor, type Uplink } from '../src/simulator/index.js';
import { SNAPSHOT_TABLES } from '../src/warehouse/export.js';
import { VIEWS } from '../src/warehouse/views.js';
import { runSql } from './helpers/warehouse.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { HEAVY_MS } from './helpers/waiting.js';

const log = createLogger('silent');
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** Probes synced, and readings pushed for [from, to). */
async function stackWithReadings(from: string, to: string): Promise<Stack> {
  const s = await startStack();
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
    await runJob(job, {}, s.worker.deps, { trigger: 'command' });
  await push(s, from, to);
  return s;
}

async function push(s: Stack, from: string, to: string): Promise<void> {
  const uplinks = uplinksFor(s.sim.account, { from: new Date(from), to: new Date(to) });
  await sendPushes(uplinks, { url: s.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 20 });
  await s.drained();
}

const publishTo = (s: Stack, folder: string): Promise<PublishReport> =>
  publish(s.worker.deps.db, join(s.place.config.exportDir, folder), 3, log);

/** Every file of a version, relative to its folder, but the manifest (which names the version and its moment). */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== 'manifest.json')
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const inode = (dir: string, file: string): number => statSync(join(dir, file)).ino;

/**
 * One in-memory DuckDB reads every Parquet file and snapshot the tests compare (an instance per read was a quarter
 * of this file's time); a snapshot is attached for one read and detached after it, and no file is read from a cache.
 */
let reader: DuckDBConnection | undefined;
let readerInstance: DuckDBInstance | undefined;
afterAll(() => {
  reader?.closeSync();
  readerInstance?.closeSync();
});

/** The one reader, opened on first use. */
async function readerConnection(): Promise<DuckDBConnection> {
  if (reader === undefined) {
    readerInstance = await DuckDBInstance.create(':memory:', { enable_external_file_cache: 'false' });
    reader = await readerInstance.connect();
  }
  return reader;
}

/** The rows `sql` gives, each as JSON, sorted: two reads compare equal when they hold the same rows. */
async function sortedRows(sql: string): Promise<string[]> {
  return (await (await readerConnection()).runAndReadAll(sql))
    .getRowObjectsJson()
    .map((r) => JSON.stringify(r))
    .sort();
}

/** What `sql` gives with a snapshot file attached, read-only, as `snapshot` (detached after). */
async function inSnapshot(file: string, sql: string): Promise<string[]> {
  const c = await readerConnection();
  await c.run(`ATTACH '${file}' AS snapshot (READ_ONLY)`);
  try {
    return await sortedRows(sql);
  } finally {
    await c.run('DETACH snapshot');
  }
}

/** Every row of a table or view of a snapshot file. */
const snapshotRows = (file: string, table: string): Promise<string[]> =>
  inSnapshot(file, `SELECT * FROM snapshot.main.${table}`);

describe('a full publish', () => {
  it('writes a day as one file, however many days it writes and however their rows are spread', async () => {
    stack = await startStack();
    for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
      await runJob(job, {}, stack.worker.deps, { trigger: 'command' });
    // 150 days, every probe's whole history one after the other: every day's rows spread over the table, and more
    // days than DuckDB keeps files open for while it writes partitions (100)
    await runSql(
      stack.worker.deps.db,
      `INSERT INTO readings (serial, type, depth_cm, ts, value, unit, source, received_at)
       SELECT p.serial, 'MOISTURE', d.depth, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes(15 * q.i), 20 + q.i % 10, '%', 'push', now()
       FROM probes p CROSS JOIN range(96 * 150) q(i) CROSS JOIN (VALUES (15), (30), (45), (60)) d(depth)
       ORDER BY p.serial, q.i;
       INSERT INTO rollup_dirty SELECT serial, min(ts), max(ts) FROM readings GROUP BY serial`,
    );
    await stack.worker.deps.db.refreshRollup();
    const version = await publishTo(stack, 'a');
    const files = (table: string): string[] =>
      filesOf(version.path)
        .filter((f) => f.startsWith(`parquet/${table}/`))
        .map((f) => f.split('/').at(-1)!)
        .sort();
    // the days the manifest fingerprinted, each its one file
    const { fingerprints } = JSON.parse(readFileSync(join(version.path, 'manifest.json'), 'utf8')) as {
      fingerprints: { readings_days: Record<string, string>; rollup_days: Record<string, string> };
    };
    const named = (days: Record<string, string>): string[] =>
      Object.keys(days)
        .map((day) => `${day}.parquet`)
        .sort();
    expect(Object.keys(fingerprints.readings_days).length).toBeGreaterThanOrEqual(150);
    expect(files('readings')).toEqual(named(fingerprints.readings_days));
    expect(files('readings_daily')).toEqual(named(fingerprints.rollup_days));
  });
});

describe('an incremental publish', () => {
  it(
    'holds exactly what a full publish of the same moment holds: every table, view and Parquet file',
    async () => {
      stack = await stackWithReadings('2024-06-28T00:00:00Z', '2024-07-02T00:00:00Z');
      const first = await publishTo(stack, 'a');
      expect(first.snapshot).toBe('written');
      expect(first.reused).toEqual([]);

      // new readings in July, a late one in June, a probe renamed: the months and the tables that change
      await push(stack, '2024-07-02T00:00:00Z', '2024-07-03T00:00:00Z');
      const [late] = uplinksFor(stack.sim.account, {
        from: new Date('2024-06-15T00:00:00Z'),
        to: new Date('2024-06-15T01:00:00Z'),
      });
      await sendPushes([late!], { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 1 });
      await stack.drained();
      await runSql(
        stack.worker.deps.db,
        "UPDATE probes SET name = 'Renamed' WHERE serial = (SELECT min(serial) FROM probes)",
      );
      // the newest reading of a series, and the first of a new one (a depth not measured before): probe_latest moves
      await runSql(
        stack.worker.deps.db,
        `INSERT INTO readings (serial, type, depth_cm, ts, value, unit, source, received_at)
       SELECT serial, type, depth_cm, ts + INTERVAL 1 MINUTE, value + 1, unit, 'push', now()
       FROM (SELECT * FROM probe_latest ORDER BY serial, type, depth_cm LIMIT 1)
       UNION ALL
       SELECT min(serial), 'MOISTURE', 99, TIMESTAMPTZ '2024-07-08 09:00:00+00', 33.25, '%', 'push', now() FROM probes`,
      );
      const incremental = await publishTo(stack, 'a');
      await compareWithFull(incremental, 'b');

      // a reading received before the last one the current version holds of its day, but stored after it (a batch
      // parked and landed late): the day is copied whole, not only what was received since
      await runSql(
        stack.worker.deps.db,
        `INSERT INTO readings (serial, type, depth_cm, ts, value, unit, source, received_at)
       SELECT min(serial), 'MOISTURE', 98, TIMESTAMPTZ '2024-06-29 12:34:00+00', 12.5, '%', 'push',
              TIMESTAMPTZ '2024-06-29 12:35:00+00' FROM probes`,
      );
      await compareWithFull(await publishTo(stack, 'a'), 'c');
    },
    HEAVY_MS,
  );

  /** An incremental publish, then a full one of the same moment: the two hold the same. */
  async function compareWithFull(incremental: PublishReport, fullFolder: string): Promise<void> {
    const full = await publishTo(stack!, fullFolder); // nothing lands in between: the same moment
    expect(incremental.snapshot).toBe('patched');
    expect(incremental.reused.length).toBeGreaterThan(0);
    expect(full.reused).toEqual([]);
    expect(incremental.tables).toEqual(full.tables);

    // the same files, and in each the same rows
    expect(filesOf(incremental.path)).toEqual(filesOf(full.path));
    for (const file of filesOf(full.path).filter((f) => f.endsWith('.parquet'))) {
      const read = (dir: string): Promise<string[]> => sortedRows(`SELECT * FROM read_parquet('${join(dir, file)}')`);
      expect(await read(incremental.path), file).toEqual(await read(full.path));
    }
    // and in the snapshots, every table and view
    for (const table of new Set([...SNAPSHOT_TABLES, ...VIEWS])) {
      const read = (dir: string): Promise<string[]> => snapshotRows(join(dir, 'warehouse.duckdb'), table);
      expect(await read(incremental.path), table).toEqual(await read(full.path));
    }
  }

  it('rewrites only the days and tables that changed, and links the rest to the previous version', async () => {
    // May to July, but for a few days in June that a late reading will land in
    stack = await stackWithReadings('2024-05-30T00:00:00Z', '2024-06-10T00:00:00Z');
    await push(stack, '2024-06-20T00:00:00Z', '2024-07-02T00:00:00Z');
    const first = await publishTo(stack, 'a');
    const may = 'parquet/readings/year=2024/month=5/2024-05-31.parquet';
    const june = 'parquet/readings/year=2024/month=6/2024-06-15.parquet';
    const june20 = 'parquet/readings/year=2024/month=6/2024-06-20.parquet';
    const july = 'parquet/readings/year=2024/month=7/2024-07-01.parquet';
    expect(filesOf(first.path)).not.toContain(june); // no readings that day yet

    const dailyJuly = 'parquet/readings_daily/year=2024/month=7/2024-07-01.parquet';
    const dailyMay = 'parquet/readings_daily/year=2024/month=5/2024-05-31.parquet';

    // nothing changed: every table file and day is the previous version's (the other views are always written)
    const again = await publishTo(stack, 'a');
    for (const file of [may, june20, july, dailyMay, dailyJuly, 'parquet/probes.parquet', 'parquet/soil_types.parquet'])
      expect(inode(again.path, file), file).toBe(inode(first.path, file));
    expect(again.written.filter((f) => f.startsWith('parquet/readings/'))).toEqual([]);
    expect(again.written.filter((f) => f.startsWith('parquet/readings_daily/'))).toEqual([]);

    // a late reading on 15 June: that day written, every other day not
    const [late] = uplinksFor(stack.sim.account, {
      from: new Date('2024-06-15T00:00:00Z'),
      to: new Date('2024-06-15T01:00:00Z'),
    });
    await sendPushes([late!], { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 1 });
    await stack.drained();
    const third = await publishTo(stack, 'a');
    expect(inode(third.path, may)).toBe(inode(first.path, may));
    expect(inode(third.path, june20)).toBe(inode(first.path, june20));
    expect(inode(third.path, july)).toBe(inode(first.path, july));
    expect(third.written.filter((f) => f.startsWith('parquet/readings/'))).toEqual([june]);
    // readings_daily: the local day the late reading fell on (14 or 15 June, by the probe's zone), no other
    const daily = third.written.filter((f) => f.startsWith('parquet/readings_daily/'));
    expect(daily.length).toBeGreaterThan(0);
    for (const file of daily)
      expect(file).toMatch(/^parquet\/readings_daily\/year=2024\/month=6\/2024-06-1[45]\.parquet$/);
    expect(inode(third.path, dailyJuly)).toBe(inode(first.path, dailyJuly));
    expect(third.reused).toContain('parquet/soil_types.parquet');
    // what was built on the previous version (the rollup's days in the snapshot, readings_daily's days linked,
    // probe_latest from the previous file) is what a full publish of the same moment writes
    const full = await publishTo(stack, 'b');
    for (const file of ['parquet/readings_daily/*/*/*.parquet', 'parquet/probe_latest.parquet']) {
      const read = (dir: string): Promise<string[]> => sortedRows(`SELECT * FROM read_parquet('${join(dir, file)}')`);
      expect(await read(third.path), file).toEqual(await read(full.path));
    }
    const rollup = (dir: string): Promise<string[]> => snapshotRows(join(dir, 'warehouse.duckdb'), 'daily_rollup');
    expect(await rollup(third.path)).toEqual(await rollup(full.path));

    // a probe's battery changed (what every pull that sees a new uplink does): probes written again, readings_daily,
    // which reads only the probes' names, not
    await runSql(
      stack.worker.deps.db,
      "UPDATE probes SET battery = 'LOW' WHERE serial = (SELECT min(serial) FROM probes)",
    );
    const pulled = await publishTo(stack, 'a');
    expect(inode(pulled.path, 'parquet/probes.parquet')).not.toBe(inode(third.path, 'parquet/probes.parquet'));
    expect(pulled.written.filter((f) => f.startsWith('parquet/readings_daily/'))).toEqual([]);
    expect(inode(pulled.path, dailyJuly)).toBe(inode(third.path, dailyJuly));

    // a table that changed is written again
    await runSql(
      stack.worker.deps.db,
      "UPDATE probes SET name = 'Renamed' WHERE serial = (SELECT min(serial) FROM probes)",
    );
    const fourth = await publishTo(stack, 'a');
    expect(inode(fourth.path, 'parquet/probes.parquet')).not.toBe(inode(pulled.path, 'parquet/probes.parquet'));
    expect(inode(fourth.path, june)).toBe(inode(third.path, june));
    // and readings_daily, which names the probe, on every day
    expect(inode(fourth.path, dailyJuly)).not.toBe(inode(third.path, dailyJuly));
    const fullAfterRename = await publishTo(stack, 'b');
    const dailyRows = (dir: string): Promise<string[]> =>
      sortedRows(`SELECT * FROM read_parquet('${join(dir, 'parquet/readings_daily/*/*/*.parquet')}')`);
    expect(await dailyRows(fourth.path)).toEqual(await dailyRows(fullAfterRename.path));

    // the previous versions removed: what the current one linked stays readable
    rmSync(first.path, { recursive: true });
    rmSync(again.path, { recursive: true });
    const counted = await sortedRows(`SELECT count(*) AS n FROM read_parquet('${join(fourth.path, may)}')`);
    expect(JSON.parse(counted[0]!).n).not.toBe('0');
  });

  it('writes again a day whose rows changed but not their number: a status filled in by a later push or pull', async () => {
    stack = await stackWithReadings('2024-06-29T00:00:00Z', '2024-07-01T00:00:00Z');
    const [uplink] = uplinksFor(stack.sim.account, {
      from: new Date('2024-07-01T00:00:00Z'),
      to: new Date('2024-07-01T01:00:00Z'),
    });
    // the uplink pushed first without its RSSI: a status row with battery only
    const { rssi, ...withoutRssi } = uplink!;
    expect(typeof rssi).toBe('number');
    await sendPushes([withoutRssi as Uplink], { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 1 });
    await stack.drained();
    const first = await publishTo(stack, 'a');
    const statusDay = 'parquet/probe_status/year=2024/month=7/2024-07-01.parquet';
    const readingsDay = 'parquet/readings/year=2024/month=7/2024-07-01.parquet';
    const statuses = (dir: string): Promise<string[]> =>
      sortedRows(`SELECT serial, last_update, battery, rssi FROM read_parquet('${join(dir, statusDay)}')`);
    const before = await statuses(first.path);

    // the same uplink again, whole: its readings are duplicates, its status row gets the RSSI (as many rows as before)
    await sendPushes([uplink!], { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 1 });
    await stack.drained();
    const second = await publishTo(stack, 'a');
    const after = await statuses(second.path);
    expect(after).toHaveLength(before.length);
    expect(after).not.toEqual(before);
    expect(second.written).toContain(statusDay);
    expect(inode(second.path, readingsDay)).toBe(inode(first.path, readingsDay));

    // then every probe's uplinks of a later hour pushed, and a pull that sees those uplinks as the probes' last: it
    // fills in the connectivity (which pushes do not carry) of each pushed status row, and adds no row
    stack.setClock(new Date('2024-07-08T13:00:00Z'));
    await push(stack, '2024-07-08T10:30:00Z', '2024-07-08T13:00:00Z');
    const pushed = await publishTo(stack, 'a');
    const july8 = 'parquet/probe_status/year=2024/month=7/2024-07-08.parquet';
    const connectivity = (dir: string): Promise<string[]> =>
      sortedRows(`SELECT serial, last_update, connectivity FROM read_parquet('${join(dir, july8)}')`);
    await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
    const pulled = await publishTo(stack, 'a');
    expect(await connectivity(pulled.path)).toHaveLength((await connectivity(pushed.path)).length);
    expect(await connectivity(pulled.path)).not.toEqual(await connectivity(pushed.path));
    expect(pulled.written).toContain(july8);

    const full = await publishTo(stack, 'b');
    const everyStatus = (dir: string): Promise<string[]> =>
      sortedRows(`SELECT * FROM read_parquet('${join(dir, 'parquet/probe_status/*/*/*.parquet')}')`);
    expect(await everyStatus(pulled.path)).toEqual(await everyStatus(full.path));
    for (const table of ['probe_status', 'daily_rollup']) {
      const read = (dir: string): Promise<string[]> => snapshotRows(join(dir, 'warehouse.duckdb'), table);
      expect(await read(pulled.path), table).toEqual(await read(full.path));
    }
  });

  it('writes everything again when the current version was written another way (no fingerprints, another codec)', async () => {
    stack = await stackWithReadings('2024-06-30T00:00:00Z', '2024-07-02T00:00:00Z');
    const exportDir = join(stack.place.config.exportDir, 'a');
    const first = await publish(stack.worker.deps.db, exportDir, 3, log);
    const otherCodec = await publish(stack.worker.deps.db, exportDir, 3, log, { parquetCompression: 'zstd' });
    expect(otherCodec.reused).toEqual([]);
    expect(otherCodec.snapshot).toBe('written');

    // a manifest of a build that kept no fingerprints (before incremental publishing)
    const manifestFile = join(otherCodec.path, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    delete manifest.fingerprints;
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const afterOld = await publish(stack.worker.deps.db, exportDir, 3, log, { parquetCompression: 'zstd' });
    expect(afterOld.reused).toEqual([]);
    expect([...afterOld.written].sort()).toEqual(filesOf(afterOld.path));
    expect([...first.written].sort()).toEqual(filesOf(first.path));

    // a manifest whose fingerprints name months that cannot be (changed by hand, damaged): not built on
    const damaged = JSON.parse(readFileSync(join(afterOld.path, 'manifest.json'), 'utf8')) as {
      fingerprints: { readings_days: Record<string, string> };
    };
    damaged.fingerprints.readings_days["2024-06-30' OR TRUE --"] = '1:x';
    writeFileSync(join(afterOld.path, 'manifest.json'), JSON.stringify(damaged));
    const afterDamaged = await publish(stack.worker.deps.db, exportDir, 3, log, { parquetCompression: 'zstd' });
    expect(afterDamaged.reused).toEqual([]);
  });

  it('writes again what the previous version no longer holds as it was: a day removed, a snapshot cut short', async () => {
    stack = await stackWithReadings('2024-06-28T00:00:00Z', '2024-07-02T00:00:00Z');
    const first = await publishTo(stack, 'a');
    const june = 'parquet/readings/year=2024/month=6/2024-06-29.parquet';
    rmSync(join(first.path, june));
    const snapshot = join(first.path, 'warehouse.duckdb');
    writeFileSync(snapshot, readFileSync(snapshot).subarray(0, 4096));
    // a day written as two files (a large day), the second of them gone since: the day, not half of it
    const june28 = 'parquet/readings/year=2024/month=6/2024-06-28.parquet';
    const manifestFile = join(first.path, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: Record<string, string> };
    manifest.files[june28.replace('.parquet', '-1.parquet')] = '1:1:1:640';
    writeFileSync(manifestFile, JSON.stringify(manifest));

    const second = await publishTo(stack, 'a');
    expect(second.snapshot).toBe('written');
    expect(second.written).toContain(june);
    expect(second.written).toContain(june28);
    expect(second.reused).toContain('parquet/readings/year=2024/month=7/2024-07-01.parquet');
    expect(second.reused).toContain('parquet/readings/year=2024/month=6/2024-06-30.parquet');
    const full = await publishTo(stack, 'b');
    expect(second.tables).toEqual(full.tables);
    const day = (dir: string): Promise<string[]> => sortedRows(`SELECT * FROM read_parquet('${join(dir, june)}')`);
    expect(await day(second.path)).toEqual(await day(full.path));
  });

  it('reuses no file that was written to, swapped for a link, or has another mode since, and leaves older versions as they were', async () => {
    stack = await stackWithReadings('2024-06-28T00:00:00Z', '2024-07-02T00:00:00Z');
    const first = await publishTo(stack, 'a');
    const [june29, june30, july1] = ['06/2024-06-29', '06/2024-06-30', '07/2024-07-01'].map(
      (d) => `parquet/readings/year=2024/month=${Number(d.slice(0, 2))}/${d.slice(3)}.parquet`,
    ) as [string, string, string];

    // a BI tool opens the snapshot to write (its default) and changes it; the file keeps its size
    const instance = await DuckDBInstance.create(join(first.path, 'warehouse.duckdb'));
    const c = await instance.connect();
    await c.run('DELETE FROM probes WHERE serial = (SELECT min(serial) FROM probes)');
    await c.run('CREATE TABLE scribbled AS SELECT 42 AS answer');
    await c.run('CHECKPOINT');
    c.closeSync();
    instance.closeSync();
    // a day's file swapped for a link to a file elsewhere, a stray part put beside another day
    const outside = join(stack.place.dir, 'outside.parquet');
    writeFileSync(outside, readFileSync(join(first.path, june29)));
    rmSync(join(first.path, june29));
    symlinkSync(outside, join(first.path, june29));
    writeFileSync(join(first.path, june30.replace('.parquet', '-1.parquet')), readFileSync(join(first.path, june30)));

    const second = await publishTo(stack, 'a');
    expect(second.snapshot).toBe('written');
    expect(second.written).toContain(june29);
    expect(lstatSync(join(second.path, june29)).isSymbolicLink()).toBe(false);
    expect(second.reused).toContain(june30);
    expect(filesOf(second.path)).not.toContain(june30.replace('.parquet', '-1.parquet'));
    const full = await publishTo(stack, 'b');
    expect(second.tables).toEqual(full.tables);
    const tables = await inSnapshot(
      join(second.path, 'warehouse.duckdb'),
      "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snapshot'",
    );
    expect(tables).not.toContain(JSON.stringify({ table_name: 'scribbled' }));

    // another EXPORT_FILE_MODE: a link would change the older version's files too, so nothing is linked
    const modeBefore = statSync(join(second.path, july1)).mode & 0o777;
    const third = await publish(stack.worker.deps.db, join(stack.place.config.exportDir, 'a'), 3, log, {
      fileMode: 0o600,
    });
    expect(third.reused).toEqual([]);
    expect(statSync(join(second.path, july1)).mode & 0o777).toBe(modeBefore);
    expect(statSync(join(third.path, july1)).mode & 0o777).toBe(0o600);
  });

  it('says in one line that EXPORT_DIR/current is a folder someone made, and writes no version it cannot switch to', async () => {
    stack = await stackWithReadings('2024-06-30T00:00:00Z', '2024-07-01T00:00:00Z');
    const exportDir = join(stack.place.config.exportDir, 'a');
    mkdirSync(join(exportDir, 'current'), { recursive: true });
    writeFileSync(join(exportDir, 'current', 'somefile'), 'x');
    await expect(publishTo(stack, 'a')).rejects.toThrow(
      `${join(exportDir, 'current')} is a folder, not the link to the current version that each publish replaces: move it out of EXPORT_DIR`,
    );
    expect(readdirSync(exportDir).sort()).toEqual(['current']);
  });

  it('builds on no version whose folder is a link to one outside EXPORT_DIR', async () => {
    stack = await stackWithReadings('2024-06-30T00:00:00Z', '2024-07-02T00:00:00Z');
    const first = await publishTo(stack, 'a');
    const outside = join(stack.place.dir, 'elsewhere');
    renameSync(first.path, outside);
    symlinkSync(outside, first.path);
    const second = await publishTo(stack, 'a');
    expect(second.snapshot).toBe('written');
    expect(second.reused).toEqual([]);
  });

  it('writes the version whole when the previous snapshot is damaged with its size and time kept', async () => {
    stack = await stackWithReadings('2024-06-28T00:00:00Z', '2024-07-02T00:00:00Z');
    const first = await publishTo(stack, 'a');
    const snapshot = join(first.path, 'warehouse.duckdb');
    const { atime, mtime, size } = statSync(snapshot);
    const damaged = readFileSync(snapshot);
    damaged.fill(0x5a, 12_288, size); // every block past the file's headers overwritten
    writeFileSync(snapshot, damaged);
    utimesSync(snapshot, atime, mtime); // and its time put back

    const second = await publishTo(stack, 'a');
    expect(second.snapshot).toBe('written');
    const full = await publishTo(stack, 'b');
    expect(second.tables).toEqual(full.tables);
    for (const table of ['readings', 'probes', 'probe_history']) {
      const read = (dir: string): Promise<string[]> => snapshotRows(join(dir, 'warehouse.duckdb'), table);
      expect(await read(second.path), table).toEqual(await read(full.path));
    }
  });
});

/**
 * Publishing for BI: what is in a published version, in which types, how versions are kept, and that a reader
 * in another process, reading all the while, never errors and never sees a half-written export.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { publish } from '../src/export/publish.js';
import { DAY_FILE_TABLES, PARQUET_TABLES } from '../src/warehouse/export.js';
import { prune } from '../src/export/versions.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { sendPushes, uplinksFor } from '../src/simulator/index.js';
import { NOW } from './helpers/account.js';
import { CLI, runCli } from './helpers/cli.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { HEAVY_MS } from './helpers/waiting.js';

const DAY = 86_400_000;
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function filledStack(env: Record<string, string> = {}): Promise<Stack> {
  const s = await startStack({ env });
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
    await runJob(job, {}, s.worker.deps, { trigger: 'command' });
  // two months of readings: June and July 2024
  const uplinks = uplinksFor(s.sim.account, {
    from: new Date('2024-06-29T00:00:00Z'),
    to: new Date(NOW.getTime() - DAY),
  });
  await sendPushes(uplinks, { url: s.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 20 });
  await s.drained();
  return s;
}

async function openReadOnly(
  file: string,
): Promise<{ all: (sql: string) => Promise<Record<string, unknown>[]>; close: () => void }> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  return {
    all: async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson(),
    close: () => {
      c.closeSync();
      instance.closeSync();
    },
  };
}

describe('a published version', () => {
  it('holds a read-only DuckDB snapshot with the tables and views, and Parquet per table, readings and readings_daily by year and month', async () => {
    stack = await filledStack();
    const result = await runCli(['export'], stack.place.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^export {2}succeeded {2}version \S+ published with \d+ readings in \d+\.\d s/);
    const exportDir = stack.place.config.exportDir;
    const dir = realpathSync(join(exportDir, 'current'));
    expect(readlinkSync(join(exportDir, 'current'))).toMatch(/^versions\/\d{4}-\d\d-\d\dT/);

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { tables: Record<string, number> };
    const [{ n: readings }] = (await stack.rows('SELECT count(*) AS n FROM readings')) as [{ n: number }];
    expect(manifest.tables.readings).toBe(readings);
    expect(readdirSync(join(dir, 'parquet')).sort()).toEqual(
      [...PARQUET_TABLES.map((t) => `${t}.parquet`), ...DAY_FILE_TABLES].sort(),
    );
    for (const table of DAY_FILE_TABLES) {
      expect(readdirSync(join(dir, 'parquet', table)), table).toEqual(['year=2024']);
      expect(readdirSync(join(dir, 'parquet', table, 'year=2024')).sort(), table).toEqual(['month=6', 'month=7']);
    }

    const snapshot = await openReadOnly(join(dir, 'warehouse.duckdb'));
    try {
      expect(await snapshot.all('SELECT count(*) AS n FROM readings')).toEqual([{ n: String(readings) }]);
      expect(
        await snapshot.all('SELECT count(*) > 0 AS has_rows FROM readings_enriched WHERE soil_key IS NOT NULL'),
      ).toEqual([{ has_rows: true }]);
      // the partition columns are inside the files too: one file read alone still knows its month
      const july = readdirSync(join(dir, 'parquet/readings/year=2024/month=7'))[0]!;
      expect(
        await snapshot.all(
          `SELECT DISTINCT year, month FROM read_parquet('${join(dir, 'parquet/readings/year=2024/month=7', july)}', hive_partitioning = false)`,
        ),
      ).toEqual([{ year: 2024, month: 7 }]);
    } finally {
      snapshot.close();
    }
  });

  it('uses only types BI tools read everywhere, with open history intervals as far-away dates', async () => {
    stack = await filledStack();
    const report = await publish(stack.worker.deps.db, stack.place.config.exportDir, 3, createLogger('silent'));
    const snapshot = await openReadOnly(join(report.path, 'warehouse.duckdb'));
    try {
      const types = await snapshot.all(
        'SELECT DISTINCT data_type FROM duckdb_columns() WHERE NOT internal AND database_name = current_database() ORDER BY 1',
      );
      expect(types.map((t) => t.data_type)).toEqual([
        'BIGINT',
        'BOOLEAN',
        'DATE',
        'DOUBLE',
        'INTEGER',
        'TIMESTAMP WITH TIME ZONE',
        'VARCHAR',
      ]);
      // compared as instants: a reader renders TIMESTAMPTZ in its own time zone
      expect(
        await snapshot.all(
          'SELECT DISTINCT epoch_ms(valid_from) AS valid_from, epoch_ms(valid_to) AS valid_to FROM probe_history',
        ),
      ).toEqual([{ valid_from: String(Date.UTC(1900, 0, 1)), valid_to: String(Date.UTC(2200, 0, 1)) }]);
      const parquetTypes = await snapshot.all(
        `SELECT DISTINCT column_type FROM (DESCRIBE SELECT * FROM read_parquet('${join(report.path, 'parquet/**/*.parquet')}', union_by_name = true)) ORDER BY 1`,
      );
      expect(parquetTypes.map((t) => t.column_type)).toEqual([
        'BIGINT',
        'BOOLEAN',
        'DATE',
        'DOUBLE',
        'INTEGER',
        'TIMESTAMP WITH TIME ZONE',
        'VARCHAR',
      ]);
    } finally {
      snapshot.close();
    }
    // storage version 64 in the file header: what DuckDB 0.10 and every later version opens
    expect(readFileSync(join(report.path, 'warehouse.duckdb')).readBigUInt64LE(12)).toBe(64n);
  });

  it('keeps EXPORT_KEEP_VERSIONS versions once the older ones have been superseded for a while', async () => {
    stack = await startStack();
    const { exportDir } = stack.place.config;
    const versions: string[] = [];
    for (let i = 0; i < 5; i++)
      versions.push((await publish(stack.worker.deps.db, exportDir, 2, createLogger('silent'))).version);
    // just published: the older versions may still have readers, so all five stay for now
    expect(readdirSync(join(exportDir, 'versions')).sort()).toEqual(versions);
    expect(prune(exportDir, 2, Date.now() + 10 * 60_000)).toEqual(versions.slice(0, 3));
    expect(readdirSync(join(exportDir, 'versions')).sort()).toEqual(versions.slice(3));
    expect(realpathSync(join(exportDir, 'current'))).toBe(join(exportDir, 'versions', versions[4]!));
  });
});

describe('a reader in another process', () => {
  it(
    'reads a version while 20 publishes (each after the first incremental) switch `current` under it, and never errors or sees a half-written export',
    async () => {
      stack = await filledStack();
      const { exportDir } = stack.place.config;
      const { db } = stack.worker.deps;
      await publish(db, exportDir, 3, createLogger('silent'));
      const reader = spawn(
        process.execPath,
        [CLI.replace('src/cli/main.js', 'test/helpers/export-reader.js'), exportDir],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const lines = createInterface({ input: reader.stdout })[Symbol.asyncIterator]();
      const said = async (line: string): Promise<Record<string, unknown>> => {
        reader.stdin.write(`${line}\n`);
        const next = await lines.next();
        return next.done
          ? { ok: false, error: 'the reader ended' }
          : (JSON.parse(next.value) as Record<string, unknown>);
      };
      // pushes land all the while, so that each version holds more readings than the one before
      const pushing = sendPushes(uplinksFor(stack.sim.account, { from: new Date(NOW.getTime() - DAY), to: NOW }), {
        url: stack.pushUrl,
        secret: PUSH_SECRET,
        ratePerSecond: 100,
      });
      const reads: Record<string, unknown>[] = [];
      const published: string[] = [];
      const snapshots: string[] = [];
      try {
        for (let round = 0; round < 20; round++) {
          const opened = await said('open');
          if (opened.opened === undefined) {
            reads.push(opened);
            continue;
          }
          // the reader holds the version it opened; the publish switches `current` to a new one meanwhile
          const report = await publish(db, exportDir, 3, createLogger('silent'));
          published.push(report.version);
          snapshots.push(report.snapshot);
          reads.push({ ...(await said('finish')), opened: opened.opened });
        }
      } finally {
        reader.stdin.end('quit\n');
        await pushing;
        await new Promise((resolve) => (reader.exitCode === null ? reader.once('exit', resolve) : resolve(undefined)));
      }

      expect(reads.filter((r) => r.ok !== true)).toEqual([]);
      expect(reads).toHaveLength(20);
      // every read was overlapped by a publish: the version it read was no longer current when it finished
      reads.forEach((r, i) => {
        expect(r.version).toBe(r.opened);
        expect(published[i]).not.toBe(r.version);
      });
      expect(new Set(reads.map((r) => r.version)).size).toBe(20); // it saw the versions change under it
      expect(new Set(snapshots)).toEqual(new Set(['patched'])); // each built on the version being read
      expect(existsSync(join(exportDir, 'current'))).toBe(true);
    },
    HEAVY_MS,
  );
});

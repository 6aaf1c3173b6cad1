/**
 * Migrations on a warehouse made by an earlier version: what it holds is carried over, not just the schema made.
 */
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { SQL_DIR } from '../src/paths.js';
import { listMigrations, migrate } from '../src/warehouse/migrations.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { readRows } from './helpers/warehouse.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const LIMITS = { memoryLimit: '256MB', threads: 1 };
const silent = createLogger('silent');

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-migrations-'));
  dirs.push(dir);
  return dir;
}

/** A warehouse file as this build leaves it. */
async function currentWarehouse(): Promise<string> {
  const path = join(tempDir(), 'warehouse.duckdb');
  await (await Warehouse.open(path, LIMITS, silent)).close();
  return path;
}

/** Runs SQL on the file directly, as an operator (or another build) would. */
async function onFile<T = void>(path: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

const schemaMigrations = (path: string): Promise<Record<string, unknown>[]> =>
  onFile(path, async (c) =>
    (
      await c.runAndReadAll(
        'SELECT version, name, applied_at::VARCHAR AS applied_at, checksum FROM schema_migrations ORDER BY version',
      )
    ).getRowObjects(),
  );

/** What opening the file throws (it must throw). */
async function refusal(path: string): Promise<SyncError> {
  const err: unknown = await Warehouse.open(path, LIMITS, silent).then(
    async (db) => {
      await db.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SyncError);
  return err as SyncError;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const newest = listMigrations().at(-1)!;
const newestLabel = `${String(newest.version).padStart(4, '0')}_${newest.name}`;

/** A warehouse file as the version before migration `upTo` left it (migrations applied by hand, as migrate() does). */
async function warehouseBefore(upTo: number, rows: string): Promise<string> {
  const path = join(tempDir(), 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  await c.run(
    'CREATE TABLE schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
  );
  for (const m of listMigrations().filter((m) => m.version < upTo)) {
    await c.run(m.sql);
    await c.run('INSERT INTO schema_migrations (version, name) VALUES ($version, $name)', {
      version: m.version,
      name: m.name,
    });
  }
  await c.run(rows);
  c.closeSync();
  instance.closeSync();
  return path;
}

describe('0006 and 0007: probe version ids', () => {
  it('numbers the versions already there, marks the open ones current, and drops the empty [T, T) ones', async () => {
    const path = await warehouseBefore(
      6,
      `INSERT INTO probe_history (serial, name, version_hash, valid_from, valid_to, changed_by) VALUES
         ('24000092104', 'North 1', 'a', '-infinity', '2024-07-01 12:00:00+00', 'sync-probes'),
         ('24000092104', 'First at noon', 'b', '2024-07-01 12:00:00+00', '2024-07-01 12:00:00+00', 'probe update'),
         ('24000092104', 'Second at noon', 'c', '2024-07-01 12:00:00+00', 'infinity', 'probe update'),
         ('24000092105', 'North 2', 'd', '-infinity', 'infinity', 'sync-probes')`,
    );
    const db = await Warehouse.open(path, { memoryLimit: '256MB', threads: 1 }, createLogger('silent'));
    try {
      expect(
        await readRows(db, 'SELECT serial, name, version_id, is_current FROM probe_history ORDER BY version_id'),
      ).toEqual([
        { serial: '24000092104', name: 'North 1', version_id: 1, is_current: false },
        { serial: '24000092104', name: 'Second at noon', version_id: 2, is_current: true },
        { serial: '24000092105', name: 'North 2', version_id: 3, is_current: true },
      ]);
    } finally {
      await db.close();
    }
  });
});

describe('0008 and 0009: the measuring interval in the history', () => {
  it("gives the versions already there the probe's interval and hashes them again, so that the next sync sees no change", async () => {
    const path = await warehouseBefore(
      8,
      `INSERT INTO probes (serial, name, interval_minutes, soil_profile, version_hash, first_seen_at, updated_at)
         VALUES ('24000092104', 'North 1', 60, '[{"depth":0,"soil":"CLAY"}]',
                 probe_version_hash('North 1', NULL, NULL, NULL, NULL, '[{"depth":0,"soil":"CLAY"}]'), now(), now());
       INSERT INTO probe_history (serial, name, soil_profile, version_hash, valid_from, changed_by, version_id, is_current)
         SELECT serial, name, soil_profile, version_hash, '-infinity', 'sync-probes', 1, true FROM probes;`,
    );
    const db = await Warehouse.open(path, { memoryLimit: '256MB', threads: 1 }, createLogger('silent'));
    try {
      expect(await readRows(db, 'SELECT interval_minutes FROM probe_history')).toEqual([{ interval_minutes: 60 }]);
      expect(
        await readRows(
          db,
          `SELECT p.version_hash = h.version_hash AS same,
                              p.version_hash = probe_version_hash('North 1', NULL, NULL, NULL, NULL, '[{"depth":0,"soil":"CLAY"}]', 60::DOUBLE) AS rehashed
                       FROM probes p JOIN probe_history h USING (serial)`,
        ),
      ).toEqual([{ same: true, rehashed: true }]);
    } finally {
      await db.close();
    }
  });
});

describe('a warehouse this build does not know all of', () => {
  it('is refused when it has a migration this build has no file for (a downgrade), naming the file, the versions and what to do', async () => {
    const path = await currentWarehouse();
    await onFile(path, (c) =>
      c
        .run(
          "INSERT INTO schema_migrations VALUES (9998, 'from_the_future', now(), 'ab'), (9999, 'and_beyond', now(), 'cd')",
        )
        .then(() => undefined),
    );
    const before = await schemaMigrations(path);
    const err = await refusal(path);
    expect(err.code).toBe('E_WAREHOUSE_NEWER');
    expect(err.message).toBe(
      `the warehouse ${path} has migrations this build does not know: 9998_from_the_future, 9999_and_beyond (this build's newest is ${newestLabel}); ` +
        'a newer or another version of sensoterra-sync has migrated it, and this one would misread it: ' +
        'run a build that has these migrations, or restore a backup of the warehouse taken before them',
    );
    expect(await schemaMigrations(path)).toEqual(before);
  });

  it('is refused when a version it applied has another name here (a build from another branch)', async () => {
    const path = await currentWarehouse();
    await onFile(path, (c) =>
      c.run("UPDATE schema_migrations SET name = 'other_branch' WHERE version = 3").then(() => undefined),
    );
    const err = await refusal(path);
    expect(err.code).toBe('E_WAREHOUSE_NEWER');
    expect(err.message).toContain(
      "does not know: 0003_other_branch (this build's 0003 is 0003_backfill) (this build's newest",
    );
  });

  it('is refused when an applied file has changed since, naming the file and saying to add a new migration', async () => {
    const path = await currentWarehouse();
    const file = listMigrations().find((m) => m.version === 3)!;
    await onFile(path, (c) =>
      c
        .run('UPDATE schema_migrations SET checksum = $checksum WHERE version = 3', {
          checksum: sha256('-- as it was applied\n'),
        })
        .then(() => undefined),
    );
    const err = await refusal(path);
    expect(err.code).toBe('E_MIGRATION_CHANGED');
    expect(err.message).toBe(
      `a migration has changed since it was applied to the warehouse ${path}: ${join(SQL_DIR, 'migrations', '0003_backfill.sql')} ` +
        `(sha256 ${sha256('-- as it was applied\n').slice(0, 12)}… when applied, ${file.checksum.slice(0, 12)}… now); ` +
        'migrations are append-only, so the change never reached this warehouse: put the file back as it was and add a new migration for the change instead',
    );
  });
});

describe('checksums', () => {
  it('records the sha256 of each file it applies, and opening again changes nothing', async () => {
    const path = await currentWarehouse();
    const rows = await schemaMigrations(path);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(
      listMigrations().map((m) => [m.version, m.name, m.checksum]),
    );
    expect(listMigrations().find((m) => m.version === 1)!.checksum).toBe(
      sha256(readFileSync(join(SQL_DIR, 'migrations', '0001_warehouse.sql'), 'utf8')),
    );
    await (await Warehouse.open(path, LIMITS, silent)).close();
    expect(await schemaMigrations(path)).toEqual(rows);
  });

  it('fills them in on a warehouse migrated before checksums were kept, trusting its files once; then nothing changes', async () => {
    const path = await warehouseBefore(newest.version, 'SELECT 1');
    const old = await schemaMigrations(path).catch((err: unknown) => err);
    expect(String(old)).toContain('checksum'); // no such column yet
    await (await Warehouse.open(path, LIMITS, silent)).close();
    const rows = await schemaMigrations(path);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(
      listMigrations().map((m) => [m.version, m.name, m.checksum]),
    );
    await (await Warehouse.open(path, LIMITS, silent)).close();
    expect(await schemaMigrations(path)).toEqual(rows);
  });

  it('adds the column in a way DuckDB can replay from its WAL, should the process stop before a checkpoint', async () => {
    const path = await warehouseBefore(newest.version + 1, 'SELECT 1');
    const copy = join(tempDir(), 'copy.duckdb');
    const db = await Warehouse.open(path, LIMITS, silent);
    try {
      // the file as a killed process would leave it: the ALTERs and the filled checksums still only in the WAL
      expect(existsSync(`${path}.wal`)).toBe(true);
      copyFileSync(path, copy);
      copyFileSync(`${path}.wal`, `${copy}.wal`);
    } finally {
      await db.close();
    }
    await (await Warehouse.open(copy, LIMITS, silent)).close();
    expect((await schemaMigrations(copy)).map((r) => r.checksum)).toEqual(listMigrations().map((m) => m.checksum));
  });

  it('refuses a file edited after it was applied (migrate() on a copy of the migrations folder)', async () => {
    const dir = join(tempDir(), 'migrations');
    cpSync(join(SQL_DIR, 'migrations'), dir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      expect(await migrate(c, silent, listMigrations(dir))).toEqual(listMigrations().map((m) => m.version));
      expect(await migrate(c, silent, listMigrations(dir))).toEqual([]);
      // a checkout that writes \r\n line endings has changed nothing
      const first = join(dir, '0001_warehouse.sql');
      writeFileSync(first, readFileSync(first, 'utf8').replaceAll('\n', '\r\n'));
      expect(await migrate(c, silent, listMigrations(dir))).toEqual([]);
      appendFileSync(join(dir, '0002_push_ingest.sql'), '\n-- a fix, made in place\n');
      await expect(migrate(c, silent, listMigrations(dir))).rejects.toMatchObject({
        code: 'E_MIGRATION_CHANGED',
        message: expect.stringContaining(`${join(dir, '0002_push_ingest.sql')} (sha256 `),
      });
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});

describe('the migrations folder', () => {
  it('refuses a .sql file that would never be applied, and two files with one number', () => {
    const dir = join(tempDir(), 'migrations');
    cpSync(join(SQL_DIR, 'migrations'), dir, { recursive: true });
    writeFileSync(join(dir, '11_short_number.sql'), 'SELECT 1;');
    expect(() => listMigrations(dir)).toThrow(
      `${join(dir, '11_short_number.sql')}: a migration's file is named NNNN_name.sql`,
    );
    renameSync(join(dir, '11_short_number.sql'), join(dir, '0003_same_number.sql'));
    expect(() => listMigrations(dir)).toThrow(
      `${join(dir, '0003_backfill.sql')} and ${join(dir, '0003_same_number.sql')} have the same number`,
    );
  });
});

/**
 * Migrations on a warehouse made by an earlier version: what it holds is carried over, not just the schema made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { listMigrations } from '../src/warehouse/migrations.js';
import { Warehouse } from '../src/warehouse/warehouse.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A warehouse file as the version before migration `upTo` left it (migrations applied by hand, as migrate() does). */
async function warehouseBefore(upTo: number, rows: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-migrations-'));
  dirs.push(dir);
  const path = join(dir, 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  await c.run('CREATE TABLE schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  for (const m of listMigrations().filter((m) => m.version < upTo)) {
    await c.run(m.sql);
    await c.run('INSERT INTO schema_migrations (version, name) VALUES ($version, $name)', { version: m.version, name: m.name });
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
      expect(await db.read('SELECT serial, name, version_id, is_current FROM probe_history ORDER BY version_id')).toEqual([
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
  it('gives the versions already there the probe\'s interval and hashes them again, so that the next sync sees no change', async () => {
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
      expect(await db.read('SELECT interval_minutes FROM probe_history')).toEqual([{ interval_minutes: 60 }]);
      expect(
        await db.read(`SELECT p.version_hash = h.version_hash AS same,
                              p.version_hash = probe_version_hash('North 1', NULL, NULL, NULL, NULL, '[{"depth":0,"soil":"CLAY"}]', 60::DOUBLE) AS rehashed
                       FROM probes p JOIN probe_history h USING (serial)`),
      ).toEqual([{ same: true, rehashed: true }]);
    } finally {
      await db.close();
    }
  });
});

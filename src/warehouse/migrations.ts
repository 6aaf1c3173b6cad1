/**
 * Numbered, append-only migrations from sql/migrations/NNNN_name.sql, applied in order at start-up, each in its
 * own transaction together with its row in schema_migrations, so a migration is applied whole or not at all.
 * Only the one writer process migrates (DuckDB's file lock guarantees there is one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '../logger.js';
import { SQL_DIR } from '../paths.js';
import { inTransaction } from './duckdb.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = join(SQL_DIR, 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
}

export async function migrate(connection: DuckDBConnection, log: Logger): Promise<number[]> {
  await connection.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
  );
  const done = await connection.runAndReadAll('SELECT version FROM schema_migrations');
  const applied = new Set(done.getRowObjects().map((r) => Number(r.version)));
  const newlyApplied: number[] = [];
  for (const migration of listMigrations()) {
    if (applied.has(migration.version)) continue;
    await inTransaction(connection, async () => {
      // recorded in the same transaction as the migration itself: applied whole with its record, or not at all;
      // only one process can be here at a time (DuckDB's file lock), so nothing applies a migration twice
      await connection.run('INSERT INTO schema_migrations (version, name) VALUES ($version, $name)', {
        version: migration.version,
        name: migration.name,
      });
      await connection.run(migration.sql);
    });
    log.info({ version: migration.version, name: migration.name }, 'migration applied');
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}

/**
 * Numbered, append-only migrations from sql/migrations/NNNN_name.sql, applied in order at start-up, each in its
 * own transaction together with its row in schema_migrations, so a migration is applied whole or not at all.
 * Only the one writer process migrates (DuckDB's file lock guarantees there is one).
 *
 * Nothing goes wrong silently: a warehouse that holds migrations this build has no file for (a downgrade, or a
 * build from another branch) is refused, and so is one whose applied files have changed since (schema_migrations
 * records each file's sha256), before anything is applied.
 *
 * The files are read from SQL_DIR (paths.ts: sql/ beside the package's package.json), which the build ships:
 * the Docker image copies sql/ next to dist/, and tests and `npm run` read it in the checkout.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ErrorCodes, SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { SQL_DIR } from '../paths.js';
import { inTransaction } from './duckdb.js';

export interface Migration {
  version: number;
  name: string;
  /** Where the file is, for messages. */
  file: string;
  sql: string;
  /**
   * sha256 of the file's text with its line endings as \n (a checkout that writes \r\n changes nothing), hex:
   * recorded in schema_migrations when applied, and compared at every start.
   */
  checksum: string;
}

const FILE_NAME = /^(\d{4})_([\w-]+)\.sql$/;

export function listMigrations(dir = join(SQL_DIR, 'migrations')): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f): Migration => {
      const file = join(dir, f);
      const match = FILE_NAME.exec(f);
      // a misnamed file would otherwise never be applied, and nobody would know
      if (!match)
        throw new Error(
          `${file}: a migration's file is named NNNN_name.sql (four digits, then letters, digits, _ or -)`,
        );
      const sql = readFileSync(file, 'utf8');
      return { version: Number(match[1]), name: match[2]!, file, sql, checksum: sha256(sql) };
    });
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(
        `${migrations[i - 1]!.file} and ${migrations[i]!.file} have the same number: give the newer one the next free number`,
      );
    }
  }
  return migrations;
}

/**
 * Checks the warehouse against this build's migrations, then applies those it lacks. Returns their versions.
 * Throws WAREHOUSE_NEWER or MIGRATION_CHANGED (see the module's comment) before writing anything but the
 * checksum column of schema_migrations itself.
 */
export async function migrate(
  connection: DuckDBConnection,
  log: Logger,
  migrations: Migration[] = listMigrations(),
): Promise<number[]> {
  await prepareTable(connection, log);
  const recorded = (
    await connection.runAndReadAll('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
  )
    .getRowObjects()
    .map((r) => ({
      version: Number(r.version),
      name: String(r.name),
      checksum: r.checksum === null ? null : String(r.checksum),
    }));
  const files = new Map(migrations.map((m) => [m.version, m]));

  const unknown = recorded.filter((r) => files.get(r.version)?.name !== r.name);
  if (unknown.length > 0) {
    const newest = migrations.at(-1);
    const listed = unknown.map((r) => {
      const ours = files.get(r.version);
      return ours === undefined ? label(r) : `${label(r)} (this build's ${label(ours).slice(0, 4)} is ${label(ours)})`;
    });
    throw new SyncError(
      ErrorCodes.WAREHOUSE_NEWER,
      `the warehouse ${await warehousePath(connection)} has migrations this build does not know: ${listed.join(', ')} ` +
        `(this build's newest is ${newest === undefined ? 'none' : label(newest)}); a newer or another version of sensoterra-sync ` +
        'has migrated it, and this one would misread it: run a build that has these migrations, or restore a backup of the warehouse taken before them',
    );
  }

  const changed = recorded.filter((r) => r.checksum !== null && r.checksum !== files.get(r.version)!.checksum);
  if (changed.length > 0) {
    const listed = changed.map((r) => {
      const ours = files.get(r.version)!;
      return `${ours.file} (sha256 ${r.checksum!.slice(0, 12)}… when applied, ${ours.checksum.slice(0, 12)}… now)`;
    });
    throw new SyncError(
      ErrorCodes.MIGRATION_CHANGED,
      `${changed.length === 1 ? 'a migration has' : 'migrations have'} changed since ${changed.length === 1 ? 'it was' : 'they were'} applied ` +
        `to the warehouse ${await warehousePath(connection)}: ${listed.join(', ')}; migrations are append-only, so the change never reached ` +
        'this warehouse: put the file back as it was and add a new migration for the change instead',
    );
  }

  // Warehouses migrated before checksums were recorded have none: the files this build has for their applied
  // versions are trusted once, here, and recorded; from now on a change to any of them is refused above.
  const unrecorded = recorded.filter((r) => r.checksum === null);
  if (unrecorded.length > 0) {
    await inTransaction(connection, async () => {
      for (const r of unrecorded) {
        await connection.run(
          'UPDATE schema_migrations SET checksum = $checksum WHERE version = $version AND checksum IS NULL',
          {
            version: r.version,
            checksum: files.get(r.version)!.checksum,
          },
        );
      }
    });
    log.info(
      { versions: unrecorded.map((r) => r.version) },
      'checksums recorded for the migrations applied before checksums were kept',
    );
  }

  const applied = new Set(recorded.map((r) => r.version));
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await inTransaction(connection, async () => {
      // recorded in the same transaction as the migration itself: applied whole with its record, or not at all;
      // only one process can be here at a time (DuckDB's file lock), so nothing applies a migration twice
      await connection.run(
        'INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES ($version, $name, now(), $checksum)',
        {
          version: migration.version,
          name: migration.name,
          checksum: migration.checksum,
        },
      );
      await connection.run(migration.sql);
    });
    log.info({ version: migration.version, name: migration.name }, 'migration applied');
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}

/**
 * schema_migrations with its checksum column. Its applied_at has no DEFAULT now() (it had one before checksums):
 * DuckDB cannot replay from the WAL an ALTER TABLE of a table with a DEFAULT that calls a function ("GetDefaultDatabase
 * with no default database set"), so a process stopped between the ALTER and the next checkpoint would leave a
 * warehouse that no longer opens. The ALTERs run outside the migrations' transactions, and apart from the UPDATE
 * that fills the column (DuckDB refuses an UPDATE after an ALTER of the same table in one transaction).
 */
async function prepareTable(connection: DuckDBConnection, log: Logger): Promise<void> {
  await connection.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL, checksum VARCHAR)',
  );
  // pragma_table_info reads this one table; duckdb_columns() would bind every view of the warehouse first
  const column = await connection.runAndReadAll(
    "SELECT 1 FROM pragma_table_info('main.schema_migrations') WHERE name = 'checksum'",
  );
  if (column.currentRowCount > 0) return;
  await inTransaction(connection, async () => {
    // the default first: the ADD COLUMN's WAL entry must not carry a table whose DEFAULT calls a function
    await connection.run('ALTER TABLE schema_migrations ALTER COLUMN applied_at DROP DEFAULT');
    await connection.run('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum VARCHAR');
  });
  log.info('schema_migrations now records a checksum of each applied migration');
}

/** The warehouse's file, for messages. */
async function warehousePath(connection: DuckDBConnection): Promise<string> {
  const reader = await connection.runAndReadAll(
    'SELECT path FROM duckdb_databases() WHERE database_name = current_database()',
  );
  const path = reader.getRowObjects()[0]?.path;
  return typeof path === 'string' && path !== '' ? path : ':memory:';
}

function label(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text.replaceAll('\r\n', '\n'), 'utf8').digest('hex');
}

/**
 * Opening the DuckDB file. DuckDB lets one process hold a file read-write and, while it does, no other process
 * can open it at all: that error, and a damaged file, become one clear, typed message each (faults.ts).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, timestampTZValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import { isCorrupt, isLockConflict, isStorageFault, reasonOf } from './faults.js';
import { literal } from './sql-files.js';

export interface DuckDbLimits {
  memoryLimit: string;
  threads: number;
}

export async function openDuckDb(path: string, limits: DuckDbLimits, readOnly = false): Promise<DuckDBInstance> {
  if (path !== ':memory:' && !readOnly) {
    // The warehouse is for its owner alone: its file and .wal 0600, a folder made for it 0700. DuckDB creates them
    // with the process umask (the .wal at any time), so the process that writes a warehouse keeps a umask of at
    // least 077 from here on (the export sets its own modes: EXPORT_FILE_MODE). Looser modes on an existing file
    // are tightened, silently: nothing is lost, and a log line would say no more than the file now does.
    process.umask(process.umask(0o077) | 0o077);
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new SyncError(
        ErrorCodes.WAREHOUSE,
        `cannot make the folder of the warehouse ${path} (WAREHOUSE_PATH): ${errorMessage(cause)}`,
        { cause, retryable: isStorageFault(cause) },
      );
    }
    for (const file of [path, `${path}.wal`]) {
      try {
        const { mode } = statSync(file);
        if ((mode & 0o077) !== 0) chmodSync(file, mode & 0o700);
      } catch {
        // not there yet (DuckDB creates it under the umask), or not ours to change (then DuckDB says so, if it matters)
      }
    }
  }
  const options: Record<string, string> = {
    memory_limit: limits.memoryLimit,
    threads: String(limits.threads),
    // DuckDB keeps up to allocator_flush_threshold (128 MB) of freed memory for reuse; the worker writes small
    // batches all day, so give freed memory back sooner and keep the process small (see BENCHMARKS.md)
    allocator_flush_threshold: '16MB',
    allocator_background_threads: 'true',
    // nothing is downloaded or loaded behind our back (parquet, json and icu are built in)
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (readOnly) options.access_mode = 'READ_ONLY';
  try {
    return await DuckDBInstance.create(path, options);
  } catch (cause) {
    throw describeOpenError(path, cause);
  }
}

/**
 * Closes an instance and its connections without the checkpoint DuckDB makes as an instance closes: the worker
 * closes an instance whose open failed this way, and everything committed stays in the WAL for the next open.
 * DuckDB closes an instance only once its last connection has closed: a connection left open kept a failed open's
 * instance alive, holding the file, until garbage collection, beside the next attempt's instance on the same file.
 * Its closing checkpoint then came late, and on a full disk it could add a failed checkpoint's marker to the WAL
 * after the next attempt had dropped the one before: a WAL with two never opens again ("WAL cannot contain more than
 * one checkpoint marker"), and the writer stayed down for good.
 */
export async function closeWithoutCheckpoint(instance: DuckDBInstance, connections: DuckDBConnection[]): Promise<void> {
  const all = [...connections];
  try {
    const connection = await instance.connect();
    all.push(connection);
    await connection.run('PRAGMA disable_checkpoint_on_shutdown');
  } catch {
    // an invalidated instance makes no checkpoint either
  }
  for (const connection of all) {
    try {
      connection.closeSync();
    } catch {
      // already failing: the caller reports the error that matters
    }
  }
  try {
    instance.closeSync();
  } catch {
    // as above
  }
}

function describeOpenError(path: string, cause: unknown): SyncError {
  if (isLockConflict(cause)) {
    return new SyncError(
      ErrorCodes.WAREHOUSE_LOCKED,
      `the warehouse ${path} is held by another process (a running sensoterra-sync worker?): while the service runs, use its commands (they ask the worker), or read the published export`,
      { cause, retryable: true },
    );
  }
  if (isCorrupt(cause)) {
    return new SyncError(
      ErrorCodes.WAREHOUSE_CORRUPT,
      `the warehouse ${path} is damaged (${reasonOf(cause)}): restore it from a backup, or move it aside and let the worker build a new one (pulls refill the catalogs; a backfill refills readings)`,
      { cause },
    );
  }
  return new SyncError(
    ErrorCodes.WAREHOUSE,
    `cannot open the warehouse ${path} (WAREHOUSE_PATH): ${errorMessage(cause)}`,
    {
      cause,
      retryable: isStorageFault(cause),
    },
  );
}

/**
 * After this, the instance reads and writes no file but its own and those under `allowed` (the export folder):
 * however a query is written (read_text, a file path, SQL run from inside SQL), it cannot reach the worker's
 * files, .env among them. The configuration is then locked: no SET can undo it.
 */
export async function lockDown(connection: DuckDBConnection, allowed: string[]): Promise<void> {
  const dirs = allowed.map((dir) => literal(dir.endsWith('/') ? dir : `${dir}/`).text).join(', ');
  await connection.run(`SET allowed_directories = [${dirs}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
}

/** A JS Date is not a bind parameter: DuckDB wants microseconds since the epoch. */
export function ts(date: Date): DuckDBValue {
  return timestampTZValue(BigInt(date.getTime()) * 1000n);
}

/** Runs `fn` in a transaction: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(connection: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await fn();
    await connection.run('COMMIT');
    return result;
  } catch (err) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

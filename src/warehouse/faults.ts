/**
 * DuckDB's errors, by their type. @duckdb/node-api does not expose `duckdb_error_type`, but every DuckDB error
 * message starts with its type as DuckDB spells it ("IO Error: ...", "FATAL Error: ...", "Constraint Error: ..."),
 * so that prefix is read as the type, never a word found elsewhere in the text. What the worker does follows it:
 *
 * - `FATAL`: the database handle is invalidated (a checkpoint failed, for instance on a full disk). Every later
 *   statement fails, even once space is back, until the file is opened again: the worker reopens it.
 * - `IO`, `TransactionContext` ("Failed to commit: ... No space left on device"): the storage failed and the
 *   transaction was rolled back; the handle goes on, and the same write can succeed later. Not the data's fault:
 *   a push is never parked as poison for it.
 * - anything else: the statement or its data is wrong.
 *
 * Within IO errors, two causes change what to tell a person, and DuckDB gives them fixed openings: another process
 * holding the file ("Could not set lock on file") and a damaged file ("Corrupt database file").
 */
import { ErrorCodes, SyncError } from '../errors.js';

const TYPE = /^([A-Za-z]+(?: [A-Za-z]+)*) Error: /;

/** The DuckDB error type ("IO", "FATAL", "Constraint", ...), or undefined for an error that is not DuckDB's. */
function duckDbErrorType(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return TYPE.exec(message)?.[1];
}

/** The message without its type prefix. */
function detail(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(TYPE, '');
}

/** The handle is invalidated: only opening the file again helps. */
export function isFatal(err: unknown): boolean {
  return duckDbErrorType(err) === 'FATAL';
}

/** The storage failed (or the warehouse is down): retry later; never blame the data. */
export function isStorageFault(err: unknown): boolean {
  if (err instanceof WarehouseDownError) return true;
  const type = duckDbErrorType(err);
  return type === 'FATAL' || type === 'IO' || type === 'TransactionContext';
}

/** Another process holds the file (DuckDB allows one read-write process per file). */
export function isLockConflict(err: unknown): boolean {
  return duckDbErrorType(err) === 'IO' && detail(err).startsWith('Could not set lock on file');
}

/** The file is damaged: waiting will not help. */
export function isCorrupt(err: unknown): boolean {
  return duckDbErrorType(err) === 'IO' && detail(err).startsWith('Corrupt database file');
}

/**
 * DuckDB's answer to every statement on a handle invalidated earlier (an error, or the reason kept from one): a
 * consequence, which names no cause. The cause (the error that invalidated it) is the reason worth showing.
 */
export function isInvalidatedEarlier(err: unknown): boolean {
  return isFatal(err) && detail(err).includes('database has been invalidated because of a previous fatal error');
}

/** The first line of an error, as a reason to show in /readyz, `status` and the log. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.slice(0, 500);
}

/** Thrown, at once, by every warehouse operation while the warehouse is down. */
export class WarehouseDownError extends SyncError {
  constructor(path: string, reason: string) {
    super(
      ErrorCodes.WAREHOUSE_DOWN,
      `the warehouse ${path} is down (${reason}): the worker reopens it as soon as it can; pushes wait in Redis meanwhile`,
      { retryable: true },
    );
  }
}

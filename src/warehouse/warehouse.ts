/**
 * The warehouse: one DuckDB file, owned by one process (the worker, or a command while no worker runs).
 * Every write goes through `write`, which serialises them: two transactions never interleave on the file.
 * Reads get their own short-lived connection and see what is committed.
 * When the storage fails (a full disk), the warehouse says so (`health`) rather than failing quietly; when DuckDB
 * invalidates the handle, `recover` opens the file again (faults.ts).
 * This class is the one interface the rest of the code writes through, so moving the warehouse elsewhere
 * (Parquet + a DuckLake catalog) touches this module only.
 */
import { existsSync, rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { appendRows, type Cell } from './appender.js';
import { inTransaction, lockDown, openDuckDb, ts, type DuckDbLimits } from './duckdb.js';
import { WarehouseDownError, isFatal, isInvalidatedEarlier, isStorageFault, reasonOf } from './faults.js';
import { migrate } from './migrations.js';
import { rowsOf, type Row } from './rows.js';
import { createViews } from './views.js';
import { ident, sqlFile } from './sql-files.js';

const STAGE_TABLES = [
  'stage_probes',
  'stage_locations',
  'stage_customers',
  'stage_parameters',
  'stage_customer_probes',
  'stage_readings',
  'stage_pushes',
  'stage_status',
  'stage_uplink_extras',
] as const;
export type StageTable = (typeof STAGE_TABLES)[number];

export type Params = Record<string, DuckDBValue>;
export type { Row };

export interface WarehouseHealth {
  state: 'up' | 'down';
  /** Why it is down: the storage error, first line. */
  reason?: string;
  since?: string;
  /** Down because DuckDB invalidated the handle: the worker reopens the file (recover()). */
  reopening?: boolean;
}

interface Handle {
  instance: DuckDBInstance;
  writer: DuckDBConnection;
}

interface Fault {
  reason: string;
  since: Date;
  reopen: boolean;
  /** The last storage failure, and the first write that succeeded after it (see settle). */
  lastFailure: number;
  wroteAfter?: number;
}

/**
 * A storage failure that did not invalidate the handle counts as over only once writes have succeeded for this
 * long without another: on a full disk, small writes still fit now and then while batches keep failing.
 */
const QUIET_MS = 10_000;

export class Warehouse {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private fault: Fault | undefined;

  private constructor(
    readonly path: string,
    private handle: Handle | undefined,
    readonly log: Logger,
    private readonly limits: DuckDbLimits,
    private readonly exportDir: string | undefined,
  ) {}

  /**
   * Opens (creating if needed) and migrates the file; drops what an interrupted run left staged and marks the runs it
   * cut short. `exportDir`: where publishing may write; no other file outside the warehouse's own can be touched.
   */
  static async open(path: string, limits: DuckDbLimits, log: Logger, exportDir?: string): Promise<Warehouse> {
    return new Warehouse(path, await openHandle(path, limits, log, exportDir), log, limits, exportDir);
  }

  /**
   * For the worker: like open, but a storage failure (a full disk) gives a warehouse that is down rather than an
   * error, so that the service starts, the receiver keeps acknowledging into Redis, and `recover` opens the file
   * once it can. Another process holding the file, or a damaged file, still throws.
   */
  static async openOrDown(path: string, limits: DuckDbLimits, log: Logger, exportDir?: string): Promise<Warehouse> {
    try {
      return await Warehouse.open(path, limits, log, exportDir);
    } catch (err) {
      const cause = err instanceof SyncError && err.cause !== undefined ? err.cause : err;
      if (!(err instanceof SyncError) || err.code !== ErrorCodes.WAREHOUSE || !isStorageFault(cause)) throw err;
      const db = new Warehouse(path, undefined, log, limits, exportDir);
      db.fault = { reason: reasonOf(cause), since: new Date(), reopen: true, lastFailure: Date.now() };
      log.error(
        { err, warehouse: path },
        'the warehouse cannot be opened: starting without it, and opening it once the storage allows',
      );
      return db;
    }
  }

  health(): WarehouseHealth {
    this.settle();
    if (!this.fault) return { state: 'up' };
    return {
      state: 'down',
      reason: this.fault.reason,
      since: this.fault.since.toISOString(),
      reopening: this.fault.reopen,
    };
  }

  /** Runs `fn` as one transaction, after every write queued before it. */
  write<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.serialised(() => this.watched(true, (h) => inTransaction(h.writer, () => fn(h.writer))));
  }

  /** Appends staged rows (a page of a snapshot) without holding the writer for longer than that. */
  stage(table: StageTable, rows: Iterable<Cell[]>): Promise<number> {
    return this.serialised(() => this.watched(true, (h) => appendRows(h.writer, table, rows)));
  }

  /** Drops what a run staged, applied or not. */
  clearStaged(runId: string): Promise<void> {
    return this.serialised(() =>
      this.watched(true, async (h) => {
        for (const table of STAGE_TABLES)
          await h.writer.run(sqlFile('sync/stage-clear', { stage: ident(table) }), { run_id: runId });
      }),
    );
  }

  /** A read on a connection of its own, seeing what is committed. */
  read(sql: string, params: Params = {}): Promise<Row[]> {
    return this.watched(false, async (h) => {
      const connection = await h.instance.connect();
      try {
        return rowsOf(await connection.runAndReadAll(sql, params));
      } finally {
        connection.closeSync();
      }
    });
  }

  /** A fresh connection for callers that manage their own reads (queries with a timeout, exports). */
  connect(): Promise<DuckDBConnection> {
    return this.watched(false, (h) => h.instance.connect());
  }

  /**
   * Tells the warehouse about an error met on a connection of `connect()`. Only an invalidated handle takes it down:
   * an IO error there is about the caller's own files (an export folder that is full), not the warehouse's.
   */
  observe(err: unknown): void {
    if (isFatal(err)) this.noteFailure(err);
  }

  /**
   * Reopens the file after DuckDB invalidated it (or after it could not be opened at start). Returns true when the
   * warehouse is up. Runs between writes, never during one.
   */
  async recover(): Promise<boolean> {
    if (!this.fault?.reopen) return true;
    if (this.closed) return false;
    const reopened = await this.serialised(async () => {
      if (!this.fault?.reopen) return false;
      this.release();
      try {
        this.handle = await openHandle(this.path, this.limits, this.log, this.exportDir);
      } catch (err) {
        const cause = err instanceof SyncError && err.cause !== undefined ? err.cause : err;
        if (reasonOf(cause) !== this.fault.reason)
          this.log.warn({ err: cause }, 'the warehouse cannot be reopened yet');
        this.fault.reason = reasonOf(cause);
        return false;
      }
      this.log.info({ downSince: this.fault.since, reason: this.fault.reason }, 'warehouse reopened: writing again');
      this.fault = undefined;
      return true;
    });
    return reopened || this.fault === undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeQueue.catch(() => undefined);
    this.release();
  }

  /** Runs `fn` on the open handle; fails at once while the warehouse is down, and notes storage failures. */
  private async watched<T>(writing: boolean, fn: (handle: Handle) => Promise<T>): Promise<T> {
    if (this.fault?.reopen || !this.handle) throw new WarehouseDownError(this.path, this.fault?.reason ?? 'not open');
    try {
      const result = await fn(this.handle);
      if (writing && this.fault) this.fault.wroteAfter ??= Date.now();
      return result;
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
  }

  /** Ends a storage failure that did not invalidate the handle, once writes have gone through for QUIET_MS. */
  private settle(): void {
    const fault = this.fault;
    if (!fault || fault.reopen || fault.wroteAfter === undefined || Date.now() - fault.lastFailure < QUIET_MS) return;
    this.log.info({ downSince: fault.since, reason: fault.reason }, 'warehouse writable again');
    this.fault = undefined;
  }

  private noteFailure(err: unknown): void {
    if (err instanceof WarehouseDownError || !isStorageFault(err)) return;
    const fatal = isFatal(err);
    if (this.fault) {
      this.fault.lastFailure = Date.now();
      this.fault.wroteAfter = undefined;
      // the cause of an invalidation may be met after its consequence (on another connection): show the cause
      if (this.fault.reopen && isInvalidatedEarlier(this.fault.reason) && fatal && !isInvalidatedEarlier(err))
        this.fault.reason = reasonOf(err);
      if (this.fault.reopen || !fatal) return;
    }
    this.fault = {
      reason: reasonOf(err),
      since: this.fault?.since ?? new Date(),
      reopen: fatal,
      lastFailure: Date.now(),
    };
    if (fatal)
      this.log.error(
        { err, warehouse: this.path },
        'DuckDB invalidated the warehouse: reopening it once the storage allows',
      );
    else this.log.error({ err, warehouse: this.path }, 'the warehouse storage failed a write: trying again shortly');
  }

  /** Lets go of the handle (an invalidated one may refuse to close cleanly: it is dropped either way). */
  private release(): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    try {
      handle.writer.closeSync();
    } catch {
      // an invalidated handle: nothing more to do
    }
    try {
      handle.instance.closeSync();
    } catch {
      // as above
    }
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the warehouse is closed'));
    const run = this.writeQueue.then(fn);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Opens the file, migrates it, drops what an interrupted run left staged, and marks runs a killed process left
 * 'running' as interrupted.
 */
async function openHandle(
  path: string,
  limits: DuckDbLimits,
  log: Logger,
  exportDir: string | undefined,
): Promise<Handle> {
  const isNew = path !== ':memory:' && !existsSync(path);
  // a file we were creating when the disk was full is not a database: leave nothing that a retry would trip on
  const forgetNewFile = (): void => {
    if (isNew) for (const file of [path, `${path}.wal`]) rmSync(file, { force: true });
  };
  let instance: DuckDBInstance;
  try {
    instance = await openDuckDb(path, limits);
  } catch (err) {
    forgetNewFile();
    throw err;
  }
  try {
    const writer = await instance.connect();
    // dates of TIMESTAMPTZ values are UTC dates wherever the worker runs; local days are always explicit
    await writer.run("SET GLOBAL TimeZone = 'UTC'");
    await lockDown(writer, [`${path}.tmp`, ...(exportDir === undefined ? [] : [exportDir])]);
    await migrate(writer, log);
    await createViews(writer);
    for (const table of STAGE_TABLES) await writer.run(`DELETE FROM ${ident(table).text}`);
    const interrupted = (await writer.run(sqlFile('runs/mark-interrupted'), { finished_at: ts(new Date()) }))
      .rowsChanged;
    if (interrupted > 0)
      log.warn({ runs: interrupted }, 'runs cut short by a stopped process marked interrupted in sync_runs');
    return { instance, writer };
  } catch (err) {
    try {
      instance.closeSync();
    } catch {
      // already failing: the first error is the one to report
    }
    forgetNewFile();
    throw err instanceof SyncError
      ? err
      : new SyncError(ErrorCodes.WAREHOUSE, `cannot open the warehouse ${path}: ${errorMessage(err)}`, {
          cause: err,
          retryable: isStorageFault(err),
        });
  }
}

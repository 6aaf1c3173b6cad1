/**
 * The warehouse: one DuckDB file, owned by one process (the worker, or a command while no worker runs).
 * This class is the one interface the rest of the code reads and writes through, by verbs (land a push batch,
 * stage rows, apply a snapshot, record a run, status, export, query); no DuckDB connection or type leaves
 * src/warehouse/, so moving the warehouse elsewhere (Parquet + a DuckLake catalog) touches this folder only.
 * Every write goes through the private `write`, which serialises them: two transactions never interleave on the
 * file. Reads get their own short-lived connection and see what is committed.
 * When the storage fails (a full disk), the warehouse says so (`health`) rather than failing quietly; when DuckDB
 * invalidates the handle, `recover` opens the file again (faults.ts).
 */
import { lstatSync, rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { Config, ParquetCompression } from '../config.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { closeWithoutCheckpoint, inTransaction, lockDown, openDuckDb, ts, type DuckDbLimits } from './duckdb.js';
import { writeExport, type ExportOutcome, type PreviousExport } from './export.js';
import { WarehouseDownError, isFatal, isInvalidatedEarlier, isStorageFault, reasonOf } from './faults.js';
import { migrate } from './migrations.js';
import {
  landPushBatch,
  parkPush,
  pruneRetained,
  type PushBatch,
  type PushBatchOutcome,
  type Retention,
} from './pushes.js';
import { runReadOnlyQuery, type QueryLimits, type QueryResult } from './query/read-only.js';
import { landStagedReadings, type ReadingsOutcome } from './readings-store.js';
import { refreshRollup } from './rollup.js';
import { rowsOf, type Row } from './rows.js';
import * as runs from './runs.js';
import { applySettings } from './settings.js';
import * as snapshots from './snapshots.js';
import { ident, sqlFile } from './sql-files.js';
import { STAGE_TABLES, checkStageColumns, stage, type StageRow, type StageTable } from './stage-tables.js';
import { createViews } from './views.js';

type Params = Record<string, DuckDBValue>;
export type { Row };

/** What `status` shows of the warehouse: row counts, newest reading and push, and the latest run of each job. */
export interface WarehouseSizes {
  sizes: Row;
  lastRuns: Row[];
}

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

  // ---- pushes: the writer's hot path

  /** Lands a group-commit batch of pushes in one transaction (pushes.ts). */
  landPushBatch(batch: PushBatch): Promise<PushBatchOutcome> {
    return this.write((c) => landPushBatch(c, batch));
  }

  /** Keeps one push the writer cannot store in rejected_pushes, verbatim with the reason. */
  parkPush(receivedAt: Date, reason: string, body: string): Promise<void> {
    return this.write((c) => parkPush(c, receivedAt, reason, body));
  }

  /**
   * Drops what is past its retention (RAW_PUSH_RETENTION_DAYS, REJECTED_PUSH_RETENTION_DAYS,
   * READING_CONFLICT_RETENTION_DAYS) in one transaction; returns how many rows of each table.
   */
  pruneRetained(before: Retention): Promise<Record<keyof Retention, number>> {
    return this.write((c) => pruneRetained(c, before));
  }

  // ---- pulls: stage pages, then apply the snapshot in one short transaction (snapshots.ts)

  /** Appends staged rows (a page of a snapshot), by column name, without holding the writer longer than that. */
  stage<T extends StageTable>(table: T, rows: Iterable<StageRow<T>>): Promise<number> {
    return this.serialised(() => this.watched(true, (h) => stage(h.writer, table, rows)));
  }

  /** Lands the readings a run staged, idempotently (readings-store.ts). */
  landStagedReadings(runId: string): Promise<ReadingsOutcome> {
    return this.write((c) => landStagedReadings(c, runId));
  }

  applyProbeSnapshot(opts: snapshots.ProbeSnapshotOptions): Promise<snapshots.ProbeSnapshotOutcome> {
    return this.write((c) => snapshots.applyProbeSnapshot(c, opts));
  }

  applyLocations(opts: snapshots.GuardedOptions): Promise<snapshots.GuardedCounts> {
    return this.write((c) => snapshots.applyLocations(c, opts));
  }

  applyCustomers(opts: snapshots.GuardedOptions): Promise<snapshots.CustomersOutcome> {
    return this.write((c) => snapshots.applyCustomers(c, opts));
  }

  applyParameters(opts: snapshots.ApplyOptions & { language: string }): Promise<snapshots.ParametersOutcome> {
    return this.write((c) => snapshots.applyParameters(c, opts));
  }

  // ---- runs, gaps and backfills (runs.ts)

  startRun(run: runs.RunStart): Promise<void> {
    return this.write((c) => runs.startRun(c, run));
  }

  finishRun(run: runs.RunEnd): Promise<void> {
    return this.write((c) => runs.finishRun(c, run));
  }

  staleProbes(window: { staleBefore: Date; lookbackFrom: Date }): Promise<(runs.ProbeRef & { gapFrom: Date })[]> {
    return this.reading((c) => runs.staleProbes(c, window));
  }

  backfillProbes(serial: string | undefined): Promise<runs.ProbeRef[]> {
    return this.reading((c) => runs.backfillProbes(c, serial));
  }

  backfillChunksDone(backfillId: string): Promise<{ serial: string; from: Date }[]> {
    return this.reading((c) => runs.backfillChunksDone(c, backfillId));
  }

  recordBackfillChunk(chunk: runs.BackfillChunk): Promise<void> {
    return this.write((c) => runs.recordBackfillChunk(c, chunk));
  }

  // ---- upkeep, status, export and the read-only door

  /** Rolls the marked probe-days up again, in a transaction of its own (rollup.ts); returns rows written. */
  refreshRollup(): Promise<number> {
    return this.write((c) => refreshRollup(c));
  }

  /** Writes what of the configuration the views read (settings.ts), then refreshes the rollup. */
  async applySettings(config: Config): Promise<void> {
    await this.write((c) => applySettings(c, config, this.log));
    await this.refreshRollup();
  }

  async sizes(): Promise<WarehouseSizes> {
    const [sizes] = await this.read(sqlFile('status/sizes'));
    return { sizes: sizes ?? {}, lastRuns: await this.read(sqlFile('status/last-runs')) };
  }

  /** When each job last succeeded. */
  async lastSuccesses(): Promise<{ job: string; finishedAt: Date }[]> {
    const rows = await this.read(sqlFile('status/last-successes'));
    return rows.map((r) => ({ job: String(r.job), finishedAt: new Date(String(r.finished_at)) }));
  }

  /** Writes a snapshot file and Parquet into `dir` (export.ts), reusing what `previous` holds unchanged. */
  writeExport(dir: string, codec: ParquetCompression, previous?: PreviousExport): Promise<ExportOutcome> {
    return this.ownConnection((c) => writeExport(c, dir, codec, previous));
  }

  /**
   * `query`'s door (query/read-only.ts): one bounded, allowlisted SELECT; the web page's own SQL comes through it
   * too, with its values bound as `params`.
   */
  query(sql: string, limits: QueryLimits, params?: Record<string, DuckDBValue>): Promise<QueryResult> {
    return runReadOnlyQuery(() => this.watched(false, (h) => h.instance.connect()), sql, limits, params);
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

  /** Runs `fn` as one transaction, after every write queued before it. */
  private write<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.serialised(() => this.watched(true, (h) => inTransaction(h.writer, () => fn(h.writer))));
  }

  /** Reads on a connection of its own, seeing what is committed. */
  private reading<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.watched(false, async (h) => {
      const connection = await h.instance.connect();
      try {
        return await fn(connection);
      } finally {
        connection.closeSync();
      }
    });
  }

  /** One SQL text read as plain rows (status; tests reach it as db['read'] through test/helpers/warehouse.ts). */
  private read(sql: string, params: Params = {}): Promise<Row[]> {
    return this.reading(async (c) => rowsOf(await c.runAndReadAll(sql, params)));
  }

  /**
   * Work on a connection of its own that may also touch files of the caller (an export folder). Only an
   * invalidated handle takes the warehouse down: an IO error there is about those files (a full export folder).
   */
  private async ownConnection<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.watched(false, (h) => h.instance.connect());
    try {
      return await fn(connection);
    } catch (err) {
      if (isFatal(err)) this.noteFailure(err);
      throw err;
    } finally {
      connection.closeSync();
    }
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
  // nothing at all at the path, not even a link (one to a disk not mounted yet is the user's, and stays)
  const isNew = path !== ':memory:' && nothingAt(path);
  // a file we were creating when the disk was full is not a database: leave nothing that a retry would trip on
  const forgetNewFile = (): void => {
    if (!isNew) return;
    for (const file of [path, `${path}.wal`]) {
      try {
        rmSync(file, { force: true });
      } catch {
        // nothing of ours to remove (a parent that is not a folder): the error that matters is the open's
      }
    }
  };
  let instance: DuckDBInstance;
  try {
    instance = await openDuckDb(path, limits);
  } catch (err) {
    forgetNewFile();
    throw err;
  }
  let writer: DuckDBConnection | undefined;
  try {
    writer = await instance.connect();
    // dates of TIMESTAMPTZ values are UTC dates wherever the worker runs; local days are always explicit
    await writer.run("SET GLOBAL TimeZone = 'UTC'");
    await lockDown(writer, [`${path}.tmp`, ...(exportDir === undefined ? [] : [exportDir])]);
    await migrate(writer, log);
    await checkStageColumns(writer);
    await createViews(writer);
    for (const table of STAGE_TABLES) await writer.run(`DELETE FROM ${ident(table).text}`);
    const interrupted = (await writer.run(sqlFile('runs/mark-interrupted'), { finished_at: ts(new Date()) }))
      .rowsChanged;
    if (interrupted > 0)
      log.warn({ runs: interrupted }, 'runs cut short by a stopped process marked interrupted in sync_runs');
    return { instance, writer };
  } catch (err) {
    // the writer too: an instance lives on, and holds the file, until its last connection closes
    await closeWithoutCheckpoint(instance, writer === undefined ? [] : [writer]);
    forgetNewFile();
    throw err instanceof SyncError
      ? err
      : new SyncError(
          ErrorCodes.WAREHOUSE,
          `cannot open the warehouse ${path} (WAREHOUSE_PATH): ${errorMessage(err)}`,
          {
            cause: err,
            retryable: isStorageFault(err),
          },
        );
  }
}

/** Nothing at the path, not even a link; a parent that is not a folder counts as nothing (the open then says so). */
function nothingAt(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return true;
  }
}

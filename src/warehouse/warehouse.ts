/**
 * The warehouse: one DuckDB file, owned by one process (the worker, or a command while no worker runs).
 * Every write goes through `write`, which serialises them: two transactions never interleave on the file.
 * Reads get their own short-lived connection and see what is committed.
 * This class is the one interface the rest of the code writes through, so moving the warehouse elsewhere
 * (Parquet + a DuckLake catalog) touches this module only.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { Logger } from '../logger.js';
import { appendRows, type Cell } from './appender.js';
import { inTransaction, lockDown, openDuckDb, type DuckDbLimits } from './duckdb.js';
import { migrate } from './migrations.js';
import { rowsOf, type Row } from './rows.js';
import { createViews } from './views.js';
import { ident, sqlFile } from './sql-files.js';

export const STAGE_TABLES = [
  'stage_probes', 'stage_locations', 'stage_customers', 'stage_parameters', 'stage_customer_probes', 'stage_readings', 'stage_pushes', 'stage_status',
  'stage_uplink_extras',
] as const;
export type StageTable = (typeof STAGE_TABLES)[number];

export type Params = Record<string, DuckDBValue>;
export type { Row };

export class Warehouse {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly log: Logger,
  ) {}

  /** Opens (creating if needed) and migrates the file; drops what an interrupted run left staged. */
  /** `exportDir`: where publishing may write; no other file outside the warehouse's own can be touched. */
  static async open(path: string, limits: DuckDbLimits, log: Logger, exportDir?: string): Promise<Warehouse> {
    const instance = await openDuckDb(path, limits);
    const writer = await instance.connect();
    // dates of TIMESTAMPTZ values are UTC dates wherever the worker runs; local days are always explicit
    await writer.run("SET GLOBAL TimeZone = 'UTC'");
    await lockDown(writer, [`${path}.tmp`, ...(exportDir === undefined ? [] : [exportDir])]);
    await migrate(writer, log);
    await createViews(writer);
    for (const table of STAGE_TABLES) await writer.run(`DELETE FROM ${ident(table).text}`);
    return new Warehouse(path, instance, writer, log);
  }

  /** Runs `fn` as one transaction, after every write queued before it. */
  write<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.serialised(() => inTransaction(this.writer, () => fn(this.writer)));
  }

  /** Appends staged rows (a page of a snapshot) without holding the writer for longer than that. */
  stage(table: StageTable, rows: Iterable<Cell[]>): Promise<number> {
    return this.serialised(() => appendRows(this.writer, table, rows));
  }

  /** Drops what a run staged, applied or not. */
  clearStaged(runId: string): Promise<void> {
    return this.serialised(async () => {
      for (const table of STAGE_TABLES) await this.writer.run(sqlFile('sync/stage-clear', { stage: ident(table) }), { run_id: runId });
    });
  }

  /** A read on a connection of its own, seeing what is committed. */
  async read(sql: string, params: Params = {}): Promise<Row[]> {
    const connection = await this.instance.connect();
    try {
      return rowsOf(await connection.runAndReadAll(sql, params));
    } finally {
      connection.closeSync();
    }
  }

  /** A fresh connection for callers that manage their own reads (queries with a timeout, exports). */
  connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeQueue.catch(() => undefined);
    this.writer.closeSync();
    this.instance.closeSync();
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the warehouse is closed'));
    const run = this.writeQueue.then(fn);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }
}

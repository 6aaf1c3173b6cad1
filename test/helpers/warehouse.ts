/**
 * Raw SQL on a Warehouse, for tests only. Product code reaches the warehouse through its verbs and never sees SQL
 * or a DuckDB connection (src/warehouse/warehouse.ts); a test also reads tables directly and sets up states no verb
 * makes (a row changed by hand, a full disk). These helpers reach the warehouse's private members on purpose
 * (TypeScript allows that through element access), so that every statement still goes through the writer's
 * serialisation and fault watch.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { isFatal } from '../../src/warehouse/faults.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { Warehouse, type Row } from '../../src/warehouse/warehouse.js';

type Params = Record<string, DuckDBValue>;

/** A new, empty warehouse at `path` (migrated, as the service's first start leaves it), closed again. */
export async function createWarehouse(path: string, config: Pick<Config, 'duckdb'>): Promise<void> {
  await (await Warehouse.open(path, config.duckdb, createLogger('silent'))).close();
}

/** The rows of one SELECT, on a connection of its own, as plain JS values (src/warehouse/rows.ts). */
export function readRows(db: Warehouse, sql: string, params: Params = {}): Promise<Row[]> {
  return db['read'](sql, params);
}

/** One statement in a write transaction of its own, queued behind every write before it; returns rows changed. */
export function runSql(db: Warehouse, sql: string, params: Params = {}): Promise<number> {
  return db['write'](async (c) => (await c.run(sql, params)).rowsChanged);
}

/**
 * One statement on a connection of its own, outside the writer, the warehouse not told if it fails (as a reader
 * that met a storage fault and has not said so yet); returns the error, if any.
 */
export async function runAside(db: Warehouse, sql: string): Promise<unknown> {
  const connection = await db['watched'](false, (h) => h.instance.connect());
  try {
    await connection.run(sql);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    connection.closeSync();
  }
}

/** Tells the warehouse of an error met aside, as its own connections do: only an invalidated handle counts. */
export function tellWarehouse(db: Warehouse, err: unknown): void {
  if (isFatal(err)) db['noteFailure'](err);
}

/** The rows of one SELECT as DuckDB's own JSON values, to compare with another DuckDB's answer (an export's). */
export function readJson(db: Warehouse, sql: string): Promise<unknown[]> {
  return db['reading'](async (c) => (await c.runAndReadAll(sql)).getRowObjectsJson());
}

/**
 * Raw SQL on a Warehouse, for benchmarks only (as test/helpers/warehouse.ts is for tests): the product reaches the
 * warehouse through its verbs, a benchmark also builds a large warehouse with one INSERT and counts rows. These
 * reach the warehouse's private members on purpose (TypeScript allows that through element access), so every
 * statement still goes through the writer's serialisation.
 */
import type { Row, Warehouse } from '../../src/warehouse/warehouse.js';

/** The rows of one SELECT, as plain JS values. */
export function readRows(db: Warehouse, sql: string): Promise<Row[]> {
  return db['read'](sql);
}

/** One statement in a write transaction of its own; returns rows changed. */
export function runSql(db: Warehouse, sql: string): Promise<number> {
  return db['write'](async (c) => (await c.run(sql)).rowsChanged);
}

/** Reads every row of one SELECT into the process, on a connection of its own; returns how many. */
export function readAll(db: Warehouse, sql: string): Promise<number> {
  return db['reading'](async (c) => (await c.runAndReadAll(sql)).currentRowCount);
}

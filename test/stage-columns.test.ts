/**
 * Stage rows are built by column name and fed to DuckDB in the order src/warehouse/stage-tables.ts declares; a
 * warehouse whose stage table a migration changed (a column added, dropped or moved) is refused when it opens,
 * with one error that names the table and both column lists, instead of landing values in the wrong columns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SyncError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { STAGE_COLUMNS } from '../src/warehouse/stage-tables.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { readRows, runSql } from './helpers/warehouse.js';

const LIMITS = { memoryLimit: '256MB', threads: 1 };
const silent = createLogger('silent');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function warehousePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-stage-columns-'));
  dirs.push(dir);
  return join(dir, 'warehouse.duckdb');
}

describe('stage tables', () => {
  it('stage each value in the column it is named for', async () => {
    const db = await Warehouse.open(warehousePath(), LIMITS, silent);
    try {
      await db.stage('stage_customers', [{ run_id: 'r1', id: 7, name: 'Acme', email: null, raw: '{"id":7}' }]);
      expect(await readRows(db, 'SELECT run_id, id, name, email, raw::VARCHAR AS raw FROM stage_customers')).toEqual([
        { run_id: 'r1', id: 7, name: 'Acme', email: null, raw: '{"id":7}' },
      ]);
    } finally {
      await db.close();
    }
  });

  it('refuse to open a warehouse whose stage table a migration changed, naming the table and both column lists', async () => {
    const path = warehousePath();
    const db = await Warehouse.open(path, LIMITS, silent);
    // unit moved to the end, as a migration that dropped and added it again would leave it
    await runSql(db, 'ALTER TABLE stage_readings DROP COLUMN unit');
    await runSql(db, 'ALTER TABLE stage_readings ADD COLUMN unit VARCHAR');
    await db.close();

    const err = await Warehouse.open(path, LIMITS, silent).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe(ErrorCodes.STAGE_COLUMNS);
    const found = [...STAGE_COLUMNS.stage_readings.filter((c) => c !== 'unit'), 'unit'];
    expect((err as SyncError).message).toContain(
      `the warehouse's stage_readings has the columns (${found.join(', ')}), this build stages (${STAGE_COLUMNS.stage_readings.join(', ')})`,
    );
  });
});

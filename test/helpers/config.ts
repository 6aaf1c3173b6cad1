/** A configuration for one test: its own warehouse file, export folder and queue prefix on the shared Redis. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Config } from '../../src/config.js';
import { SCHEDULED_JOBS } from '../../src/job-runtime/registry.js';
import { loadConfig } from '../../src/service/load-config.js';

export interface TestPlace {
  dir: string;
  prefix: string;
  env: Record<string, string>;
  config: Config;
  cleanup(): void;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Every schedule off unless the test names one: a service in a test runs on the wall clock, and a pull that fires at
 * the quarter hour in the middle of a test would land rows the test never asked for.
 */
const NO_SCHEDULES = Object.fromEntries(Object.values(SCHEDULED_JOBS).map((job) => [job.variable, 'off']));

/** The schedules a service starts with when nothing is configured, for a test about them. */
export const DEFAULT_SCHEDULES = Object.fromEntries(
  Object.values(SCHEDULED_JOBS).map((job) => [job.variable, job.default]),
);

/**
 * A test's own place: a fresh folder, a queue prefix nobody else uses, and a configuration pointing at them.
 * At WAREHOUSE_PATH there is nothing (`warehouse: 'none'`, the default: the first open creates and migrates it), or
 * a copy of the warehouse test/global-setup.ts migrated for the run (`'migrated'`: what the first open would have
 * made, without migrating it again). A WAREHOUSE_PATH that `env` names is left to the test either way.
 */
export function testPlace(env: Record<string, string> = {}, opts: { warehouse?: 'none' | 'migrated' } = {}): TestPlace {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-sync-test-'));
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const full = {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WAREHOUSE_PATH: join(dir, 'warehouse.duckdb'),
    EXPORT_DIR: join(dir, 'export'),
    DUCKDB_MEMORY_LIMIT: '512MB',
    // a test's tables are a row group or less, which DuckDB scans with one thread anyway: a second one only costs
    // its wake-ups (7% of the suite's CPU); the default of 2 runs in the benchmarks and in demo.test.ts (`demo`)
    DUCKDB_THREADS: '1',
    LOG_LEVEL: 'silent',
    ...NO_SCHEDULES,
    ...env,
  };
  let config: Config;
  try {
    config = loadConfig(full);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true }); // a test of a refused configuration leaves no folder behind
    throw err;
  }
  // a WAREHOUSE_PATH the test chose (a small disk, a folder it makes) is the test's to fill
  if (opts.warehouse === 'migrated' && env.WAREHOUSE_PATH === undefined) migratedWarehouseAt(config.warehousePath);
  return {
    dir,
    prefix,
    env: full,
    config,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Puts a copy of the run's migrated warehouse (test/global-setup.ts) at `path`. */
export function migratedWarehouseAt(path: string): void {
  const migrated = inject('migratedWarehouse') as string | undefined;
  if (migrated === undefined)
    throw new Error('no migrated warehouse to copy: test/global-setup.ts makes it, under vitest.config.ts');
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(migrated, path);
}

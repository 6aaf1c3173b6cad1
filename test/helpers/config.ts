/** A configuration for one test: its own warehouse file, export folder and queue prefix on the shared Redis. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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

export function testPlace(env: Record<string, string> = {}): TestPlace {
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
  return {
    dir,
    prefix,
    env: full,
    config: loadConfig(full),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

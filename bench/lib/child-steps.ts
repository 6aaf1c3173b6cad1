/** What the benchmarks' child processes share: the configuration of a bench warehouse, and timing a step. */
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/service/load-config.js';

/** The configuration of the bench warehouse in `dir` (the API, when given, is the simulator's). */
export function configFor(dir: string, api: Record<string, string> = {}): Config {
  return loadConfig({
    WAREHOUSE_PATH: join(dir, 'warehouse.duckdb'),
    EXPORT_DIR: join(dir, 'export'),
    SENSOTERRA_RATE_LIMIT: '1000',
    ...api,
  });
}

/** The value of `fn` and how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

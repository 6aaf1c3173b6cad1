/**
 * What the benchmarks' child processes share: the configuration of a bench warehouse, a warehouse with an account
 * pulled from the simulator, and timing a step.
 */
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { runJob } from '../../src/job-runtime/runner.js';
import type { Logger } from '../../src/logger.js';
import { SensoterraClient } from '../../src/sensoterra/client.js';
import { loadConfig } from '../../src/service/load-config.js';
import { Simulator, generateAccount } from '../../src/simulator/index.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';

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

/**
 * The bench warehouse in `dir`, with a generated account (`seed`, `probes` of `customers`) pulled from the simulator
 * through the real jobs, on the simulator's clock at `now`: the metadata as a sync writes it, for the caller to add
 * readings to. close() closes the warehouse and stops the simulator.
 */
export async function syncedWarehouse(
  dir: string,
  account: { seed: number; probes: number; customers: number; now: Date },
  log: Logger,
): Promise<{ db: Warehouse; syncMs: number; close: () => Promise<void> }> {
  const sim = await Simulator.start({
    account: generateAccount({ seed: account.seed, probes: account.probes, customers: account.customers }),
    now: account.now,
  });
  const config = configFor(dir, {
    SENSOTERRA_API_URL: sim.url,
    SENSOTERRA_EMAIL: sim.account.account.email,
    SENSOTERRA_PASSWORD: sim.account.account.password,
  });
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config);
  const client = new SensoterraClient(config, log);
  const [, syncMs] = await timed(async () => {
    for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
      await runJob(job, {}, { db, config, log, api: () => client }, { trigger: 'command' });
  });
  await client.close();
  return {
    db,
    syncMs,
    close: async () => {
      await db.close();
      await sim.close();
    },
  };
}

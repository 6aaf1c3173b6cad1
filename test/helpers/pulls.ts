/** A warehouse on a temporary file and a client pointed at a running simulator, for tests of the pulls. */
import { createLogger } from '../../src/logger.js';
import { runJob, type JobDeps, type RunReport } from '../../src/job-runtime/runner.js';
import { SensoterraClient, type ClientOptions } from '../../src/sensoterra/client.js';
import type { Simulator } from '../../src/simulator/index.js';
import { Warehouse, type Row } from '../../src/warehouse/warehouse.js';
import { testPlace, type TestPlace } from './config.js';
import { readRows } from './warehouse.js';

export interface PullBench {
  place: TestPlace;
  db: Warehouse;
  deps: JobDeps;
  client: SensoterraClient;
  run(job: string): Promise<RunReport>;
  rows(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

export const FAST_RETRIES: ClientOptions['retry'] = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

export function apiEnv(sim: Simulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SENSOTERRA_API_URL: sim.url,
    SENSOTERRA_EMAIL: sim.account.account.email,
    SENSOTERRA_PASSWORD: sim.account.account.password,
    SENSOTERRA_RATE_LIMIT: '1000',
    ...extra,
  };
}

export async function pullBench(
  sim: Simulator,
  env: Record<string, string> = {},
  clientOptions: ClientOptions = {},
): Promise<PullBench> {
  const place = testPlace(apiEnv(sim, env), { warehouse: 'migrated' });
  const log = createLogger('silent');
  const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, log);
  const client = new SensoterraClient(place.config, log, { retry: FAST_RETRIES, ...clientOptions });
  const deps: JobDeps = { db, config: place.config, log, api: () => client };
  return {
    place,
    db,
    deps,
    client,
    run: (job) => runJob(job, {}, deps, { trigger: 'command' }),
    rows: (sql) => readRows(db, sql),
    async close() {
      await client.close();
      await db.close();
      place.cleanup();
    },
  };
}

/** Every table a pull writes, whole and in a stable order: to show that a second run changed nothing. */
export async function tablesSnapshot(bench: PullBench): Promise<Record<string, unknown[]>> {
  const tables = [
    'probes',
    'probe_history',
    'probe_status',
    'readings',
    'reading_conflicts',
    'locations',
    'customers',
    'customer_probes',
    'soil_types',
    'soil_type_history',
    'parameters',
  ];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await bench.rows(`SELECT * FROM ${t} ORDER BY ALL`);
  return out;
}

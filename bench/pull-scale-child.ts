/**
 * The work of the pull-scale benchmark, in a process of its own so that its peak memory is the pull's: the sync of
 * catalogs, locations and customers first (as `sync all` runs them before), then `sync-probes` of the whole account
 * from the simulator the parent runs, at SENSOTERRA_RATE_LIMIT, into a new warehouse in DIR.
 * Usage: node pull-scale-child.js DIR API_URL EMAIL PASSWORD RATE_LIMIT [DUCKDB_MEMORY_LIMIT]. Progress on stderr as "[progress] ..."
 * lines; prints one JSON line of figures on stdout: the probes read, the sync's time, VmHWM and CPU seconds.
 */
import { configFor, cpuSeconds, peakMb, progress, timed, type Figures } from './lib/child-steps.js';
import { readRows } from './lib/warehouse-sql.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { SensoterraClient } from '../src/sensoterra/client.js';
import { Warehouse } from '../src/warehouse/warehouse.js';

const log = createLogger('warn');

async function pull(
  dir: string,
  url: string,
  email: string,
  password: string,
  rate: string,
  memoryLimit: string | undefined,
): Promise<Figures> {
  const config = configFor(dir, {
    SENSOTERRA_API_URL: url,
    SENSOTERRA_EMAIL: email,
    SENSOTERRA_PASSWORD: password,
    SENSOTERRA_RATE_LIMIT: rate,
    ...(memoryLimit === undefined ? {} : { DUCKDB_MEMORY_LIMIT: memoryLimit }),
  });
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config);
  const client = new SensoterraClient(config, log);
  const deps = { db, config, log, api: () => client };
  const run = async (job: string): Promise<void> => {
    const report = await runJob(job, {}, deps, { trigger: 'command' });
    if (report.status !== 'succeeded') throw new Error(`${job} failed: ${report.error ?? 'no reason given'}`);
  };
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers']) await run(job);
  progress('sync-probes');
  const [, probesMs] = await timed(() => run('sync-probes'));
  const [{ probes }] = (await readRows(db, 'SELECT count(*) AS probes FROM probes')) as [{ probes: bigint }];
  await client.close();
  await db.close();
  return { probes: Number(probes), probesMs, peakMb: peakMb(), cpuSeconds: cpuSeconds() };
}

const [dir, url, email, password, rate, memoryLimit] = process.argv.slice(2);
if (!dir || !url || !email || !password || !rate) {
  process.stderr.write('usage: pull-scale-child.js DIR API_URL EMAIL PASSWORD RATE_LIMIT [DUCKDB_MEMORY_LIMIT]\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await pull(dir, url, email, password, rate, memoryLimit))}\n`);

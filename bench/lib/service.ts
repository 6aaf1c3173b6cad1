/**
 * The service under test, as an operator runs it: `node dist/src/cli/main.js start --role <role>` (or, with `bin`,
 * the command `npx sensoterra-sync start` runs: bin/sensoterra-sync.js, with its own `#!` line's settings) in a
 * child process, configured only through its environment, on the bench's own queue prefix and files.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SCHEDULED_JOBS } from '../../src/job-runtime/registry.js';
import { logLine, startChild, type Child } from './children.js';
import { REDIS_URL } from './queue.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/sensoterra-sync.js', import.meta.url));

/** DuckDB settings passed through from the bench's environment; unset means the service's defaults. */
export const DUCKDB_SETTINGS = {
  memoryLimit: process.env.DUCKDB_MEMORY_LIMIT ?? '1GB (default)',
  threads: process.env.DUCKDB_THREADS ?? '2 (default)',
};

export interface ServiceOptions {
  role: 'all' | 'receiver' | 'worker';
  prefix: string;
  /** Working directory: the warehouse, the export and nothing else of the bench's go here. */
  dir: string;
  env?: Record<string, string>;
  profileDir?: string;
  /** Extra node flags (experiments: --import a probe, --max-old-space-size, ...); not with `bin`. */
  nodeArgs?: string[];
  /** Started through bin/sensoterra-sync.js, as `npx sensoterra-sync start` starts it (the README's way). */
  bin?: boolean;
}

export interface Service {
  child: Child<string>;
  /** The push URL, e.g. http://127.0.0.1:41234/push. */
  pushUrl: string;
  secret: string;
}

export async function startService(opts: ServiceOptions): Promise<Service> {
  const secret = randomBytes(16).toString('hex');
  const child = await startChild({
    name: `service (--role ${opts.role})`,
    script: opts.bin ? BIN : CLI,
    executable: opts.bin,
    args: ['start', '--role', opts.role],
    nodeArgs: [
      ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []),
      ...(opts.nodeArgs ?? []),
    ],
    cwd: opts.dir,
    env: { ...serviceEnv(opts), PUSH_SECRET: secret },
    // the receiver starts last (after the writer, with --role all): its "listening" line means the service is up
    ready: (line) => {
      const entry = logLine(line, 'push receiver listening');
      return entry ? `${String(entry.url)}${String(entry.path)}` : undefined;
    },
  });
  return { child, pushUrl: child.value, secret };
}

function serviceEnv(opts: ServiceOptions): Record<string, string> {
  // Scheduled pulls are off: they would land at clock-dependent moments and make two runs incomparable.
  const schedules = Object.fromEntries(Object.values(SCHEDULED_JOBS).map((s) => [s.variable, 'off']));
  const duckdb: Record<string, string> = {};
  if (process.env.DUCKDB_MEMORY_LIMIT) duckdb.DUCKDB_MEMORY_LIMIT = process.env.DUCKDB_MEMORY_LIMIT;
  if (process.env.DUCKDB_THREADS) duckdb.DUCKDB_THREADS = process.env.DUCKDB_THREADS;
  return {
    PATH: process.env.PATH ?? '',
    REDIS_URL,
    QUEUE_PREFIX: opts.prefix,
    WAREHOUSE_PATH: `${opts.dir}/warehouse.duckdb`,
    EXPORT_DIR: `${opts.dir}/export`,
    PUSH_HOST: '127.0.0.1',
    PUSH_PORT: '0',
    LOG_LEVEL: 'info',
    ...schedules,
    ...duckdb,
    ...opts.env,
  };
}

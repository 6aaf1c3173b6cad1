/**
 * A command's way to the warehouse: through the running worker when it holds the warehouse the command names,
 * otherwise by opening the file itself for the duration of the command (DuckDB's lock stops it if another process
 * on this host holds the file). What the file needs (DuckDB, the job handlers, an API client) is loaded only when
 * the command opens it: a command the worker answers does without them (half a second of CPU per command).
 */
import { existsSync } from 'node:fs';
import { requireApiCredentials, type Config } from '../config.js';
import type { JobDeps } from '../job-runtime/runner.js';
import type { Logger } from '../logger.js';
import type { SensoterraClient } from '../sensoterra/client.js';
import { ErrorCodes, SyncError, redactUrl } from '../errors.js';
import { HEARTBEAT_INTERVAL_MS } from '../job-runtime/queues.js';
import { answerText, askWorker, findWorker } from './channel.js';
import { warehouseIdentity } from './heartbeat.js';

export interface CommandOptions {
  timeoutMs: number;
  onProgress?: (progress: unknown) => void;
}

export async function viaWorkerOrLocally<T>(
  config: Config,
  log: Logger,
  kind: string,
  payload: unknown,
  opts: CommandOptions,
): Promise<T> {
  const ask = (): Promise<T> => askWorker<T>(config, kind, payload, { ...opts, log });
  const { beat, redisDown } = await findWorker(config);
  if (beat?.warehouse === warehouseIdentity(config.warehousePath)) {
    log.debug({ kind }, 'asking the running worker');
    return ask();
  }
  // no worker, or one that holds another warehouse (another WAREHOUSE_PATH on the same prefix): this file is ours
  log.debug({ kind, worker: beat?.warehouse }, 'no worker holds this warehouse: opening it here');
  checkBeforeOpening(kind, config);
  try {
    const { controlHandlers } = await import('./handlers.js');
    const result = await withLocalDeps(config, log, (deps) =>
      controlHandlers(deps)[kind]!(payload, opts.onProgress ?? (() => undefined)),
    );
    answerText(result, config); // the same bound on an answer as through the worker
    return result as T;
  } catch (err) {
    if (!(err instanceof SyncError) || err.code !== ErrorCodes.WAREHOUSE_LOCKED) throw err;
    if (redisDown) throw heldButRedisDown(config, err);
    // Redis answers, but no worker said it holds the file: one that has just reconnected (Redis restarted, and
    // keeps nothing) says so again within a heartbeat or two
    if (await workerAppears(config, WORKER_REAPPEARS_MS)) return ask();
    throw heldByNoWorkerWeKnow(config, err);
  }
}

/**
 * What a request run here needs before the file is opened (opening creates a warehouse where there is none). Only
 * `sync` may start one: the first pull is how a warehouse begins. The others, at a WAREHOUSE_PATH with a typo,
 * would answer from (or publish) an empty warehouse made there.
 */
const NEEDS: Record<string, { warehouse: boolean; credentials: boolean }> = {
  sync: { warehouse: false, credentials: true },
  backfill: { warehouse: true, credentials: true },
  query: { warehouse: true, credentials: false },
  status: { warehouse: true, credentials: false },
  export: { warehouse: true, credentials: false },
  // a change already made at Sensoterra: recorded, into a new warehouse if need be, rather than lost
  'probe-changed': { warehouse: false, credentials: false },
};

function checkBeforeOpening(kind: string, config: Config): void {
  const needs = NEEDS[kind] ?? { warehouse: true, credentials: false };
  if (needs.credentials) requireApiCredentials(config);
  if (needs.warehouse && !existsSync(config.warehousePath)) {
    throw new SyncError(
      ErrorCodes.NOT_FOUND,
      `there is no warehouse at ${config.warehousePath}, and no running worker holds one there: check WAREHOUSE_PATH (a first sync, or the service's first start, creates the warehouse)`,
    );
  }
}

/** How long a command waits for a worker's heartbeat when the file is held and Redis knows of no worker. */
const WORKER_REAPPEARS_MS = 2 * HEARTBEAT_INTERVAL_MS + 500;

async function workerAppears(config: Config, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const { beat } = await findWorker(config);
    if (beat?.warehouse === warehouseIdentity(config.warehousePath)) return true;
  }
  return false;
}

function heldButRedisDown(config: Config, locked: SyncError): SyncError {
  return new SyncError(
    ErrorCodes.WAREHOUSE_LOCKED,
    `the warehouse ${config.warehousePath} is held by another process, and Redis at ${redactUrl(config.redisUrl)} does not answer: a running worker is asked through Redis, so check REDIS_URL (this command's and the worker's must be the same)`,
    { cause: locked },
  );
}

function heldByNoWorkerWeKnow(config: Config, locked: SyncError): SyncError {
  return new SyncError(
    ErrorCodes.WAREHOUSE_LOCKED,
    `the warehouse ${config.warehousePath} is held by another process, and no worker says so in Redis at ${redactUrl(config.redisUrl)} under QUEUE_PREFIX=${config.queuePrefix}: if the service runs, give this command its REDIS_URL and QUEUE_PREFIX; otherwise another program has the file open`,
    { cause: locked },
  );
}

/** Opens the warehouse (and, on first use, an API client) for one piece of work, and closes both after. */
async function withLocalDeps<T>(config: Config, log: Logger, fn: (deps: JobDeps) => Promise<T>): Promise<T> {
  const [{ Warehouse }, { SensoterraClient }] = await Promise.all([
    import('../warehouse/warehouse.js'),
    import('../sensoterra/client.js'),
  ]);
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await db.applySettings(config);
  let client: SensoterraClient | undefined;
  try {
    return await fn({ db, config, log, api: () => (client ??= new SensoterraClient(config, log)) });
  } finally {
    await client?.close();
    await db.close();
  }
}

/**
 * A command's way to the warehouse: through the running worker when it holds the warehouse the command names,
 * otherwise by opening the file itself for the duration of the command (DuckDB's lock stops it if another process
 * on this host holds the file).
 */
import type { Config } from '../config.js';
import type { JobDeps } from '../job-runner.js';
import type { Logger } from '../logger.js';
import { SensoterraClient } from '../sensoterra/client.js';
import { applySettings } from '../warehouse/settings.js';
import { Warehouse } from '../warehouse/warehouse.js';
import { askWorker, findWorker } from './channel.js';
import { warehouseIdentity } from './heartbeat.js';
import { controlHandlers } from './handlers.js';

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
  const worker = await findWorker(config);
  if (worker?.warehouse === warehouseIdentity(config.warehousePath)) {
    log.debug({ kind }, 'asking the running worker');
    return askWorker<T>(config, kind, payload, { ...opts, log });
  }
  // no worker, or one that holds another warehouse (another WAREHOUSE_PATH on the same prefix): this file is ours
  log.debug({ kind, worker: worker?.warehouse }, 'no worker holds this warehouse: opening it here');
  return withLocalDeps(
    config,
    log,
    (deps) => controlHandlers(deps)[kind]!(payload, opts.onProgress ?? (() => undefined)) as Promise<T>,
  );
}

/** Opens the warehouse (and, on first use, an API client) for one piece of work, and closes both after. */
async function withLocalDeps<T>(config: Config, log: Logger, fn: (deps: JobDeps) => Promise<T>): Promise<T> {
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  await applySettings(db, config);
  let client: SensoterraClient | undefined;
  try {
    return await fn({ db, config, log, api: () => (client ??= new SensoterraClient(config, log)) });
  } finally {
    await client?.close();
    await db.close();
  }
}

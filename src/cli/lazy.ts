/**
 * What the commands run on, loaded when a command runs rather than when the command line starts: DuckDB, BullMQ and
 * undici take about half a second to load, which `--help` or a mistyped option should not wait for. Commands take
 * these from here, and import other heavy modules (the service, the simulator, BullMQ) inside `run`;
 * test/cli-messages.test.ts checks that `--help` loads none of them.
 */
import type { Config } from '../config.js';
import type * as Local from '../control/local.js';
import type { Logger } from '../logger.js';
import type { SensoterraClient } from '../sensoterra/client.js';

/** control/local.ts: through the running worker, or on the file itself. */
export async function viaWorkerOrLocally<T>(...args: Parameters<typeof Local.viaWorkerOrLocally>): Promise<T> {
  const local = await import('../control/local.js');
  return local.viaWorkerOrLocally<T>(...args);
}

/** A client of the Sensoterra API (sensoterra/client.ts). */
export async function sensoterraClient(config: Config, log: Logger): Promise<SensoterraClient> {
  const { SensoterraClient } = await import('../sensoterra/client.js');
  return new SensoterraClient(config, log);
}

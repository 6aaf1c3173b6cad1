/**
 * The long-running service, by role: `worker` (schedules, pulls, the writer; exactly one), `receiver` (the
 * stateless push endpoint; as many as you like), `all` (both in one process, the default).
 */
import type { Config } from './config.js';
import { requireApiCredentials, requirePushSecret } from './config.js';
import type { Logger } from './logger.js';
import { PushReceiver } from './receiver/server.js';
import { WorkerService } from './worker.js';

export const ROLES = ['all', 'receiver', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningService {
  stop(): Promise<void>;
}

export interface Service extends RunningService {
  readonly parts: readonly RunningService[];
}

export async function startService(config: Config, log: Logger, role: Role): Promise<Service> {
  const parts: RunningService[] = [];
  if (role === 'worker' || role === 'all') requireApiCredentials(config);
  if (role === 'receiver' || role === 'all') requirePushSecret(config);
  try {
    // the writer first: pushes accepted by the receiver then have somewhere to go at once
    if (role === 'worker' || role === 'all') parts.push(await WorkerService.start(config, log));
    if (role === 'receiver' || role === 'all') parts.push(await PushReceiver.start(config, log));
  } catch (err) {
    for (const part of [...parts].reverse()) await part.stop();
    throw err;
  }
  return {
    parts,
    async stop() {
      for (const part of [...parts].reverse()) await part.stop();
    },
  };
}

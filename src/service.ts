/**
 * The long-running service, by role: `worker` (schedules, pulls, the writer; exactly one), `receiver` (the
 * stateless push endpoint; as many as you like), `all` (both in one process, the default).
 */
import type { Config } from './config.js';
import { requireApiCredentials } from './config.js';
import type { Logger } from './logger.js';
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
  if (role === 'worker' || role === 'all') {
    requireApiCredentials(config);
    parts.push(await WorkerService.start(config, log));
  }
  return {
    parts,
    async stop() {
      for (const part of [...parts].reverse()) await part.stop();
    },
  };
}

/**
 * The long-running service, by role: `worker` (schedules, pulls, the writer; exactly one), `receiver` (the
 * stateless push endpoint; as many as you like), `all` (both in one process, the default).
 */
import type { Config } from '../config.js';
import { requireApiCredentials, requirePushSecret } from '../config.js';
import type { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Metrics } from '../metrics/metrics.js';
import { MetricsServer } from '../metrics/server.js';
import { PushReceiver } from '../receiver/server.js';
import { checkRedisDurabilityWhenReady, type DurabilityCheck, type RedisDurability } from './redis-durability.js';
import type { Role } from './roles.js';
import { WorkerService } from './worker.js';

export interface RunningService {
  stop(): Promise<void>;
}

export interface Service extends RunningService {
  readonly parts: readonly RunningService[];
  /** What Redis' settings risk for acknowledged pushes, once Redis has answered (undefined if it could not be read). */
  readonly redisDurability: Promise<RedisDurability | undefined>;
  /** What this process counts; served on METRICS_PORT when that is set. */
  readonly metrics: Metrics;
}

export interface ServiceOptions {
  /** Read Redis' durability settings once Redis answers, and warn if they risk acknowledged pushes (default true). */
  checkRedisDurability?: boolean;
  /** The worker found another worker with another warehouse on its prefix, started first, and stopped (worker.ts). */
  onWorkerGaveWay?: (err: SyncError) => void;
}

const skipped: DurabilityCheck = { verdict: Promise.resolve(undefined), stop: async () => undefined };

export async function startService(
  config: Config,
  log: Logger,
  role: Role,
  options: ServiceOptions = {},
): Promise<Service> {
  const parts: RunningService[] = [];
  if (role === 'worker' || role === 'all') requireApiCredentials(config);
  if (role === 'receiver' || role === 'all') requirePushSecret(config);
  const metrics = new Metrics().includeProcess();
  try {
    // the metrics first: a scraper sees the process come up; the port is checked before anything else starts
    if (config.metrics.port !== 0) parts.push(await MetricsServer.start(config, metrics, log));
    // the writer next: pushes accepted by the receiver then have somewhere to go at once
    if (role === 'worker' || role === 'all')
      parts.push(await WorkerService.start(config, log, { onGiveWay: options.onWorkerGaveWay, metrics }));
    if (role === 'receiver' || role === 'all') parts.push(await PushReceiver.start(config, log, metrics));
    if (role === 'receiver' && config.ui.port !== 0)
      log.warn(
        { port: config.ui.port },
        'UI_PORT is set, but the web page is served by the worker: this receiver serves none',
      );
  } catch (err) {
    for (const part of [...parts].reverse()) await part.stop();
    throw err;
  }
  // both roles hold acknowledged pushes in Redis: warn once if Redis may lose or evict them (never fails start)
  const durability =
    options.checkRedisDurability === false ? skipped : checkRedisDurabilityWhenReady(config.redisUrl, log);
  return {
    parts,
    metrics,
    redisDurability: durability.verdict,
    async stop() {
      await durability.stop();
      for (const part of [...parts].reverse()) await part.stop();
    },
  };
}

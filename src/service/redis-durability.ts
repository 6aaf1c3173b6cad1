/**
 * Redis' durability settings, read once at start. A push is acknowledged (202) as soon as it is in Redis, and it
 * lives only there until the writer has stored it: so a Redis that persists nothing loses acknowledged readings when
 * it restarts (every one not yet written without RDB snapshots, minutes of them with snapshots only), one that
 * evicts keys may drop them (and BullMQ's own keys) under memory pressure, and one whose AOF is never fsynced may
 * lose the last ~30 s of them when its host crashes. The service still starts: it says so in one warn line per
 * risk, with the setting that removes it.
 * Read with INFO, which managed Redis services allow; CONFIG GET (appendfsync, save), which they often disable, is
 * asked too but only as a bonus.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { closeRedis, producerConnection } from '../redis.js';

export type RedisRisk = 'no-aof' | 'aof-not-fsynced' | 'eviction';

export interface RedisDurability {
  /** AOF on (`appendonly yes`). */
  aof: boolean;
  /** `appendfsync`; null when CONFIG is not allowed. */
  appendfsync: string | null;
  /** RDB snapshots configured (`save` points); null when unknown (CONFIG not allowed and no snapshot taken yet). */
  rdb: boolean | null;
  maxmemoryPolicy: string;
  /** What may cost acknowledged pushes; empty when nothing does. */
  risks: RedisRisk[];
}

/** One constant message per risk, saying what to do (the data goes in the log line's object). */
const RISK_MESSAGES: Record<RedisRisk, string> = {
  'no-aof':
    'Redis persistence is off (appendonly no): a Redis restart loses acknowledged pushes the writer has not stored yet (all of them without RDB snapshots, up to minutes of them with snapshots only); set appendonly yes',
  'aof-not-fsynced':
    'Redis never fsyncs its AOF (appendfsync no): a crash of the Redis host may lose about 30 s of acknowledged pushes; set appendfsync everysec',
  eviction:
    'Redis may evict keys (maxmemory-policy is not noeviction): under memory pressure it can drop queued pushes and BullMQ keys; set maxmemory-policy noeviction',
};

const CHECK_FAILED_MESSAGE =
  "Redis' durability settings could not be read (INFO failed): make sure it runs with appendonly yes and maxmemory-policy noeviction";

/** `INFO <section>` as field → value. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** CONFIG GET of one parameter; null when CONFIG is disabled or renamed (managed Redis), or the parameter unknown. */
async function configGet(redis: Redis, parameter: string): Promise<string | null> {
  try {
    const answer = await redis.config('GET', parameter);
    return Array.isArray(answer) && answer.length >= 2 ? String(answer[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Reads the settings on a ready connection, logs one warn line per risk, and returns the verdict. Throws only if
 * INFO itself fails (see checkRedisDurabilityWhenReady for the variant that never does).
 */
async function checkRedisDurability(redis: Redis, log: Logger): Promise<RedisDurability> {
  const persistence = parseInfo(await redis.info('persistence'));
  const memory = parseInfo(await redis.info('memory'));
  const appendfsync = await configGet(redis, 'appendfsync');
  const save = await configGet(redis, 'save');

  const aof = persistence.get('aof_enabled') === '1';
  // without CONFIG: a snapshot taken since start (or a last one's duration) shows that snapshots are configured
  const snapshotTaken =
    Number(persistence.get('rdb_saves') ?? 0) > 0 || Number(persistence.get('rdb_last_bgsave_time_sec') ?? -1) >= 0;
  const rdb = save !== null ? save.trim() !== '' : snapshotTaken ? true : null;
  const maxmemoryPolicy = memory.get('maxmemory_policy') ?? 'unknown';

  const risks: RedisRisk[] = [];
  if (!aof) risks.push('no-aof');
  if (aof && appendfsync === 'no') risks.push('aof-not-fsynced');
  if (maxmemoryPolicy !== 'noeviction') risks.push('eviction');
  const verdict: RedisDurability = { aof, appendfsync, rdb, maxmemoryPolicy, risks };

  const where = { component: 'redis', redis: `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}` };
  for (const risk of risks) {
    const data =
      risk === 'no-aof'
        ? { appendonly: 'no', rdbSnapshots: rdb ?? 'unknown' }
        : risk === 'aof-not-fsynced'
          ? { appendfsync }
          : { maxmemoryPolicy, maxmemory: Number(memory.get('maxmemory') ?? 0) };
    log.warn({ ...where, risk, ...data }, RISK_MESSAGES[risk]);
  }
  if (risks.length === 0) log.debug({ ...where, ...verdict }, 'Redis durability checked');
  return verdict;
}

export interface DurabilityCheck {
  /** The verdict once Redis has answered; undefined if the check failed or was stopped before Redis answered. */
  readonly verdict: Promise<RedisDurability | undefined>;
  stop(): Promise<void>;
}

/**
 * The check on a connection of its own, run as soon as Redis first answers (at once if it is up; later if the
 * service starts while it is down), then closed. Never throws: a failed check is one warn line.
 */
export function checkRedisDurabilityWhenReady(url: string, log: Logger): DurabilityCheck {
  const redis = producerConnection(url);
  let stopped = false;
  let onStop: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (onStop = resolve));
  const verdict = (async (): Promise<RedisDurability | undefined> => {
    try {
      if (redis.status !== 'ready') {
        const ready = await Promise.race([
          new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
          stopping.then(() => false),
        ]);
        if (!ready) return undefined;
      }
      return await checkRedisDurability(redis, log);
    } catch (err) {
      if (!stopped) log.warn({ component: 'redis', err }, CHECK_FAILED_MESSAGE);
      return undefined;
    } finally {
      await closeRedis(redis);
    }
  })();
  return {
    verdict,
    async stop() {
      stopped = true;
      onStop();
      redis.disconnect(); // a check in progress fails at once, and is not reported
      await verdict;
    },
  };
}

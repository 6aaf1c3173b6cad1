/**
 * The worker's heartbeat: a Redis key under QUEUE_PREFIX, set every few seconds with an expiry, saying which process
 * serves that prefix, which warehouse it holds, and whether its writer can write. It is how
 * - a second worker learns that the prefix is taken by another warehouse (and refuses to start: pushes would be
 *   split between the two);
 * - a command learns whether to ask the worker or open the file itself (only the worker holding the warehouse the
 *   command names may answer it);
 * - a receiver's /readyz and `status` learn that the writer is down, and why.
 * DuckDB's own lock protects a file on one host only; the heartbeat covers every host that shares the Redis.
 */
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { ErrorCodes, SyncError } from '../errors.js';
import { HEARTBEAT_TTL_MS, heartbeatKey } from '../job-runtime/queues.js';
import type { WarehouseHealth } from '../warehouse/warehouse.js';

export interface Heartbeat {
  pid: number;
  host: string;
  /** When this worker started (ms since the epoch): of two workers on one prefix, the later one gives way. */
  startedAt: number;
  /** host:absolute path of the warehouse file (see warehouseIdentity). */
  warehouse: string;
  writer: WarehouseHealth;
}

/** Names a warehouse across hosts: the host and the file's absolute path, symbolic links resolved. */
export function warehouseIdentity(path: string, host = hostname()): string {
  const absolute = resolve(path);
  let dir = dirname(absolute);
  try {
    dir = realpathSync(dir);
  } catch {
    // not created yet: the path as given
  }
  return `${host}:${dir === '/' ? '' : dir}/${basename(absolute)}`;
}

export function heartbeatOf(path: string, writer: WarehouseHealth, startedAt: number): Heartbeat {
  return { pid: process.pid, host: hostname(), startedAt, warehouse: warehouseIdentity(path), writer };
}

/** The heartbeat under a prefix, or undefined when no worker beats. A value this version cannot read counts as one. */
export async function readHeartbeat(redis: Redis, prefix: string): Promise<Heartbeat | undefined> {
  const raw = await redis.get(heartbeatKey(prefix));
  if (raw === null) return undefined;
  return parseHeartbeat(raw);
}

function parseHeartbeat(raw: string): Heartbeat {
  try {
    const value = JSON.parse(raw) as Partial<Heartbeat>;
    if (typeof value === 'object' && value !== null && typeof value.warehouse === 'string') {
      return {
        pid: Number(value.pid),
        host: String(value.host),
        startedAt: Number(value.startedAt ?? 0),
        warehouse: value.warehouse,
        writer: value.writer?.state === 'down' ? value.writer : { state: 'up' },
      };
    }
  } catch {
    // an older worker wrote its pid alone
  }
  return {
    pid: Number(raw),
    host: 'unknown',
    startedAt: 0,
    warehouse: 'unknown (an older worker)',
    writer: { state: 'up' },
  };
}

async function writeHeartbeat(redis: Redis, prefix: string, beat: Heartbeat): Promise<void> {
  await redis.set(heartbeatKey(prefix), JSON.stringify(beat), 'PX', HEARTBEAT_TTL_MS);
}

/**
 * Takes the prefix for this worker, or throws when a live worker serves it with another warehouse. The same
 * warehouse may beat already: a worker restarted within the heartbeat's expiry, or another process on this host
 * that DuckDB's lock then turns away.
 */
export async function claimPrefix(redis: Redis, prefix: string, beat: Heartbeat): Promise<void> {
  const taken = await redis.set(heartbeatKey(prefix), JSON.stringify(beat), 'PX', HEARTBEAT_TTL_MS, 'NX');
  if (taken === 'OK') return;
  const other = await readHeartbeat(redis, prefix);
  if (other !== undefined && other.warehouse !== beat.warehouse) throw conflict(prefix, other, beat);
}

/**
 * Beats, unless another worker serves the prefix with another warehouse and started first: then this one must give
 * way (it throws). That happens only when the heartbeat vanished while both started (a Redis restart without
 * persistence, an eviction): the later worker notices at its next beat, within seconds, and stops.
 */
export async function beatOrGiveWay(redis: Redis, prefix: string, beat: Heartbeat): Promise<void> {
  const other = await readHeartbeat(redis, prefix);
  if (other !== undefined && other.warehouse !== beat.warehouse && other.startedAt <= beat.startedAt)
    throw conflict(prefix, other, beat);
  await writeHeartbeat(redis, prefix, beat);
}

function conflict(prefix: string, other: Heartbeat, beat: Heartbeat): SyncError {
  return new SyncError(
    ErrorCodes.WORKER_CONFLICT,
    `another worker (pid ${other.pid} on ${other.host}) already serves QUEUE_PREFIX=${prefix} with the warehouse ${other.warehouse}; ` +
      `this one would write ${beat.warehouse}, and pushes would be split between the two. Give this worker its own QUEUE_PREFIX (and receivers), ` +
      `or stop the other one (its heartbeat expires ${HEARTBEAT_TTL_MS / 1000} s after it stops)`,
  );
}

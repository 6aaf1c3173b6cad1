/**
 * Posts uplinks to a push receiver the way Sensoterra's forwarder might: JSON over HTTP, with a shared-secret header
 * and optionally an HMAC of the body. It retries nothing: the caller (a test, the demo, a benchmark) decides what a
 * failed delivery means, from the counts it gets back.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Uplink } from './uplinks.js';

export interface PushSenderOptions {
  /** The receiver's full URL, e.g. http://127.0.0.1:8080/push. */
  url: string;
  /** Header name, default 'authorization'; sent with `secret` as its value when a secret is given. */
  authHeader?: string;
  secret?: string;
  /** When set, the hex HMAC-SHA256 of the raw body goes in `hmacHeader` (default 'x-signature'). */
  hmacSecret?: string;
  hmacHeader?: string;
  /** 1 = one JSON object per request; more = a JSON array of up to that many. Default 1. */
  uplinksPerRequest?: number;
  /** Requests in flight, default 8. */
  concurrency?: number;
  /** Readings per second at most; default unlimited. */
  ratePerSecond?: number;
  /** Stops sending; requests in flight are cut off and not counted. */
  signal?: AbortSignal;
}

export interface PushSendResult {
  /** Requests that got an answer or failed; uplinks and readings count what those requests carried. */
  requests: number;
  uplinks: number;
  readings: number;
  /** How many answers had each HTTP status. */
  statuses: Record<number, number>;
  /** Requests that got no answer (refused, reset, timed out). */
  errors: number;
  bodies?: never;
}

export async function sendPushes(
  uplinks: Iterable<Uplink> | AsyncIterable<Uplink>,
  opts: PushSenderOptions,
): Promise<PushSendResult> {
  const target = new URL(opts.url);
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const pool = new Pool(target.origin, { connections: concurrency });
  const result: PushSendResult = { requests: 0, uplinks: 0, readings: 0, statuses: {}, errors: 0 };
  // Async generators queue concurrent next() calls, so the workers can share one without a lock.
  const batches = batchesOf(uplinks, Math.max(1, opts.uplinksPerRequest ?? 1));
  const pace = pacer(opts.ratePerSecond);
  const worker = async (): Promise<void> => {
    for (let next = await batches.next(); !next.done && !opts.signal?.aborted; next = await batches.next()) {
      const readings = next.value.reduce((sum, u) => sum + u.readings.length, 0);
      if (!(await pace(readings, opts.signal))) return;
      await post(pool, target, next.value, opts, result);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await batches.return(undefined); // lets the source generator run its cleanup
    await (opts.signal?.aborted ? pool.destroy() : pool.close());
  }
  return result;
}

async function post(
  pool: Pool,
  target: URL,
  batch: Uplink[],
  opts: PushSenderOptions,
  result: PushSendResult,
): Promise<void> {
  const body = (opts.uplinksPerRequest ?? 1) === 1 ? JSON.stringify(batch[0]) : JSON.stringify(batch);
  let status: number | undefined;
  try {
    const res = await pool.request({
      method: 'POST',
      path: target.pathname + target.search,
      headers: headersFor(body, opts),
      body,
      signal: opts.signal,
    });
    status = res.statusCode;
    await res.body.dump(); // a body left unread would hold the connection
  } catch {
    if (opts.signal?.aborted) return; // cut off on purpose: not a delivery failure
    // Otherwise no answer (refused, reset): counted below as an error.
  }
  result.requests += 1;
  result.uplinks += batch.length;
  result.readings += batch.reduce((sum, u) => sum + u.readings.length, 0);
  if (status === undefined) result.errors += 1;
  else result.statuses[status] = (result.statuses[status] ?? 0) + 1;
}

function headersFor(body: string, opts: PushSenderOptions): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.secret !== undefined) headers[(opts.authHeader ?? 'authorization').toLowerCase()] = opts.secret;
  if (opts.hmacSecret !== undefined) {
    headers[(opts.hmacHeader ?? 'x-signature').toLowerCase()] = createHmac('sha256', opts.hmacSecret)
      .update(body)
      .digest('hex');
  }
  return headers;
}

async function* batchesOf(uplinks: Iterable<Uplink> | AsyncIterable<Uplink>, size: number): AsyncGenerator<Uplink[]> {
  let batch: Uplink[] = [];
  for await (const uplink of uplinks) {
    batch.push(uplink);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Spaces requests so that readings per second stay under the cap. Each caller reserves its time slot before waiting,
 * so concurrent workers queue up instead of all going at once. Resolves false when aborted while waiting.
 */
function pacer(ratePerSecond: number | undefined): (readings: number, signal?: AbortSignal) => Promise<boolean> {
  if (!ratePerSecond || ratePerSecond <= 0) return async (_readings, signal) => !signal?.aborted;
  let nextAtMs = Date.now();
  return async (readings, signal) => {
    const startAt = Math.max(nextAtMs, Date.now());
    nextAtMs = startAt + (readings / ratePerSecond) * 1000;
    const waitMs = startAt - Date.now();
    if (waitMs <= 0) return !signal?.aborted;
    try {
      await sleep(waitMs, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  };
}

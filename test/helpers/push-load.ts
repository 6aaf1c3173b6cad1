/**
 * A push load the way Sensoterra's pusher sends it: unique uplinks, a few requests at a time, each sent again until
 * it is acknowledged (a 503 or a cut connection is not an acknowledgement). And what landed in the warehouse.
 */
import { expect } from 'vitest';
import type { AccountFixture, Uplink } from '../../src/simulator/index.js';
import { uplinksFor } from '../../src/simulator/index.js';
import { createLogger } from '../../src/logger.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { NOW } from './account.js';
import type { TestPlace } from './config.js';
import { post } from './stack.js';
import { readRows } from './warehouse.js';

/** The first uplinks of the last 30 days before NOW, until they hold at least `readings` readings. */
export function someUplinks(account: AccountFixture, readings: number): Uplink[] {
  const out: Uplink[] = [];
  let n = 0;
  for (const u of uplinksFor(account, { from: new Date(NOW.getTime() - 30 * 86_400_000), to: NOW })) {
    out.push(u);
    n += u.readings.length;
    if (n >= readings) break;
  }
  return out;
}

export const readingsOf = (uplinks: Uplink[]): number => uplinks.reduce((n, u) => n + u.readings.length, 0);

export interface LoadOptions {
  concurrency: number;
  /** Called after each acknowledged push with how many have been acknowledged so far. */
  onAcknowledged?: (acknowledged: number) => void;
  /** Called on each refusal (503) or cut connection. */
  onRefused?: () => void;
  /** The whole load must be acknowledged within this. */
  timeoutMs: number;
}

/**
 * Posts every uplink, `concurrency` at a time, each again (50 ms later) until it gets a 2xx. Any other answer fails
 * the load: only "Redis unavailable" (503) and a cut connection are expected to be retried.
 */
export async function pushUntilAcknowledged(
  url: string,
  uplinks: Uplink[],
  opts: LoadOptions,
): Promise<{ refused: number }> {
  const deadline = Date.now() + opts.timeoutMs;
  let next = 0;
  let acknowledged = 0;
  let refused = 0;
  const lane = async (): Promise<void> => {
    while (next < uplinks.length) {
      const body = JSON.stringify(uplinks[next++]!);
      for (;;) {
        const status = await post(url, body).then(
          (res) => res.status,
          () => 0, // cut off: not acknowledged
        );
        if (status >= 200 && status < 300) break;
        if (status !== 503 && status !== 0) throw new Error(`a push was answered ${status}, not 2xx or 503`);
        refused++;
        opts.onRefused?.();
        if (Date.now() > deadline) throw new Error(`pushes still refused after ${opts.timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      opts.onAcknowledged?.(++acknowledged);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  return { refused };
}

export interface Stored {
  readings: number;
  keys: number; // distinct (serial, type, depth, ts): equal to readings when nothing is doubled
  uplinks: Set<string>; // serial@timestamp of every uplink with a stored reading
}

/** Opens the warehouse file (its writer stopped) and counts what landed. */
export async function stored(place: TestPlace): Promise<Stored> {
  const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, createLogger('silent'));
  try {
    const [row] = await readRows(
      db,
      'SELECT count(*) AS readings, count(DISTINCT (serial, type, depth_cm, ts)) AS keys FROM readings',
    );
    const uplinks = await readRows(db, 'SELECT DISTINCT serial, ts FROM readings');
    return {
      ...(row as { readings: number; keys: number }),
      uplinks: new Set(uplinks.map((u) => `${u.serial}@${(u.ts as Date).toISOString()}`)),
    };
  } finally {
    await db.close();
  }
}

export const missing = (acknowledged: Uplink[], s: Stored): Uplink[] =>
  acknowledged.filter((u) => !s.uplinks.has(`${u.serial}@${new Date(u.timestamp).toISOString()}`));

/** Every reading of the acknowledged uplinks is in the warehouse, once, and nothing else is (its writer stopped). */
export async function expectStoredExactlyOnce(place: TestPlace, acknowledged: Uplink[]): Promise<void> {
  const expected = readingsOf(acknowledged);
  const after = await stored(place);
  expect({ readings: after.readings, keys: after.keys }).toEqual({ readings: expected, keys: expected });
  expect(missing(acknowledged, after)).toEqual([]);
}

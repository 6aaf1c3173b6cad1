/**
 * The whole service in the test's process, as `start --role all` runs it: simulator, worker (writer) and push
 * receiver, on the test's own queue prefix and warehouse file.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createLogger } from '../../src/logger.js';
import { PushReceiver } from '../../src/receiver/server.js';
import { waitUntilIngested } from '../../src/ingest/backlog.js';
import { Simulator, type AccountFixture } from '../../src/simulator/index.js';
import type { Row } from '../../src/warehouse/rows.js';
import { WorkerService } from '../../src/service/worker.js';
import { NOW, smallAccount } from './account.js';
import { testPlace, type TestPlace } from './config.js';
import { apiEnv, FAST_RETRIES } from './pulls.js';
import { deleteKeys } from './redis.js';
import { readRows } from './warehouse.js';

/**
 * The push secret of this test file's stacks: its own, so that a push meant for another file's receiver (a sender
 * still retrying after its test, while the operating system hands that port to a receiver here) is refused, not
 * stored in this file's warehouse. Tests run side by side, and ports are reused.
 */
export const PUSH_SECRET = `push-secret-${process.pid}-${randomBytes(6).toString('hex')}`;

export interface Stack {
  sim: Simulator;
  place: TestPlace;
  worker: WorkerService; // replaceable: a test may stop the worker and start another
  receiver: PushReceiver;
  pushUrl: string;
  rows(sql: string): Promise<Row[]>;
  /** Resolves once the writer has taken every batch in the ingest queue. */
  drained(): Promise<void>;
  /** Moves the simulated clock: the simulator's, and the jobs' "now". */
  setClock(date: Date): void;
  stop(): Promise<void>;
}

export async function startStack(
  opts: { account?: AccountFixture; now?: Date; env?: Record<string, string> } = {},
): Promise<Stack> {
  const sim = await Simulator.start({ account: opts.account ?? smallAccount(), now: opts.now ?? NOW });
  // jobs run on the simulator's clock: "now" for a run's start, for what counts as stale
  const place = testPlace(apiEnv(sim, { PUSH_PORT: '0', PUSH_SECRET, ...opts.env }), { warehouse: 'migrated' });
  // STACK_LOG=/tmp/stack.log: the service's debug log, for a test that needs looking into
  const log = process.env.STACK_LOG
    ? createLogger('debug', pino.destination(process.env.STACK_LOG))
    : createLogger('silent');
  let now = opts.now ?? NOW;
  const worker = await WorkerService.start(place.config, log, {
    clientOptions: { retry: FAST_RETRIES },
    clock: () => now,
    recoverIntervalMs: 250,
  });
  const receiver = await PushReceiver.start(place.config, log);
  const stack: Stack = {
    sim,
    place,
    worker,
    receiver,
    pushUrl: `${receiver.url}${place.config.push.path}`,
    rows: (sql) => readRows(stack.worker.deps.db, sql),
    drained: () => ingestDrained(place),
    setClock(date) {
      now = date;
      sim.setNow(date);
    },
    async stop() {
      await stack.receiver.stop();
      await stack.worker.stop();
      await sim.close();
      await deleteKeys(place.prefix);
      place.cleanup();
    },
  };
  return stack;
}

export function ingestDrained(place: TestPlace, timeoutMs = 30_000): Promise<void> {
  return waitUntilIngested(place.config, timeoutMs);
}

/** POSTs a push the way Sensoterra would (or wouldn't), returning the status and the JSON answer. */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', authorization: PUSH_SECRET, ...headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waiting in tests for something to happen, with a generous deadline and never a timing assertion. */
import type { ChildProcess } from 'node:child_process';
import { workerIsRunning } from '../../src/control/channel.js';
import type { TestPlace } from './config.js';

/** Up to `ms`, until `check` holds. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 30_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} never held within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Its exit code (null when a signal ended it), once it has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Until a worker on the place's queue prefix has its heartbeat in Redis. */
export async function workerUp(place: TestPlace): Promise<void> {
  await eventually(() => workerIsRunning(place.config), 30_000, 'the worker heartbeat');
}

/**
 * The hang guard of a test that does heavy real work (several whole publishes, a worker killed and its run resumed):
 * vitest's 60 s is close to what they take on this 2-core machine when it is busy. A guard against a hang, not a
 * target: nothing here asserts how long anything takes.
 */
export const HEAVY_MS = 180_000;

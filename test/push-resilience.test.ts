/**
 * Pushes when things go wrong: Redis down, the writer killed mid-load, the service stopped mid-load. An
 * acknowledged (202) push is never lost and never doubled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { PushReceiver } from '../src/receiver/server.js';
import { generateAccount, Simulator, type Uplink } from '../src/simulator/index.js';
import { WorkerService } from '../src/service/worker.js';
import { NOW, smallAccount } from './helpers/account.js';
import { CLI } from './helpers/cli.js';
import { testPlace } from './helpers/config.js';
import { apiEnv } from './helpers/pulls.js';
import { deleteKeys, freePort, PrivateRedis } from './helpers/redis.js';
import { ingestDrained, post, PUSH_SECRET } from './helpers/stack.js';
import { expectStoredExactlyOnce, missing, readingsOf, someUplinks, stored } from './helpers/push-load.js';
import { eventually, exited, workerUp } from './helpers/waiting.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

const body = JSON.stringify({
  serial: '24000092104',
  timestamp: '2024-07-08T09:05:00Z',
  readings: [{ type: 'MOISTURE', depth: 15, value: 27.4, unit: '%' }],
});

describe('with Redis down', () => {
  it('the receiver answers 503 at once, and recovers by itself when Redis is back', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.destroy());
    const place = testPlace({ REDIS_URL: redis.url, PUSH_PORT: '0', PUSH_SECRET });
    cleanups.push(() => place.cleanup());
    const receiver = await PushReceiver.start(place.config, createLogger('silent'));
    cleanups.push(() => receiver.stop());
    const url = `${receiver.url}/push`;
    expect((await post(url, body)).status).toBe(202);

    await redis.stop();
    const refused = await post(url, body);
    expect(refused).toEqual({
      status: 503,
      body: { error: 'the queue (Redis) is unavailable: retry later (a retry is safe, nothing is stored twice)' },
    });
    expect((await fetch(`${receiver.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);

    await redis.resume();
    await eventually(async () => (await fetch(`${receiver.url}/readyz`)).status === 200);
    expect((await post(url, body)).status).toBe(202);
  });
});

/** The service as its own process, the way it runs in production. */
function startProcess(role: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'start', '--role', role], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', process.env.DEBUG_CHILD ? 'inherit' : 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM')
      console.error(`start --role ${role} exited ${code}: ${stderr}`);
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  return child;
}

/** Posts one uplink per request, `concurrency` at a time; returns the uplinks acknowledged with 202. */
async function pushAll(
  url: string,
  uplinks: Uplink[],
  concurrency: number,
  onProgress: (sent: number) => void = () => undefined,
): Promise<Uplink[]> {
  const acknowledged: Uplink[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < uplinks.length) {
      const uplink = uplinks[next++]!;
      try {
        if ((await post(url, JSON.stringify(uplink))).status === 202) acknowledged.push(uplink);
      } catch {
        // refused or cut off: not acknowledged, so the pusher would send it again
      }
      onProgress(next);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return acknowledged;
}

describe('a writer killed in the middle of a push load', () => {
  it('loses no acknowledged reading and doubles none once it is restarted', async () => {
    const sim = await Simulator.start({ account: generateAccount({ seed: 9, probes: 20 }), now: NOW });
    cleanups.push(() => sim.close());
    const place = testPlace(apiEnv(sim, { PUSH_PORT: '0', PUSH_SECRET, LOG_LEVEL: 'warn' }));
    cleanups.push(
      () => place.cleanup(),
      () => deleteKeys(place.prefix),
    );
    const receiver = await PushReceiver.start(place.config, createLogger('silent'));
    cleanups.push(() => receiver.stop());

    const first = startProcess('worker', place.env);
    await workerUp(place);
    const uplinks = someUplinks(sim.account, 6_000);
    let killed = false;
    const acknowledged = await pushAll(`${receiver.url}/push`, uplinks, 8, (sent) => {
      if (!killed && sent > uplinks.length / 3) {
        killed = true;
        first.kill('SIGKILL');
      }
    });
    await exited(first);
    expect(acknowledged).toHaveLength(uplinks.length); // the receiver never went down: every push was acknowledged

    const second = startProcess('worker', place.env);
    await workerUp(place);
    await ingestDrained(place, 60_000); // batches the killed writer held come back after their lock expires
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    await expectStoredExactlyOnce(place, acknowledged);
  });
});

describe('SIGTERM', () => {
  it('stops the service within bounds: the receiver flushes what it acknowledged, the writer finishes its batch', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    cleanups.push(() => sim.close());
    const port = await freePort();
    const place = testPlace(apiEnv(sim, { PUSH_PORT: String(port), PUSH_SECRET, LOG_LEVEL: 'warn' }));
    cleanups.push(
      () => place.cleanup(),
      () => deleteKeys(place.prefix),
    );
    const service = startProcess('all', place.env);
    await workerUp(place);
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    );

    const uplinks = someUplinks(sim.account, 4_000);
    let stopped = false;
    const acknowledged = await pushAll(`http://127.0.0.1:${port}/push`, uplinks, 8, (sent) => {
      if (!stopped && sent > uplinks.length / 2) {
        stopped = true;
        service.kill('SIGTERM');
      }
    });
    expect(await exited(service)).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.length).toBeLessThan(uplinks.length);

    // whatever was acknowledged but not yet written waits in Redis for the next writer
    const worker = await WorkerService.start(place.config, createLogger('silent'));
    await ingestDrained(place);
    await worker.stop();
    const after = await stored(place);
    expect(after.readings).toBe(after.keys);
    expect(missing(acknowledged, after)).toEqual([]);
    expect(after.readings).toBeLessThanOrEqual(readingsOf(uplinks));
  });
});

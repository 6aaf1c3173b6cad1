/**
 * The leak check that runs after every test file (test/leak-check.ts, test/helpers/leaks.ts): it sees each kind of
 * leak and names the code that made it, forgets what was closed, and, wired into vitest, fails a file that leaks
 * even when the file's own afterAll closed something else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { REDIS_URL } from './helpers/config.js';
import { ROOT } from './helpers/cli.js';
import { expectNoLeaks, leaksSince, openResources, type LeakKind } from './helpers/leaks.js';
import { exited } from './helpers/waiting.js';

/** Opens something, expects exactly it to be seen as a leak made here, closes it, and expects no leak after. */
async function seenUntilClosed(kind: LeakKind, open: () => Promise<() => Promise<void>>): Promise<void> {
  const baseline = openResources();
  const close = await open();
  try {
    const leaks = leaksSince(baseline);
    expect(leaks.map((leak) => leak.kind)).toEqual([kind]);
    expect(leaks[0]?.origin).toContain('test/leak-check.test.ts');
  } finally {
    await close();
  }
  await expectNoLeaks(baseline);
}

/** This process's environment without vitest's own variables, which would tell the inner run it is a worker. */
function outsideVitest(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
}

describe('the leak check', () => {
  it('sees a Redis connection left open, until it is closed', async () => {
    await seenUntilClosed('Redis connection', async () => {
      const redis = new Redis(REDIS_URL);
      await redis.ping();
      return async () => void (await redis.quit());
    });
  });

  it('sees a Redis client retrying a connection nothing answers, until it is disconnected', async () => {
    await seenUntilClosed('Redis connection', async () => {
      const redis = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100, lazyConnect: true });
      redis.on('error', () => undefined);
      await redis.connect().catch(() => undefined); // refused: it waits to try again
      await vi.waitFor(() => expect(redis.status).toBe('reconnecting'));
      return async () => redis.disconnect(); // ioredis stays 'reconnecting' then, with no retry left to make
    });
  });

  it('sees a DuckDB file left open, until it is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leak-check-'));
    await seenUntilClosed('DuckDB file', async () => {
      const db = await DuckDBInstance.create(join(dir, 'held.duckdb'));
      const connection = await db.connect();
      return async () => {
        connection.closeSync();
        db.closeSync();
      };
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a listening server left open, until it is closed', async () => {
    await seenUntilClosed('server', async () => {
      const server: Server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return () => new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });

  it('sees a child process still running, until it has ended', async () => {
    await seenUntilClosed('child process', async () => {
      const child: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('spawn', resolve));
      return async () => {
        child.kill('SIGKILL');
        await exited(child);
      };
    });
  });

  it('fails a test file that leaks, after its own hooks, naming each leak and where it was made', async () => {
    // test/fixtures/leaky.fixture.ts leaves one of each open, and closes one more server in its own afterAll; the
    // folder of the DuckDB file it leaves is under a TMPDIR of this test's, removed after it
    const tmp = mkdtempSync(join(tmpdir(), 'sensoterra-leak-check-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    const run = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/fixtures.vitest.config.ts'],
      { cwd: ROOT, env: { ...outsideVitest(), NO_COLOR: '1', TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => run.once('close', resolve));
    expect(code, output).toBe(1);
    expect(output).toContain('this test file left open what it started');
    for (const kind of ['Redis connection', 'DuckDB file', 'server', 'child process']) {
      expect(output).toMatch(new RegExp(`- a ${kind}, .*\\n\\s+created by test/fixtures/leaky\\.fixture\\.ts:\\d+`));
    }
    const closedInAfterAll = /closed in afterAll: port (\d+)/.exec(output)?.[1];
    expect(closedInAfterAll, output).toBeDefined();
    expect(output).not.toContain(`listening on port ${closedInAfterAll}\n`);
  });
});

/** `npm run demo`: the whole pipeline on embedded defaults, as a newcomer runs it. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { REDIS_URL } from './helpers/config.js';
import { freePort } from './helpers/redis.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the demo', () => {
  it('runs every sync through the worker and prints answers, leaving its warehouse in data/demo', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sensoterra-demo-'));
    const result = await runCli(['demo'], { REDIS_URL }, { cwd: dir, timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('1. Sensoterra simulator: 12 probes of 3 customers');
    expect(out).toMatch(/sync-parameters\s+succeeded/);
    expect(out).toMatch(/sync-probes\s+succeeded\s+12 probes read: 12 new/);
    expect(out).toMatch(
      /5\. Pushed the last 7 days: \d+ readings in (\d+) requests \(\{"202":\1\}\), all in the warehouse after/,
    );
    expect(out).toContain('Probes per customer, with their fields');
    expect(out).toContain('(3 rows)');
    expect(out).toMatch(/How wet was .+ at 30 cm last week\?[^]+\(7 rows\)/);
    expect(out).toMatch(/10\. Published for BI tools: version \S+ published with \d+ readings/);
    expect(existsSync(join(dir, 'data/demo/export/current/warehouse.duckdb'))).toBe(true);
    expect(existsSync(join(dir, 'data/demo/warehouse.duckdb'))).toBe(true);
  });

  it('starts a private redis-server when none answers at REDIS_URL', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sensoterra-demo-'));
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const result = await runCli(['demo'], { REDIS_URL: nobody }, { cwd: dir, timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`No Redis answers at ${nobody}: starting a private redis-server for the demo.`);
    expect(result.stdout).toMatch(/sync-probes\s+succeeded/);
  });

  it('says in one line how to get Redis when there is none and no redis-server to start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sensoterra-demo-'));
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    // a PATH without redis-server on it
    const result = await runCli(['demo'], { REDIS_URL: nobody, PATH: '/nonexistent' }, { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `sensoterra-sync: Redis at ${nobody} does not answer: start it (redis-server, or docker compose up -d redis) or set REDIS_URL [E_REDIS_UNAVAILABLE]`,
    );
  });
});

/**
 * The example questions in sql/examples/: each one runs through `query`'s read-only path and answers something
 * on an account with six weeks of readings up to now, one probe of which went quiet six hours ago.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../src/job-runner.js';
import { SQL_DIR } from '../src/paths.js';
import { runReadOnlyQuery } from '../src/query/read-only.js';
import { generateAccount, sendPushes, uplinksFor } from '../src/simulator/index.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

const HOUR = 3_600_000;
let stack: Stack;
let quiet: string;

beforeAll(async () => {
  const now = new Date();
  stack = await startStack({ account: generateAccount({ seed: 4, probes: 6, customers: 2 }), now });
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers']) await runJob(job, {}, stack.worker.deps, { trigger: 'command' });
  const serials = stack.sim.account.probes.map((p) => p.serial);
  quiet = serials[0]!;
  const send = async (from: number, to: number, only: string[]): Promise<void> => {
    await sendPushes(uplinksFor(stack.sim.account, { from: new Date(from), to: new Date(to), serials: only }), { url: stack.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 50 });
  };
  await send(now.getTime() - 42 * 24 * HOUR, now.getTime() - 6 * HOUR, serials);
  await send(now.getTime() - 6 * HOUR, now.getTime(), serials.slice(1));
  await stack.drained();
  // synced after the pushes: the status readings of the quiet probe are six hours old too
  stack.sim.setNow(new Date(now.getTime() - 6 * HOUR));
  await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
}, 120_000);
afterAll(async () => stack?.stop());

function example(name: string): string {
  return readFileSync(join(SQL_DIR, 'examples', `${name}.sql`), 'utf8');
}

const ask = (sql: string) => runReadOnlyQuery(stack.worker.deps.db, sql, { timeoutMs: 30_000, memoryMb: 1024 });

describe('the example questions', () => {
  it('are all here, each starting with the question it answers', () => {
    const files = readdirSync(join(SQL_DIR, 'examples')).sort();
    expect(files).toEqual([
      'calibration-history-of-each-probe.sql',
      'days-below-refill-last-month.sql',
      'how-wet-was-a-field-last-week.sql',
      'latest-moisture-profile.sql',
      'which-probes-have-gone-quiet.sql',
    ]);
    for (const file of files) expect(readFileSync(join(SQL_DIR, 'examples', file), 'utf8')).toMatch(/^-- .+\?/);
  });

  it('how wet was a field at 30 cm last week: seven days per probe there, with the calibration', async () => {
    const [field] = await stack.rows(`SELECT l.name FROM locations l JOIN probes p ON p.location_id = l.id
      WHERE p.soil_profile IS NOT NULL AND p.unit = '%' AND p.serial IN (SELECT serial FROM readings WHERE depth_cm = 30) LIMIT 1`);
    const sql = example('how-wet-was-a-field-last-week').replace("'North field'", `'${String(field!.name)}'`);
    const answer = await ask(sql);
    expect(answer.columns).toEqual(['field', 'probe_name', 'day', 'mean_moisture_pct', 'min_pct', 'max_pct', 'calibration', 'water_status', 'coverage']);
    expect(answer.rows.length % 7).toBe(0);
    expect(answer.rows.length).toBeGreaterThan(0);
    expect(answer.rows.every((r) => r.calibration !== null && r.coverage === 1)).toBe(true);
  });

  it('which probes have gone quiet: the one that stopped six hours ago', async () => {
    const answer = await ask(example('which-probes-have-gone-quiet'));
    expect(answer.rows.map((r) => r.probe_name)).toEqual(
      (await stack.rows(`SELECT name FROM probes WHERE serial = '${quiet}'`)).map((r) => r.name),
    );
    expect(answer.rows[0]!.hours_quiet).toBeGreaterThanOrEqual(6);
  });

  it('days below refill last month: a row per field and depth with thresholds, days measured in last month', async () => {
    const answer = await ask(example('days-below-refill-last-month'));
    expect(answer.rows.length).toBeGreaterThan(0);
    const lastMonthDays = new Date(new Date().getUTCFullYear(), new Date().getUTCMonth(), 0).getDate();
    for (const row of answer.rows) {
      expect(row.days_measured).toBeGreaterThan(0);
      expect(row.days_measured).toBeLessThanOrEqual(lastMonthDays);
      expect(row.days_below_refill).toBeLessThanOrEqual(row.days_measured as number);
    }
  });

  it('calibration history of each probe: one row per layer of every version', async () => {
    const answer = await ask(example('calibration-history-of-each-probe'));
    const [{ layers }] = (await stack.rows('SELECT count(*) AS layers FROM probe_soil_layers')) as [{ layers: number }];
    expect(answer.rows).toHaveLength(layers);
    expect(answer.rows.every((r) => r.valid_from === 'from the start' && r.valid_to === 'now')).toBe(true);
  });

  it('latest moisture profile: one row per moisture probe', async () => {
    const answer = await ask(example('latest-moisture-profile'));
    const [{ n }] = (await stack.rows("SELECT count(DISTINCT serial) AS n FROM readings WHERE type = 'MOISTURE'")) as [{ n: number }];
    expect(answer.rows).toHaveLength(n);
  });
});

/**
 * Filling gaps: `backfill` on demand and the scheduled `reconcile`, both idempotent with push: they store what
 * is missing and nothing that already landed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../src/job-runtime/runner.js';
import { sendPushes, uplinksFor, type Uplink } from '../src/simulator/index.js';
import { NOW } from './helpers/account.js';
import { runCli, runCommand } from './helpers/cli.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const readingsIn = (uplinks: Uplink[]): number => uplinks.reduce((n, u) => n + u.readings.length, 0);

function window(from: number, to: number, serials?: string[]): Uplink[] {
  return [...uplinksFor(stack!.sim.account, { from: new Date(from), to: new Date(to), serials })];
}

async function push(uplinks: Uplink[]): Promise<void> {
  const result = await sendPushes(uplinks, { url: stack!.pushUrl, secret: PUSH_SECRET, uplinksPerRequest: 10 });
  expect(Object.keys(result.statuses)).toEqual(['202']);
  await stack!.drained();
}

describe('backfill after an outage', () => {
  it('fills exactly the gap, inserts nothing where pushes landed, and resumes instead of starting over', async () => {
    stack = await startStack();
    const start = NOW.getTime() - 3 * DAY;
    const before = window(start, start + DAY);
    const outage = window(start + DAY, start + 2 * DAY);
    const after = window(start + 2 * DAY, NOW.getTime());
    await push([...before, ...after]);
    expect((await runCommand(['sync', 'probes'], stack.place.env)).code).toBe(0);

    const from = new Date(start).toISOString();
    // as a user runs it, progress bar on stderr included; the runs after it in this process
    const first = await runCli(['backfill', '--from', from, '--to', NOW.toISOString()], stack.place.env);
    expect(first.code).toBe(0);
    const total = readingsIn([...before, ...outage, ...after]);
    expect(first.stdout).toMatch(
      new RegExp(
        `^backfill {2}succeeded {2}3 probes, 3 chunks \\(0 already done\\), ${total} readings read: ${readingsIn(outage)} new readings`,
      ),
    );
    expect(first.stderr).toContain('backfill [##############################] 3/3 (100%)');
    expect(await stack.rows('SELECT source, count(*) AS n FROM readings GROUP BY source ORDER BY source')).toEqual([
      { source: 'backfill', n: readingsIn(outage) },
      { source: 'push', n: readingsIn([...before, ...after]) },
    ]);
    expect(await stack.rows('SELECT count(*) AS n FROM reading_conflicts')).toEqual([{ n: 0 }]);

    const again = await runCommand(['backfill', '--from', from, '--to', NOW.toISOString()], stack.place.env);
    expect(again.stdout).toMatch(/3 chunks \(3 already done\), 0 readings read: no change/);
    const overlapping = await runCommand(
      [
        'backfill',
        '--from',
        new Date(start + 12 * HOUR).toISOString(),
        '--to',
        NOW.toISOString(),
        '--probe',
        '24000092105',
      ],
      stack.place.env,
    );
    expect(overlapping.stdout).toMatch(/1 probe, 1 chunks \(0 already done\), \d+ readings read: no change/);
  });

  it('refuses a probe the warehouse does not know, and dates the wrong way round', async () => {
    stack = await startStack();
    const unknown = await runCommand(
      ['backfill', '--from', '2024-07-01', '--to', '2024-07-02', '--probe', '24000000000'],
      stack.place.env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no probe with serial 24000000000 in the warehouse');
    const backwards = await runCommand(['backfill', '--from', '2024-07-02', '--to', '2024-07-01'], stack.place.env);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr.trim()).toBe(
      'sensoterra-sync: --from 2024-07-02T00:00:00.000Z must be before --to 2024-07-01T00:00:00.000Z',
    );
  });
});

describe('reconcile', () => {
  it('pulls the gap of a probe that went quiet for longer than STALE_AFTER_HOURS, and leaves the others alone', async () => {
    stack = await startStack({ env: { STALE_AFTER_HOURS: '3' } });
    const quiet = '24000092104'; // measures at :05; its pushes stopped six hours ago
    stack.sim.setNow(new Date(NOW.getTime() - 6 * HOUR));
    await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
    stack.sim.setNow(NOW);
    await push(window(NOW.getTime() - 6 * HOUR, NOW.getTime(), ['24000092105', '24000092106']));

    const report = await runJob('reconcile', {}, stack.worker.deps, { trigger: 'schedule' });

    const gap = window(NOW.getTime() - 6 * HOUR, NOW.getTime(), [quiet]);
    expect(gap).toHaveLength(6); // 05:05 ... 10:05
    expect(report).toMatchObject({ status: 'succeeded', inserted: readingsIn(gap), details: { staleProbes: 1 } });
    expect(
      await stack.rows(`SELECT serial, count(*) AS n FROM readings WHERE source = 'reconcile' GROUP BY serial`),
    ).toEqual([{ serial: quiet, n: readingsIn(gap) }]);
    const again = await runJob('reconcile', {}, stack.worker.deps, { trigger: 'schedule' });
    expect(again).toMatchObject({ inserted: 0, details: { staleProbes: 0 } });
  });
});

/**
 * One rule for time and one for readings, on every path: a reading that arrives by push, in a probe's status and
 * from the historic endpoint, its time written with or without an offset, in the T or the space form, is one row
 * at the one right instant, whatever the host's time zone. The suite runs this file in Australia/Adelaide
 * (+09:30/+10:30, a half-hour offset with daylight saving; vitest.config.ts), and the backfill below runs its
 * command under Adelaide explicitly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { WorkerService } from '../src/service/worker.js';
import { NOW } from './helpers/account.js';
import { runCli } from './helpers/cli.js';
import { post, startStack, type Stack } from './helpers/stack.js';
import { readRows } from './helpers/warehouse.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const SERIAL = '24000092104';
const PROBE_ID = 49205;

/** GET /probe as the service might answer it: one probe whose status writes its times in other forms. */
function probeList(lastUpdate: string, lastReadings: unknown[]): string {
  return JSON.stringify([
    {
      id: PROBE_ID,
      serial: SERIAL,
      name: 'North 1',
      sku: 'ST-MULTI-60',
      state: 'ACTIVE',
      customer_id: 39,
      interval: 60,
      unit: '%',
      soil_profile: [{ depth: 0, soil: 'CLAY' }],
      status: {
        last_update: lastUpdate,
        battery: 'NORMAL',
        rssi: -97,
        connectivity: 'GOOD',
        last_readings: lastReadings,
      },
    },
  ]);
}

describe('the same reading by push, in a status and from history', () => {
  it('is one row at the right instant, whichever form each path writes its time in', async () => {
    stack = await startStack();
    // 09:05 UTC on 8 July 2024, written five ways
    const pushed = await post(
      stack.pushUrl,
      JSON.stringify({
        serial: SERIAL,
        readings: [{ type: 'MOISTURE', depth: 15, value: 27.4, unit: '%', timestamp: '2024-07-08T09:05:00' }],
      }),
    );
    expect(pushed.status).toBe(202);
    await stack.drained();

    stack.sim.addFault({
      kind: 'status',
      status: 200,
      when: { method: 'GET', path: '/probe' },
      body: probeList('2024-07-08 09:05:00', [
        { type: 'MOISTURE', depth: 15, value: 27.4, unit: '%', timestamp: '2024-07-08 18:35:00+09:30' },
        { type: 'moisture', depth: 30, value: '25.1', unit: '%', timestamp: null }, // takes last_update, in the space form
        { type: 'TEMPERATURE', value: 18.6, unit: '°C', timestamp: '2024-02-30 09:05:00' }, // no such day: skipped, counted
      ]),
    });
    const sync = await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
    expect(sync.details?.statusReadingsSkipped).toEqual({
      total: 1,
      reasons: { [`${SERIAL}: timestamp "2024-02-30 09:05:00" is not a calendar date`]: 1 },
    });

    stack.sim.addFault({
      kind: 'status',
      status: 200,
      when: { method: 'GET', path: `/probe/${PROBE_ID}/` },
      body: JSON.stringify([
        { timestamp: '2024-07-08T11:05:00+02:00', height: 15, unit: '%', value: 27.4 },
        { timestamp: '2024-07-08T09:05:00.000Z', height: 30, unit: '%', value: 25.1 },
        { timestamp: '2024-07-08 09:05', height: 45, unit: '%', value: '22.0' },
        { timestamp: '2024-07-08T09:05:00Z', height: 60, unit: '%', value: '0x16' }, // not a decimal number: skipped, counted
      ]),
    });
    const backfill = await runJob(
      'backfill',
      { from: '2024-07-08', to: '2024-07-08T10:00:00', probe: SERIAL },
      stack.worker.deps,
      { trigger: 'command' },
    );
    expect(backfill.details?.readingsSkipped).toEqual({
      total: 1,
      reasons: { [`${SERIAL}: value "0x16" is not a finite decimal number`]: 1 },
    });

    const at = new Date('2024-07-08T09:05:00Z');
    expect(
      await stack.rows(
        "SELECT type, depth_cm, ts, value, source FROM readings WHERE type = 'MOISTURE' ORDER BY depth_cm",
      ),
    ).toEqual([
      { type: 'MOISTURE', depth_cm: 15, ts: at, value: 27.4, source: 'push' },
      { type: 'MOISTURE', depth_cm: 30, ts: at, value: 25.1, source: 'status' },
      { type: 'MOISTURE', depth_cm: 45, ts: at, value: 22, source: 'backfill' },
    ]);
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 3 }]);
    expect(await stack.rows('SELECT count(*) AS n FROM reading_conflicts')).toEqual([{ n: 0 }]);
    expect(
      await readRows(stack.worker.deps.db, 'SELECT last_update FROM probe_status WHERE serial = $serial', {
        serial: SERIAL,
      }),
    ).toContainEqual({ last_update: at });
  });
});

describe('a backfill on a host far from UTC', () => {
  it('lands every reading at the instant the simulator served, its dates read as UTC', async () => {
    stack = await startStack();
    expect((await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' })).status).toBe('succeeded');
    // the command opens the warehouse itself, in a process of its own that lives in Adelaide
    await stack.worker.stop();
    const env = { ...stack.place.env, TZ: 'Australia/Adelaide' };
    const result = await runCli(
      ['backfill', '--from', '2024-07-06', '--to', '2024-07-08T00:00:00', '--probe', SERIAL],
      env,
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    stack.worker = await WorkerService.start(stack.place.config, createLogger('silent'), { clock: () => NOW });

    const served = stack.sim.readings(SERIAL, new Date('2024-07-06T00:00:00Z'), new Date('2024-07-08T00:00:00Z'));
    expect(served.length).toBe(2 * 24 * 5); // two days, hourly: moisture at four depths and a temperature
    const stored = await stack.rows(
      "SELECT ts, depth_cm, value FROM readings WHERE source = 'backfill' ORDER BY ts, depth_cm NULLS FIRST",
    );
    expect(stored.map((r) => [(r.ts as Date).toISOString(), r.depth_cm, r.value])).toEqual(
      served
        .map((h) => [new Date(h.timestamp).toISOString(), h.height, Number(h.value)] as const)
        .sort((a, b) => a[0].localeCompare(b[0]) || (a[1] ?? -1) - (b[1] ?? -1)),
    );
  });
});

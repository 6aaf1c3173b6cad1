/**
 * The views agronomists query: which calibration held when a reading was taken, local days (daylight saving
 * included), coverage, where a day stood against the soil's water thresholds, and which probes went quiet.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { runJob } from '../src/job-runtime/runner.js';
import { sendPushes, uplinksFor } from '../src/simulator/index.js';
import { NOW } from './helpers/account.js';
import { post, PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { runSql } from './helpers/warehouse.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function syncProbes(): Promise<void> {
  expect(await runJob('sync-probes', {}, stack!.worker.deps, { trigger: 'command' })).toMatchObject({
    status: 'succeeded',
  });
}

async function pushWindow(from: Date, to: Date, serials?: string[]): Promise<void> {
  const result = await sendPushes(uplinksFor(stack!.sim.account, { from, to, serials }), {
    url: stack!.pushUrl,
    secret: PUSH_SECRET,
    uplinksPerRequest: 10,
  });
  expect(Object.keys(result.statuses)).toEqual(['202']);
  await stack!.drained();
}

/** Readings written out by hand: [depth, value, timestamp] of one probe. */
async function pushValues(serial: string, type: string, readings: [number | null, number, string][]): Promise<void> {
  const body = JSON.stringify(
    readings.map(([depth, value, timestamp]) => ({
      serial,
      readings: [{ type, depth, value, timestamp, unit: type === 'SI' ? 'SI' : '%' }],
    })),
  );
  expect((await post(stack!.pushUrl, body)).status).toBe(202);
  await stack!.drained();
}

describe('readings_enriched', () => {
  it('gives a reading before a re-calibration the old soil type, and one after it the new', async () => {
    stack = await startStack();
    const recalibratedAt = new Date(NOW.getTime() - DAY);
    stack.setClock(new Date(NOW.getTime() - 2 * DAY));
    for (const job of ['sync-parameters', 'sync-locations', 'sync-customers']) {
      expect(await runJob(job, {}, stack.worker.deps, { trigger: 'command' })).toMatchObject({ status: 'succeeded' });
    }
    await syncProbes(); // also stores the probe's last readings, of 10:06 that day
    await pushWindow(new Date(NOW.getTime() - 2 * DAY), recalibratedAt, ['24000092105']);
    stack.sim.recalibrateProbe('24000092105', [{ depth: 0, soil: 'CLAY' }]);
    stack.setClock(recalibratedAt);
    await syncProbes();
    stack.setClock(NOW);
    await pushWindow(recalibratedAt, NOW, ['24000092105']);

    const bySoil = await stack.rows(`
      SELECT soil_key, soil_name, min(ts) AS first, max(ts) AS last, count(*) AS readings
      FROM readings_enriched WHERE serial = '24000092105' AND type = 'SI' GROUP BY ALL ORDER BY first`);
    // the probe measures SI at 15 cm every hour at :06 (its id 49206 % 60)
    expect(bySoil).toEqual([
      {
        soil_key: 'LOAM',
        soil_name: 'Loam',
        first: new Date('2024-07-06T10:06:00Z'),
        last: new Date('2024-07-07T10:06:00Z'),
        readings: 25,
      },
      {
        soil_key: 'CLAY',
        soil_name: 'Clay',
        first: new Date('2024-07-07T11:06:00Z'),
        last: new Date('2024-07-08T10:06:00Z'),
        readings: 24,
      },
    ]);
    // a temperature reading has no depth, so no soil; it still has its probe, customer and location
    expect(
      await stack.rows(
        `SELECT DISTINCT soil_key, probe_name, customer_name_current, location_name_current FROM readings_enriched WHERE serial = '24000092105' AND type = 'TEMPERATURE'`,
      ),
    ).toEqual([
      {
        soil_key: null,
        probe_name: 'North 2',
        customer_name_current: 'Green Acres',
        location_name_current: 'North field',
      },
    ]);
  });
});

describe('readings_daily', () => {
  it('counts local days where the probe stands: 23 and 25 expected hours on the daylight-saving days', async () => {
    const now = new Date('2024-11-01T00:00:00Z');
    stack = await startStack({ now });
    await syncProbes();
    // North 1 stands in Amsterdam (52.356, 4.955); it measures hourly
    await pushWindow(new Date('2024-03-30T00:00:00Z'), new Date('2024-04-02T00:00:00Z'), ['24000092104']);
    await pushWindow(new Date('2024-10-26T00:00:00Z'), new Date('2024-10-29T00:00:00Z'), ['24000092104']);
    const days = await stack.rows(`
      SELECT day, time_zone, day_hours, readings, expected_readings, coverage FROM readings_daily
      WHERE serial = '24000092104' AND type = 'MOISTURE' AND depth_cm = 15 AND day IN ('2024-03-31', '2024-04-01', '2024-10-27', '2024-10-28')
      ORDER BY day`);
    expect(days).toEqual([
      {
        day: '2024-03-31',
        time_zone: 'Europe/Amsterdam',
        day_hours: 23,
        readings: 23,
        expected_readings: 23,
        coverage: 1,
      },
      {
        day: '2024-04-01',
        time_zone: 'Europe/Amsterdam',
        day_hours: 24,
        readings: 24,
        expected_readings: 24,
        coverage: 1,
      },
      {
        day: '2024-10-27',
        time_zone: 'Europe/Amsterdam',
        day_hours: 25,
        readings: 25,
        expected_readings: 25,
        coverage: 1,
      },
      {
        day: '2024-10-28',
        time_zone: 'Europe/Amsterdam',
        day_hours: 24,
        readings: 24,
        expected_readings: 24,
        coverage: 1,
      },
    ]);
  });

  it("puts a reading on its local day to the minute: St John's moved its clocks back at 00:01 in 2001", async () => {
    stack = await startStack({ env: { TIME_ZONE_OVERRIDES: '24000092104=America/St_Johns' } });
    await syncProbes();
    // 2001-10-28 00:01 NDT (-2:30) = 02:31 UTC became 2001-10-27 23:01 NST (-3:30): a reading every minute around it
    const minutes = Array.from({ length: 16 }, (_, i) => new Date(Date.UTC(2001, 9, 28, 2, 25 + i)).toISOString());
    await pushValues(
      '24000092104',
      'MOISTURE',
      minutes.map((ts) => [15, 30, ts]),
    );
    const days = await stack.rows(`
      SELECT day, time_zone, readings FROM readings_daily
      WHERE serial = '24000092104' AND type = 'MOISTURE' AND depth_cm = 15 AND day < '2002-01-01' ORDER BY day`);
    // 02:25-02:29 UTC are 23:55-23:59 NDT on the 27th, 02:30 is 00:00 NDT on the 28th, 02:31-02:40 are 23:01-23:10
    // NST on the 27th again
    expect(days).toEqual([
      { day: '2001-10-27', time_zone: 'America/St_Johns', readings: 15 },
      { day: '2001-10-28', time_zone: 'America/St_Johns', readings: 1 },
    ]);
  });

  it('shows a gap as coverage below 1', async () => {
    stack = await startStack();
    await syncProbes();
    const day = Date.parse('2024-07-06T22:00:00Z'); // 2024-07-07 in Amsterdam
    await pushWindow(new Date(day), new Date(day + 9 * HOUR), ['24000092104']);
    await pushWindow(new Date(day + 15 * HOUR), new Date(day + DAY), ['24000092104']);
    expect(
      await stack.rows(
        `SELECT readings, expected_readings, coverage FROM readings_daily WHERE serial = '24000092104' AND depth_cm = 30 AND day = '2024-07-07'`,
      ),
    ).toEqual([{ readings: 18, expected_readings: 24, coverage: 0.75 }]);
  });

  it('says where each day stood against the soil water thresholds of the soil at that depth', async () => {
    stack = await startStack();
    await syncProbes();
    // North 1: CLAY from 0 cm, SAND from 30 cm. CLAY: wilting 22, refill 29, field capacity 36; SAND: 4.5, 8.25, 12
    const at = '2024-07-07T12:05:00Z';
    await pushValues('24000092104', 'MOISTURE', [
      [15, 20, at],
      [30, 10, at],
      [45, 13, at],
      [60, 6, at],
    ]);
    await pushValues('24000092105', 'SI', [[15, 3, at]]); // SI zones: wilting 2, refill 4, field capacity 8
    expect(
      await stack.rows(
        `SELECT serial, depth_cm, soil_key, water_status FROM readings_daily WHERE day = '2024-07-07' AND type <> 'TEMPERATURE' ORDER BY serial, depth_cm`,
      ),
    ).toEqual([
      { serial: '24000092104', depth_cm: 15, soil_key: 'CLAY', water_status: 'below wilting point' },
      { serial: '24000092104', depth_cm: 30, soil_key: 'SAND', water_status: 'available' },
      { serial: '24000092104', depth_cm: 45, soil_key: 'SAND', water_status: 'above field capacity' },
      { serial: '24000092104', depth_cm: 60, soil_key: 'SAND', water_status: 'below refill' },
      { serial: '24000092105', depth_cm: 15, soil_key: 'LOAM', water_status: 'below refill' },
    ]);
  });

  it('uses thresholds from SOIL_THRESHOLDS_FILE over the defaults', async () => {
    const file = join(tmpdir(), `thresholds-${process.pid}.csv`);
    writeFileSync(file, 'soil_key,wilting_point_pct,refill_pct,field_capacity_pct\nCLAY,12,18,30\n');
    onTestFinished(() => rmSync(file, { force: true }));
    stack = await startStack({ env: { SOIL_THRESHOLDS_FILE: file } });
    await syncProbes();
    await pushValues('24000092104', 'MOISTURE', [[15, 20, '2024-07-07T12:05:00Z']]);
    expect(
      await stack.rows(
        `SELECT water_status FROM readings_daily WHERE serial = '24000092104' AND depth_cm = 15 AND day = '2024-07-07'`,
      ),
    ).toEqual([{ water_status: 'available' }]);
    expect(
      await stack.rows(
        `SELECT wilting_point_pct, refill_pct, field_capacity_pct, source FROM soil_thresholds WHERE soil_key = 'CLAY'`,
      ),
    ).toEqual([{ wilting_point_pct: 12, refill_pct: 18, field_capacity_pct: 30, source: 'SOIL_THRESHOLDS_FILE' }]);
  });

  it('moves the days of a probe from REPORT_TZ to its own time zone once it is synced with coordinates', async () => {
    stack = await startStack({ env: { REPORT_TZ: 'America/New_York' } });
    await pushValues('24000092104', 'MOISTURE', [[15, 30, '2024-07-08T02:00:00Z']]); // 22:00 on the 7th in New York
    expect(await stack.rows(`SELECT day, time_zone FROM readings_daily`)).toEqual([
      { day: '2024-07-07', time_zone: 'America/New_York' },
    ]);
    await syncProbes(); // it stands in Amsterdam: 04:00 on the 8th
    // the rollup moved: no row for the 7th remains; the 8th holds the pushed reading and the status one of 10:05
    expect(
      await stack.rows(
        `SELECT day, time_zone, readings FROM readings_daily WHERE depth_cm = 15 AND serial = '24000092104'`,
      ),
    ).toEqual([{ day: '2024-07-08', time_zone: 'Europe/Amsterdam', readings: 2 }]);
  });
});

describe('the daily rollup', () => {
  // a day's row set by hand to a count no rebuild would give: it shows whether a change rolled the probe up again
  async function markedByHand(): Promise<void> {
    await runSql(stack!.worker.deps.db, "UPDATE daily_rollup SET readings = 999 WHERE serial = '24000092104'");
  }
  const handCounts = async (): Promise<unknown[]> =>
    stack!.rows("SELECT DISTINCT readings FROM daily_rollup WHERE serial = '24000092104' ORDER BY readings");

  const dayCount = async (day: string): Promise<unknown[]> =>
    stack!.rows(
      `SELECT readings FROM daily_rollup WHERE serial = '24000092104' AND type = 'MOISTURE' AND depth_cm = 15 AND day = '${day}'`,
    );

  it('is not rebuilt for a rename or a customer move; a new time zone rebuilds the days of the version it ends, not older ones', async () => {
    stack = await startStack(); // 2024-07-08 10:30 UTC
    await syncProbes();
    await pushValues('24000092104', 'MOISTURE', [[15, 30, '2024-07-06T02:00:00Z']]);
    await markedByHand();

    stack.sim.renameProbe('24000092104', 'North 1 (renamed)');
    stack.sim.transferProbe('24000092104', 40);
    await syncProbes(); // a new version from 2024-07-08 10:30
    expect(await handCounts()).toEqual([{ readings: 999 }]);

    stack.setClock(new Date('2024-07-09T12:00:00Z'));
    await pushValues('24000092104', 'MOISTURE', [[15, 31, '2024-07-09T08:00:00Z']]);
    await markedByHand();
    // new coordinates, in another time zone: the days from the current version's start are rolled up again
    stack.sim.moveProbe('24000092104', { latitude: -33.87, longitude: 151.2 });
    await syncProbes();
    expect(await dayCount('2024-07-06')).toEqual([{ readings: 999 }]);
    expect(await dayCount('2024-07-09')).not.toContainEqual({ readings: 999 });
  });

  it('expects the readings of the interval that held on each day', async () => {
    stack = await startStack({ now: new Date('2024-07-09T06:00:00Z') });
    await syncProbes(); // North 1 measures hourly
    await pushValues('24000092104', 'MOISTURE', [[15, 30, '2024-07-08T02:00:00Z']]);
    stack.setClock(new Date('2024-07-09T12:00:00Z'));
    stack.sim.setMeasuringInterval('24000092104', 15);
    await syncProbes(); // a new version from 2024-07-09 12:00, every 15 minutes
    await pushValues('24000092104', 'MOISTURE', [[15, 32, '2024-07-10T02:00:00Z']]);
    expect(
      await stack.rows(
        "SELECT day, expected_readings FROM readings_daily WHERE serial = '24000092104' AND type = 'MOISTURE' AND depth_cm = 15 AND day IN ('2024-07-08', '2024-07-10') ORDER BY day",
      ),
    ).toEqual([
      { day: '2024-07-08', expected_readings: 24 },
      { day: '2024-07-10', expected_readings: 96 },
    ]);
    expect(
      await stack.rows(
        "SELECT interval_minutes, is_current FROM probe_history WHERE serial = '24000092104' ORDER BY valid_from",
      ),
    ).toEqual([
      { interval_minutes: 60, is_current: false },
      { interval_minutes: 15, is_current: true },
    ]);
  });
});

describe('probe_health', () => {
  it('flags a probe quiet for longer than STALE_AFTER_HOURS, and counts the hours without readings', async () => {
    stack = await startStack({ env: { STALE_AFTER_HOURS: '3' } });
    await syncProbes();
    const hoursAgo = (h: number): string =>
      new Date(Math.floor(Date.now() / HOUR) * HOUR - h * HOUR + 60_000).toISOString();
    await pushValues('24000092104', 'MOISTURE', [
      [15, 30, hoursAgo(1)],
      [15, 30, hoursAgo(2)],
    ]);
    await pushValues('24000092105', 'SI', [[15, 5, hoursAgo(5)]]);
    expect(await stack.rows('SELECT serial, stale, hours_missing_7d FROM probe_health ORDER BY serial')).toEqual([
      { serial: '24000092104', stale: false, hours_missing_7d: 166 },
      { serial: '24000092105', stale: true, hours_missing_7d: 167 },
      { serial: '24000092106', stale: true, hours_missing_7d: 168 },
    ]);
  });

  it('counts 168 hours, the current one and the 167 before it: none missing for a probe that measured in each of them', async () => {
    stack = await startStack();
    await syncProbes();
    const now = Date.now();
    const readings: [number, number, string][] = [];
    // at the start and the last second of every hour of the last 8 days: whatever the minute now, the hour that
    // began 168 hours ago has a reading after the moment exactly 7 days ago
    for (let hour = Math.floor(now / HOUR) * HOUR - 8 * 24 * HOUR; hour <= now; hour += HOUR) {
      readings.push([15, 30, new Date(hour).toISOString()]);
      if (hour + HOUR - 1000 <= now) readings.push([15, 31, new Date(hour + HOUR - 1000).toISOString()]);
    }
    await pushValues('24000092104', 'MOISTURE', readings);
    // and one at the start of the next hour, as a probe whose clock runs a few minutes fast may push before it
    await runSql(
      stack.worker.deps.db,
      `INSERT INTO readings (serial, type, depth_cm, ts, value, unit, source, received_at)
        VALUES ('24000092104', 'MOISTURE', 15, to_timestamp((epoch_us(now()) // 3600000000 + 1) * 3600), 30, '%', 'push', now())`,
    );
    expect(await stack.rows("SELECT hours_missing_7d FROM probe_health WHERE serial = '24000092104'")).toEqual([
      { hours_missing_7d: 0 },
    ]);
  });
});

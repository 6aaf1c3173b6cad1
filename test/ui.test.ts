/**
 * The web page (UI_PORT): read-only, behind UI_TOKEN when set, and in a real browser (Debian's chromium, driven by
 * playwright-core, in a time zone far from UTC) every page loads with no console error, no failed request and
 * nothing asked of another host; the probe chart draws exactly the stored readings, breaks its line at a gap, and
 * its soil bands are the thresholds of the calibration in effect, moving at a re-calibration; the health table is
 * probe_health. Screenshots are kept in test-results/ui/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/dev/private-redis.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger } from '../src/logger.js';
import { closeRedis, producerConnection } from '../src/redis.js';
import { uplinksFor } from '../src/simulator/index.js';
import { UiServer } from '../src/ui/server.js';
import { NOW } from './helpers/account.js';
import { testPlace } from './helpers/config.js';
import { post, startStack, type Stack } from './helpers/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results', 'ui');
const SERIAL = '24000092104'; // 15 cm in CLAY, 30 to 60 cm in SAND; re-calibrated to LOAM half-way
const SI_SERIAL = '24000092105'; // a Sensoterra Index probe
/** In America/Santiago (by TIME_ZONE_OVERRIDES): 6 September 2026 has no midnight there, its clocks go 00:00 -> 01:00. */
const SANTIAGO_SERIAL = '24000092106';
const HOUR = 3_600_000;
const FROM = new Date(NOW.getTime() - 4 * 24 * HOUR);
const RECALIBRATED = new Date(NOW.getTime() - 2 * 24 * HOUR);
/** Hours without an uplink from the probe: the chart's line must break there. */
const GAP = { from: new Date(NOW.getTime() - 30 * HOUR), to: new Date(NOW.getTime() - 24 * HOUR) };

let stack: Stack;
let ui: string;

beforeAll(async () => {
  stack = await startStack({
    env: { UI_PORT: String(await freePort()), TIME_ZONE_OVERRIDES: `${SANTIAGO_SERIAL}=America/Santiago` },
    now: FROM,
  });
  ui = stack.worker.uiUrl!;
  const run = (job: string): Promise<unknown> => runJob(job, {}, stack.worker.deps, { trigger: 'command' });
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes']) await run(job);
  stack.sim.recalibrateProbe(SERIAL, [{ depth: 0, soil: 'LOAM' }]);
  stack.setClock(RECALIBRATED);
  await run('sync-probes');
  stack.setClock(NOW);
  await run('sync-probes');
  // hourly uplinks of the probe over the four days, but for the gap
  for (const uplink of uplinksFor(stack.sim.account, { from: FROM, to: NOW, serials: [SERIAL, SI_SERIAL] })) {
    const at = Date.parse(uplink.timestamp);
    if (uplink.serial === SERIAL && at >= GAP.from.getTime() && at < GAP.to.getTime()) continue;
    expect((await post(stack.pushUrl, JSON.stringify(uplink))).status).toBe(202);
  }
  await stack.drained();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${ui}${path}`, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('the web page over HTTP', () => {
  it('is read-only: anything but GET and HEAD is refused with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get('/api/probes', { method, body: method === 'DELETE' ? undefined : '{}' });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('answers a wrong question with a 400 that says what is expected', async () => {
    expect(await get('/api/probe?serial=%27%3B%20DROP')).toMatchObject({
      status: 400,
      body: '{"error":"serial: a probe serial (letters, digits, - and _) is needed"}',
    });
    expect((await get(`/api/probe?serial=${SERIAL}&from=yesterday&to=2024-07-08`)).body).toContain(
      'from: a date (2024-07-01) or an instant (2024-07-01T06:00:00Z) is needed',
    );
    expect((await get(`/api/probe?serial=${SERIAL}&from=2020-01-01&to=2024-07-08`)).body).toContain(
      'the range is longer than 400 days',
    );
    expect(await get('/api/probe?serial=99999999999')).toMatchObject({ status: 404 });
    expect((await get('/api/coverage?days=1000')).status).toBe(400);
  });

  it('reads a time without an offset as UTC, whatever the host’s zone, and refuses a date not in the calendar', async () => {
    const answer = await get(`/api/probe?serial=${SERIAL}&from=2024-07-05T10:00&to=2024-07-05 12:00`);
    expect(JSON.parse(answer.body)).toMatchObject({ from: '2024-07-05T10:00:00.000Z', to: '2024-07-05T12:00:00.000Z' });
    expect((await get(`/api/probe?serial=${SERIAL}&from=2024-02-30&to=2024-03-05`)).status).toBe(400);
  });

  it('without UI_TOKEN, answers only requests addressed to this machine (no DNS rebinding)', async () => {
    const asked = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const url = new URL(`${ui}/api/probes`);
        request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    const { port } = new URL(ui);
    expect(await asked(`attacker.example:${port}`)).toBe(421);
    expect(await asked(`localhost:${port}`)).toBe(200);
    expect(await asked(`127.0.0.1:${port}`)).toBe(200);
  });

  it('with UI_TOKEN, refuses a request without it, and keeps it in a cookie once opened as ?token=', async () => {
    const token = 'a-long-random-token-0123456789';
    const place = testPlace({ UI_PORT: String(await freePort()), UI_HOST: '0.0.0.0', UI_TOKEN: token });
    const redis = producerConnection(place.config.redisUrl);
    const guarded = await UiServer.start({
      db: stack.worker.deps.db,
      config: place.config,
      log: createLogger('silent'),
      redis,
    });
    const url = `http://127.0.0.1:${place.config.ui.port}`;
    try {
      const refused = await fetch(`${url}/api/probes`);
      expect(refused.status).toBe(401);
      expect(await refused.text()).toContain('this page needs UI_TOKEN');
      expect((await fetch(`${url}/api/probes?token=wrong-token-of-the-same-size`)).status).toBe(401);
      expect((await fetch(`${url}/api/probes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${url}/api/probes`, { headers: { authorization: `bearer ${token}` } })).status).toBe(200);
      // the token leaves the address even with the cookie set, and the way back is always a path of this site
      const odd = await new Promise<string | undefined>((resolve, reject) => {
        const path = `/.//evil.example/?token=${token}`; // as sent, unnormalised: a URL parser makes //evil.example of it
        request({ host: '127.0.0.1', port: place.config.ui.port, path }, (res) => {
          res.resume();
          resolve(res.headers.location);
        })
          .on('error', reject)
          .end();
      });
      expect(odd).toBe('/evil.example/');
      const opened = await fetch(`${url}/probes?token=${token}`, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      expect(opened.headers.get('location')).toBe('/probes');
      const cookie = opened.headers.get('set-cookie')!;
      expect(cookie).toContain('HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000');
      const withCookie = await fetch(`${url}/probes`, { headers: { cookie: cookie.split(';')[0]! } });
      expect(withCookie.status).toBe(200);
    } finally {
      await guarded.stop();
      await closeRedis(redis);
      place.cleanup();
    }
  });

  it('refuses UI_HOST beyond loopback without UI_TOKEN, naming both', () => {
    expect(() => testPlace({ UI_PORT: '9000', UI_HOST: '0.0.0.0' })).toThrow(
      'UI_HOST=0.0.0.0 lets other machines reach the web page: set UI_TOKEN (openssl rand -hex 32), or UI_HOST=127.0.0.1',
    );
    testPlace({ UI_PORT: '9000', UI_HOST: '127.0.0.2' }).cleanup(); // loopback too: no token needed
  });
});

/** A browser as a user's, far from UTC, with every request, console message and page error noted. */
interface Browser {
  context: BrowserContext;
  problems: string[];
  open(path: string, shot: string): Promise<Page>;
  close(): Promise<void>;
}

const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.warn(`test/ui.test.ts: the browser tests are skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

/**
 * What each chart draws, from its uPlot instance (window.sensoterra.charts, src/ui/client/app.ts): x (epoch ms)
 * and each series' values, by chart.
 */
function chartData(page: Page): Promise<Record<string, (number | null)[][]>> {
  return page.evaluate(
    'Object.fromEntries(Object.entries(window.sensoterra.charts).map(([key, u]) => [key, u.data.map((s) => [...s])]))',
  );
}

describe.skipIf(chromiumMissing)('the web page in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    const profile = mkdtempSync(join(tmpdir(), 'sensoterra-chromium-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timezoneId: 'Pacific/Kiritimati', // UTC+14: a time read in the browser's zone shows up at once
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const host = new URL(ui).host;
    const problems: string[] = [];
    context.on('request', (req) => {
      if (new URL(req.url()).host !== host) problems.push(`a request to another host: ${req.url()}`);
    });
    context.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`));
    context.on('response', (res) => {
      if (res.status() >= 400) problems.push(`${res.status()}: ${res.url()}`);
    });
    context.on('weberror', (err) => problems.push(`page error: ${err.error().message}`));
    context.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    browser = {
      context,
      problems,
      async open(path, shot) {
        const page = await context.newPage();
        await page.goto(`${ui}${path}`);
        // a function, not a string: the page's Content-Security-Policy forbids eval, which a string predicate uses
        await page.waitForFunction(() => {
          const state = (globalThis as { sensoterra?: { ready: boolean; error?: string } }).sensoterra;
          return state?.ready === true || state?.error !== undefined;
        });
        expect(await page.evaluate('window.sensoterra.error')).toBeUndefined();
        await page.screenshot({ path: join(SCREENSHOTS, `${shot}.png`), fullPage: true });
        return page;
      },
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('loads every page with no console error, no failed request and nothing from another host', async () => {
    for (const [path, shot] of [
      ['/', 'service'],
      ['/probes', 'probes'],
      ['/coverage?days=92', 'coverage'],
      [`/probe?serial=${SERIAL}&from=${FROM.toISOString()}&to=${NOW.toISOString()}`, 'probe'],
    ] as const) {
      const page = await browser.open(path, shot);
      await page.close();
    }
    expect(browser.problems).toEqual([]);
  });

  it('draws exactly the stored readings of the range, breaking the line where the probe was silent', async () => {
    const page = await browser.open(
      `/probe?serial=${SERIAL}&from=${FROM.toISOString()}&to=${NOW.toISOString()}`,
      'probe-range',
    );
    const charts = await chartData(page);
    const stored = await stack.rows(
      `SELECT type, depth_cm, list(epoch_ms(ts) ORDER BY ts) AS t, list(value ORDER BY ts) AS v FROM readings
       WHERE serial = '${SERIAL}' AND ts >= '${FROM.toISOString()}' AND ts < '${NOW.toISOString()}' GROUP BY ALL`,
    );
    expect(Object.keys(charts).sort()).toEqual([
      'moisture 15',
      'moisture 30',
      'moisture 45',
      'moisture 60',
      'temperature',
    ]);
    for (const s of stored) {
      const key = s.type === 'MOISTURE' ? `moisture ${s.depth_cm}` : 'temperature';
      const [x, y] = charts[key]! as [number[], (number | null)[]];
      const drawn = x.flatMap((t, i) => (y[i] === null ? [] : [[t, y[i]]]));
      const t = (s.t as bigint[]).map(Number);
      expect(drawn, key).toEqual(t.map((ms, i) => [ms, (s.v as number[])[i]]));
      // one null, in the gap: the readings on either side are 7 hours apart, the interval is one
      const breaks = x.filter((_, i) => y[i] === null);
      expect(breaks, key).toHaveLength(1);
      expect(breaks[0]!).toBeGreaterThan(GAP.from.getTime() - HOUR);
      expect(breaks[0]!).toBeLessThan(GAP.to.getTime());
    }
    // pixels drawn on each chart's canvas
    const blank = await page.evaluate<number[]>(`[...document.querySelectorAll('canvas')].map((c) => {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
      return inked;
    })`);
    expect(blank).toHaveLength(5);
    for (const inked of blank) expect(inked).toBeGreaterThan(2_000);
    await page.close();
  });

  it('draws the soil bands of the calibration in effect, and moves them at the re-calibration', async () => {
    const page = await browser.open(
      `/probe?serial=${SERIAL}&from=${FROM.toISOString()}&to=${NOW.toISOString()}`,
      'probe-bands',
    );
    const thresholds = Object.fromEntries(
      (await stack.rows(`SELECT * FROM soil_thresholds WHERE soil_key IN ('CLAY', 'SAND', 'LOAM')`)).map((r) => [
        r.soil_key,
        [r.field_capacity_pct, r.refill_pct, r.wilting_point_pct],
      ]),
    );
    for (const [depth, before] of [
      ['15', 'CLAY'],
      ['45', 'SAND'],
    ] as const) {
      const [x, , fc, refill, wp] = (await chartData(page))[`moisture ${depth}`] as number[][];
      const at = (i: number): number[] => [fc![i]!, refill![i]!, wp![i]!];
      const early = x!.findIndex((t) => t < RECALIBRATED.getTime());
      const late = x!.findIndex((t) => t >= RECALIBRATED.getTime());
      const lastEarly = x!.findLastIndex((t) => t < RECALIBRATED.getTime());
      expect(at(early), `${depth} cm before`).toEqual(thresholds[before]);
      expect(at(lastEarly), `${depth} cm just before`).toEqual(thresholds[before]);
      expect(at(late), `${depth} cm from the re-calibration`).toEqual(thresholds.LOAM);
      expect(at(x!.length - 1), `${depth} cm at the end`).toEqual(thresholds.LOAM);
    }
    // the titles name the soils in the order they held
    expect(await page.textContent('[data-chart="moisture 15"] .u-title')).toBe('Moisture at 15 cm (CLAY then LOAM)');
    expect(await page.textContent('[data-chart="moisture 45"] .u-title')).toBe('Moisture at 45 cm (SAND then LOAM)');
    const label = await page.textContent('#range');
    expect(label).toContain('Times in Europe/Amsterdam, the probe’s local time');
    await page.close();
  });

  it('chooses a range in whole days of the probe’s own time zone, whatever the browser’s', async () => {
    const page = await browser.open(
      `/probe?serial=${SERIAL}&from=${FROM.toISOString()}&to=${NOW.toISOString()}`,
      'probe-form',
    );
    await page.fill('#range-from', '2024-07-05');
    await page.fill('#range-to', '2024-07-06');
    await Promise.all([page.waitForURL(/from=/), page.click('#range-form button')]);
    await page.waitForFunction(() => (globalThis as { sensoterra?: { ready: boolean } }).sensoterra?.ready === true);
    const url = new URL(page.url());
    // Europe/Amsterdam is two hours ahead in July: its 5 July begins at 22:00 UTC on the 4th
    expect(url.searchParams.get('from')).toBe('2024-07-04T22:00:00.000Z');
    expect(url.searchParams.get('to')).toBe('2024-07-06T22:00:00.000Z');
    const [x] = (await chartData(page))['moisture 15']!;
    expect(Math.min(...(x as number[]))).toBeGreaterThanOrEqual(Date.parse('2024-07-04T22:00:00Z'));
    expect(Math.max(...(x as number[]))).toBeLessThan(Date.parse('2024-07-06T22:00:00Z'));
    await page.close();
  });

  it('draws a Sensoterra Index probe against the SI zones', async () => {
    const page = await browser.open(
      `/probe?serial=${SI_SERIAL}&from=${FROM.toISOString()}&to=${NOW.toISOString()}`,
      'probe-si',
    );
    const [zones] = await stack.rows(`SELECT * FROM soil_thresholds WHERE soil_key = 'SI'`);
    const [x, y, fc, refill, wp] = (await chartData(page))['si 15'] as number[][];
    expect(y!.filter((v) => v !== null).length).toBeGreaterThan(48);
    for (const i of [0, x!.length - 1])
      expect([fc![i], refill![i], wp![i]]).toEqual([
        zones!.field_capacity_pct,
        zones!.refill_pct,
        zones!.wilting_point_pct,
      ]);
    await page.close();
  });

  it('begins a day where its midnight does not exist at the hour it does begin', async () => {
    const page = await browser.open(`/probe?serial=${SANTIAGO_SERIAL}&from=2026-09-01&to=2026-09-10`, 'probe-santiago');
    await page.fill('#range-from', '2026-09-06');
    await page.fill('#range-to', '2026-09-06');
    await Promise.all([page.waitForURL(/from=2026-09-06/), page.click('#range-form button')]);
    const url = new URL(page.url());
    // Santiago's 6 September 2026 runs from 01:00 -03 (04:00 UTC) to the 7th's midnight -03 (03:00 UTC): 23 hours
    expect(url.searchParams.get('from')).toBe('2026-09-06T04:00:00.000Z');
    expect(url.searchParams.get('to')).toBe('2026-09-07T03:00:00.000Z');
    await page.close();
  });

  it('shows every probe of probe_health in the health table, with its battery, signal, staleness and coverage', async () => {
    const page = await browser.open('/probes', 'probes-table');
    const shown = await page.$$eval('#health tbody tr', (rows) =>
      rows.map((tr) => ({
        serial: tr.getAttribute('data-serial'),
        battery: tr.querySelector('[data-col=battery]')!.textContent,
        rssi: tr.querySelector('[data-col=rssi]')!.textContent,
        stale: tr.querySelector('[data-col=stale]')!.textContent === 'stale',
        hoursMissing: Number(tr.querySelector('[data-col=coverage]')!.getAttribute('data-hours-missing')),
        lastSeenMs: Number(tr.querySelector('[data-col=last_seen]')!.getAttribute('data-ms')),
      })),
    );
    const health = await stack.rows(
      'SELECT serial, battery, rssi, stale, hours_missing_7d, epoch_ms(last_seen) AS last_seen_ms FROM probe_health ORDER BY stale DESC, serial',
    );
    expect(shown).toEqual(
      health.map((h) => ({
        serial: h.serial,
        battery: h.battery ?? '–',
        rssi: h.rssi === null ? '–' : `${h.rssi} dBm`,
        stale: h.stale,
        hoursMissing: Number(h.hours_missing_7d),
        lastSeenMs: Number(h.last_seen_ms),
      })),
    );
    expect(shown.length).toBe(3);
    // the filters: one customer's probes only
    await page.selectOption('#filter-customer', 'Hill Farm');
    expect(await page.$$eval('#health tbody tr', (rows) => rows.map((r) => r.getAttribute('data-serial')))).toEqual([
      '24000092106',
    ]);
    await page.close();
  });
});

/**
 * The work of the ui benchmark, in a process of its own: a warehouse of 1,000 probes with a year of hourly readings
 * each (5 series: 43.8 million readings, up to the current hour), then the worker's web page on it, asked over HTTP
 * as a browser asks, five times each: one probe's page for the whole year (5 series x 8,760 points, with its soil
 * bands), and the health table of the 1,000 probes. Each answer read whole and parsed, as the page's script does.
 * Usage: node ui-child.js DIR. Prints one JSON line of figures (median and slowest of each, in ms).
 */
import { freePort } from '../src/dev/private-redis.js';
import { createLogger } from '../src/logger.js';
import { closeRedis, producerConnection } from '../src/redis.js';
import { UiServer } from '../src/ui/server.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { configFor, cpuSeconds, hourlyWarehouse, peakMb, progress, timed, type Figures } from './lib/child-steps.js';
import { readRows } from './lib/warehouse-sql.js';

const PROBES = 1_000;
const HOURS = 8_760;
const RUNS = 5;
const log = createLogger('warn');

async function measure(dir: string): Promise<Figures> {
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const start = new Date(end - HOURS * 3_600_000).toISOString().replace('T', ' ').replace('.000Z', '+00');
  const built = await hourlyWarehouse(
    dir,
    { seed: 7, probes: PROBES, customers: 20, start, hours: HOURS, chunkHours: 400 },
    log,
  );
  const config = configFor(dir, { UI_PORT: String(await freePort()) });
  const db = await Warehouse.open(config.warehousePath, config.duckdb, log, config.exportDir);
  const redis = producerConnection(config.redisUrl);
  const ui = await UiServer.start({ db, config, log, redis });
  try {
    const [{ serial }] = (await readRows(db, 'SELECT min(serial) AS serial FROM probes')) as [{ serial: string }];
    const year = `/api/probe?serial=${serial}&from=${new Date(end - HOURS * 3_600_000).toISOString()}&to=${new Date(end).toISOString()}`;
    const ask = async (path: string): Promise<[unknown, number]> =>
      timed(async () => {
        const res = await fetch(`${ui.url}${path}`);
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      });
    const figures: Figures = {
      probes: Number(built.probes),
      readings: Number(built.readings),
      buildSeconds: (Number(built.insertMs) + Number(built.rollupMs)) / 1000,
    };
    for (const [name, path] of [
      ['probePage', year],
      ['healthTable', '/api/probes'],
    ] as const) {
      progress(`${name}: ${RUNS} times`);
      const times: number[] = [];
      let answer: unknown;
      for (let i = 0; i < RUNS; i++) {
        const [value, ms] = await ask(path);
        answer = value;
        times.push(ms);
      }
      times.sort((a, b) => a - b);
      figures[`${name}MedianMs`] = times[Math.floor(RUNS / 2)]!;
      figures[`${name}SlowestMs`] = times.at(-1)!;
      if (name === 'probePage') {
        const series = (answer as { series: { v: number[] }[] }).series;
        figures.probePageSeries = series.length;
        figures.probePagePoints = series.reduce((n, s) => n + s.v.length, 0);
      } else figures.healthTableRows = (answer as unknown[]).length;
    }
    return { ...figures, peakMb: peakMb(), cpuSeconds: cpuSeconds() };
  } finally {
    await ui.stop();
    await closeRedis(redis);
    await db.close();
  }
}

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: ui-child.js DIR\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await measure(dir))}\n`);

/**
 * `npm run demo`: the main job on embedded defaults, no account needed. Starts the bundled Sensoterra simulator,
 * the service (worker + receiver), runs every sync through the same Redis channel the commands use, has the
 * simulator push a week of readings through the receiver, prints a few answers an agronomist would ask for, and
 * publishes the export for BI tools. Everything it writes goes to ./data/demo/.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { environment, type Config } from '../config.js';
import { loadConfig } from './load-config.js';
import { askWorker } from '../control/channel.js';
import type { SyncAnswer } from '../control/handlers.js';
import { PrivateRedis, redisServerAvailable } from '../dev/private-redis.js';
import { RedisUnavailableError } from '../errors.js';
import { formatSyncAnswer } from '../format/sync-answer.js';
import { formatRows } from '../format/table.js';
import type { RunReport } from '../job-runtime/runner.js';
import { SQL_DIR } from '../paths.js';
import type { QueryResult } from '../warehouse/query/read-only.js';
import { createLogger, type Logger } from '../logger.js';
import { closeRedis, deleteKeysUnder, producerConnection, whenReady } from '../redis.js';
import { startService, type Service } from './service.js';
import { waitUntilIngested } from '../ingest/backlog.js';
import { PushReceiver } from '../receiver/server.js';
import {
  DEFAULT_EMAIL,
  DEFAULT_PASSWORD,
  Simulator,
  generateAccount,
  sendPushes,
  uplinksFor,
} from '../simulator/index.js';

const DEMO_DIR = resolve('data/demo');

type Print = (text: string) => Promise<void>;

export async function runDemo(print: Print): Promise<void> {
  const env = environment();
  const redis = await ensureRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', print);
  const sim = await Simulator.start({ account: generateAccount({ seed: 1, probes: 12, customers: 3 }) });
  rmSync(DEMO_DIR, { recursive: true, force: true });
  const config = demoConfig(env, sim.url, redis.url);
  const log = createLogger(config.logLevel);
  await print(
    `1. Sensoterra simulator: ${sim.account.probes.length} probes of ${sim.account.customers.length} customers, at ${sim.url}`,
  );
  await print(
    `2. Redis at ${redis.url}${redis.private ? ' (a private redis-server, stopped at the end)' : ''}, queue prefix ${config.queuePrefix}`,
  );
  // the demo's queues are thrown away at the end: Redis' persistence does not matter for them
  const service = await startService(config, log, 'all', { checkRedisDurability: false });
  try {
    await print(`3. Service started (worker + receiver); warehouse ${config.warehousePath}`);
    await print('4. sync all, asked through Redis and answered by the worker:');
    const answer = await askWorker<SyncAnswer>(config, 'sync', { target: 'all' }, { timeoutMs: 120_000 });
    await print(indent(formatSyncAnswer(answer)));
    await pushReadings(config, sim, receiverUrl(service), print);
    await printAnswers(config, print);
    const published = await askWorker<RunReport>(config, 'export', {}, { timeoutMs: 120_000 });
    await print(
      `${10}. Published for BI tools: ${published.summary}\n   ${join(config.exportDir, 'current')} -> ${String(published.details?.path)}`,
    );
  } finally {
    await service.stop();
    await deleteDemoKeys(config, log);
    await sim.close();
    await redis.stop();
  }
  await print(
    `Done. Everything is in ${DEMO_DIR}. Try:\n   duckdb -readonly ${join(config.exportDir, 'current', 'warehouse.duckdb')}\n   WAREHOUSE_PATH=${config.warehousePath} npx sensoterra-sync query "SELECT * FROM probe_health"`,
  );
}

function demoConfig(env: Record<string, string | undefined>, apiUrl: string, redisUrl: string): Config {
  return loadConfig({
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    DUCKDB_MEMORY_LIMIT: env.DUCKDB_MEMORY_LIMIT,
    DUCKDB_THREADS: env.DUCKDB_THREADS,
    SENSOTERRA_API_URL: apiUrl,
    SENSOTERRA_EMAIL: DEFAULT_EMAIL,
    SENSOTERRA_PASSWORD: DEFAULT_PASSWORD,
    SENSOTERRA_RATE_LIMIT: '50',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `sensoterra-demo-${randomBytes(3).toString('hex')}`,
    WAREHOUSE_PATH: resolve(DEMO_DIR, 'warehouse.duckdb'),
    EXPORT_DIR: resolve(DEMO_DIR, 'export'),
    PUSH_PORT: '0',
    PUSH_SECRET: randomBytes(16).toString('hex'),
  });
}

interface DemoRedis {
  url: string;
  private: boolean;
  stop(): Promise<void>;
}

/** The configured Redis if it answers; else a private redis-server if one is installed; else one line on how to get Redis. */
async function ensureRedis(url: string, print: Print): Promise<DemoRedis> {
  const probe = producerConnection(url);
  try {
    await whenReady(probe, url, 1_500);
    return { url, private: false, stop: async () => undefined };
  } catch (err) {
    if (!(err instanceof RedisUnavailableError)) throw err;
  } finally {
    await closeRedis(probe);
  }
  if (!redisServerAvailable()) {
    throw new RedisUnavailableError(url);
  }
  await print(`No Redis answers at ${url}: starting a private redis-server for the demo.`);
  const own = await PrivateRedis.start();
  return { url: own.url, private: true, stop: () => own.destroy() };
}

/** The simulator's probes push their last 7 days of readings to the receiver, as Sensoterra's HTTP Push would. */
async function pushReadings(config: Config, sim: Simulator, url: string, print: Print): Promise<void> {
  const to = new Date();
  const from = new Date(to.getTime() - 7 * 24 * 3_600_000);
  const started = Date.now();
  const sent = await sendPushes(uplinksFor(sim.account, { from, to }), {
    url,
    secret: config.push.secret,
    uplinksPerRequest: 1,
    concurrency: 8,
  });
  await waitUntilIngested(config);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  await print(
    `5. Pushed the last 7 days: ${sent.readings} readings in ${sent.requests} requests (${JSON.stringify(sent.statuses)}), all in the warehouse after ${seconds} s`,
  );
}

function receiverUrl(service: Service): string {
  const receiver = service.parts.find((p): p is PushReceiver => p instanceof PushReceiver);
  if (!receiver) throw new Error('the demo runs the receiver role');
  return `${receiver.url}${receiver.path}`;
}

/** Questions an agronomist would ask, asked the way a user would: `query`, through the worker. */
async function printAnswers(config: Config, print: Print): Promise<void> {
  const ask = (sql: string): Promise<QueryResult> =>
    askWorker<QueryResult>(config, 'query', { sql }, { timeoutMs: 60_000 });
  const field = (await ask(FIELD_WITH_A_30_CM_SENSOR)).rows[0]?.name ?? 'North field';
  const questions: [string, string][] = [
    ['Probes per customer, with their fields', PROBES_PER_CUSTOMER],
    [
      `How wet was ${field} at 30 cm last week? (sql/examples/how-wet-was-a-field-last-week.sql)`,
      example('how-wet-was-a-field-last-week').replace("'North field'", `'${String(field).replaceAll("'", "''")}'`),
    ],
    [
      'What is the latest moisture profile of every probe? (sql/examples/latest-moisture-profile.sql)',
      example('latest-moisture-profile'),
    ],
    ['Which probes need a battery soon?', BATTERIES],
  ];
  let n = 6;
  for (const [question, sql] of questions) {
    const answer = await ask(sql);
    await print(`${n++}. ${question}\n${indent(formatRows(answer.columns, answer.rows, 'table'))}`);
  }
}

function example(name: string): string {
  return readFileSync(join(SQL_DIR, 'examples', `${name}.sql`), 'utf8');
}

const FIELD_WITH_A_30_CM_SENSOR = `SELECT l.name FROM locations l JOIN probes p ON p.location_id = l.id
  WHERE p.serial IN (SELECT serial FROM readings WHERE type = 'MOISTURE' AND depth_cm = 30) ORDER BY l.name LIMIT 1`;
const PROBES_PER_CUSTOMER = `SELECT c.name AS customer, count(*) AS probes, string_agg(DISTINCT l.name, ', ' ORDER BY l.name) AS fields
  FROM probes p JOIN customers c ON c.id = p.customer_id LEFT JOIN locations l ON l.id = p.location_id
  WHERE p.deleted_at IS NULL GROUP BY c.name ORDER BY c.name`;
const BATTERIES = `SELECT probe_name, battery, rssi, last_seen FROM probe_health WHERE battery <> 'NORMAL' ORDER BY battery DESC, probe_name`;

async function deleteDemoKeys(config: Config, log: Logger): Promise<void> {
  const redis = producerConnection(config.redisUrl);
  try {
    await whenReady(redis, config.redisUrl);
    await deleteKeysUnder(redis, config.queuePrefix);
  } catch (err) {
    log.warn({ err }, 'could not remove the demo queues from Redis');
  } finally {
    await closeRedis(redis);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

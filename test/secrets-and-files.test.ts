/**
 * Secrets and files: no configured secret in any log line or error line, whatever carried it there (a Redis that
 * refuses AUTH puts the password in its error's `command.args`); the warehouse private to its owner; the export
 * at EXPORT_FILE_MODE.
 */
import { chmodSync, existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/service/load-config.js';
import { ConfigError } from '../src/errors.js';
import { runJob } from '../src/job-runtime/runner.js';
import { createLogger, type Logger } from '../src/logger.js';
import { PushReceiver } from '../src/receiver/server.js';
import { closeRedis, producerConnection, whenReady } from '../src/redis.js';
import { CENSOR, forgetSecrets, redact, rememberSecrets } from '../src/secrets.js';
import { SensoterraClient } from '../src/sensoterra/client.js';
import { sendPushes, Simulator, uplinksFor } from '../src/simulator/index.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { WorkerService } from '../src/service/worker.js';
import { NOW, smallAccount } from './helpers/account.js';
import { runCli } from './helpers/cli.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { FAST_RETRIES, apiEnv } from './helpers/pulls.js';
import { deleteKeys, PrivateRedis } from './helpers/redis.js';
import { ingestDrained } from './helpers/stack.js';
import { eventually } from './helpers/waiting.js';
import { runSql } from './helpers/warehouse.js';

/** Every line a logger writes, as written. */
class LogCapture {
  readonly lines: string[] = [];
  readonly log: Logger = createLogger(
    'debug',
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
  );
  get text(): string {
    return this.lines.join('\n');
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function placeFor(env: Record<string, string>): TestPlace {
  const place = testPlace(env);
  cleanups.push(async () => {
    await deleteKeys(place.prefix);
    place.cleanup();
  });
  return place;
}

/** A private redis-server that wants `password` (set after start: PrivateRedis starts without one). */
async function redisWithPassword(password: string): Promise<{ redis: PrivateRedis; admin: Redis }> {
  const redis = await PrivateRedis.start();
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  await admin.config('SET', 'requirepass', password);
  cleanups.push(async () => {
    admin.disconnect();
    await redis.destroy();
  });
  return { redis, admin };
}

const OTHER_SECRETS = {
  SENSOTERRA_EMAIL: 'reseller@example.com',
  SENSOTERRA_PASSWORD: 'api-password-Zq81-not-right',
  PUSH_SECRET: 'push-secret-Hy27-for-this-test',
  PUSH_HMAC_SECRET: 'hmac-secret-Kd55-for-this-test',
};

function modeOf(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
}

describe('a Redis that refuses the password', () => {
  /** Connections the server has taken since it started (INFO stats). */
  async function connectionsReceived(admin: Redis): Promise<number> {
    return Number(/total_connections_received:(\d+)/.exec(await admin.info('stats'))?.[1]);
  }

  it('is not asked again: the first refusal is the answer, with no retry until a wait runs out', async () => {
    const { redis, admin } = await redisWithPassword('the-right-redis-password');
    const url = `redis://:not-the-password@127.0.0.1:${redis.port}`;
    const before = await connectionsReceived(admin);
    const connection = producerConnection(url);
    try {
      // a wait far longer than any test: a retried password would only fail at its end
      await expect(whenReady(connection, url, 10 * 60_000)).rejects.toThrow(
        `Redis at redis://:***@127.0.0.1:${redis.port} refused the credentials (WRONGPASS`,
      );
    } finally {
      await closeRedis(connection);
    }
    expect((await connectionsReceived(admin)) - before).toBe(1);
  });
});

describe('no secret in any output', () => {
  it('says Redis refused the password, on the command line, without showing the password', async () => {
    const { redis } = await redisWithPassword('the-right-redis-password');
    // written percent-encoded in the URL, sent decoded: neither form may show
    const wrong = { written: 'Wr0ng%40Redis-pw-31', sent: 'Wr0ng@Redis-pw-31' };
    const place = placeFor({
      ...OTHER_SECRETS,
      SENSOTERRA_TOKEN: 'eyJ.token-Mx93-for-this-test.sig',
      LOG_LEVEL: 'debug',
    });
    const env = { ...place.env, REDIS_URL: `redis://:${wrong.written}@127.0.0.1:${redis.port}` };

    const [replay, status] = await Promise.all([
      runCli(['replay'], env, { timeoutMs: 20_000 }),
      runCli(['status'], env, { timeoutMs: 30_000 }),
    ]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain(
      `sensoterra-sync: Redis at redis://:***@127.0.0.1:${redis.port} refused the credentials (WRONGPASS invalid username-password pair or user is disabled.): set the password (and user) Redis expects in REDIS_URL [E_REDIS_UNAVAILABLE]`,
    );
    expect(status.stdout).toContain(`redis      unreachable at redis://:***@127.0.0.1:${redis.port}`);

    const everything = [replay.stdout, replay.stderr, status.stdout, status.stderr].join('\n');
    for (const secret of [
      wrong.written,
      wrong.sent,
      'the-right-redis-password',
      ...Object.values(OTHER_SECRETS).slice(1),
      'eyJ.token-Mx93-for-this-test.sig',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("logs a Redis that refuses the password (its error carries AUTH's arguments) without the password", async () => {
    const password = 'redis-pw-"quoted"\\-Vb47';
    const { admin, redis } = await redisWithPassword(password);
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    cleanups.push(() => sim.close());
    const place = placeFor({
      ...apiEnv(sim),
      REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`,
    });
    const capture = new LogCapture();
    const worker = await WorkerService.start(place.config, capture.log, { clientOptions: { retry: FAST_RETRIES } });
    cleanups.push(() => worker.stop());

    // Redis' password changes under the running worker: every reconnect is refused, with err.command.args = [password]
    await admin.config('SET', 'requirepass', 'the-new-redis-password');
    await admin.client('KILL', 'TYPE', 'normal');
    await eventually(() => capture.text.includes('WRONGPASS'), 15_000, 'a log line about the refused password');
    await admin.config('SET', 'requirepass', password); // and back: the worker reconnects and stops cleanly
    await eventually(async () => (await worker.jobs.count().catch(() => -1)) >= 0, 15_000, 'the worker back on Redis');

    const refused = capture.lines.find((line) => line.includes('WRONGPASS'))!;
    expect(refused).toContain(`"command":{"name":"auth","args":["${CENSOR}"]}`);
    expect(capture.text).not.toContain(password);
    expect(capture.text).not.toContain(JSON.stringify(password).slice(1, -1)); // as it would appear in JSON
    expect(capture.text).not.toContain(encodeURIComponent(password));
  });

  it('shows neither the API password, the token nor the push secrets in a run with pushes and failed logins', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    cleanups.push(() => sim.close());
    const place = placeFor({ ...apiEnv(sim), ...OTHER_SECRETS, PUSH_PORT: '0' });
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.not-a-valid-signature-Tq62';
    const capture = new LogCapture();
    const worker = await WorkerService.start(place.config, capture.log, { clientOptions: { retry: FAST_RETRIES } });
    cleanups.push(() => worker.stop());
    const receiver = await PushReceiver.start(place.config, capture.log);
    cleanups.push(() => receiver.stop());
    const url = `${receiver.url}${place.config.push.path}`;

    const uplinks = [...uplinksFor(sim.account, { from: new Date(NOW.getTime() - 3_600_000), to: NOW })];
    const good = await sendPushes(uplinks, {
      url,
      secret: OTHER_SECRETS.PUSH_SECRET,
      hmacSecret: OTHER_SECRETS.PUSH_HMAC_SECRET,
      uplinksPerRequest: 10,
    });
    expect(Object.keys(good.statuses)).toEqual(['202']);
    const unsigned = await sendPushes(uplinks.slice(0, 1), { url, secret: OTHER_SECRETS.PUSH_SECRET });
    const wrongSecret = await sendPushes(uplinks.slice(0, 1), {
      url,
      secret: `${OTHER_SECRETS.PUSH_SECRET}x`,
      hmacSecret: OTHER_SECRETS.PUSH_HMAC_SECRET,
    });
    expect([unsigned.statuses, wrongSecret.statuses]).toEqual([{ 401: 1 }, { 401: 1 }]);
    await ingestDrained(place);

    // a login with the wrong password, and a call with a token the API does not know
    // (the client reports a refused login as E_API_AUTH, a refused token as a 401)
    await expect(runJob('sync-probes', {}, worker.deps, { trigger: 'command' })).rejects.toThrow(/E_API_AUTH|401/);
    const tokenConfig = loadConfig({ ...place.env, SENSOTERRA_TOKEN: token });
    const tokenClient = new SensoterraClient(tokenConfig, capture.log, { retry: FAST_RETRIES });
    cleanups.push(() => tokenClient.close());
    await expect(
      runJob('sync-locations', {}, { ...worker.deps, api: () => tokenClient }, { trigger: 'command' }),
    ).rejects.toThrow(/401/);

    expect(capture.text).toContain('job failed');
    expect(capture.text).toMatch(/invalid email or password/);
    for (const secret of [
      OTHER_SECRETS.SENSOTERRA_PASSWORD,
      OTHER_SECRETS.PUSH_SECRET,
      OTHER_SECRETS.PUSH_HMAC_SECRET,
      token,
    ]) {
      expect(capture.text).not.toContain(secret);
    }
  });

  it('hides values of 12 characters or more wherever they stand, shorter ones where they stand alone, and leaves those under 4 alone', () => {
    rememberSecrets(['k9$Q', 'zy', 'short', 'Long-Secret-0123', undefined]);
    expect(redact('a=k9$Q; b=xk9$Qx; zy stays; zyzzyva stays')).toBe(`a=${CENSOR}; b=xk9$Qx; zy stays; zyzzyva stays`);
    expect(redact('"short" is shorter than 16 characters')).toBe(`"${CENSOR}" is shorter than 16 characters`);
    expect(redact('token=xLong-Secret-0123y')).toBe(`token=x${CENSOR}y`);
  });

  it('forgets every remembered value at once, for a process that goes on to another configuration', () => {
    rememberSecrets(['short', 'Long-Secret-0123']);
    forgetSecrets();
    expect(redact('cut short: Long-Secret-0123')).toBe('cut short: Long-Secret-0123');
    rememberSecrets(['other-secret']);
    expect(redact('short other-secret')).toBe(`short ${CENSOR}`);
    forgetSecrets();
  });
});

describe('the warehouse, private to its owner', () => {
  it('creates its file and .wal 0600 and a folder made for it 0700, whatever the umask, and tightens a looser file', async () => {
    const before = process.umask(0o022);
    cleanups.push(() => void process.umask(before));
    const place = placeFor({});
    const path = join(place.dir, 'made-for-it', 'warehouse.duckdb');
    const config = loadConfig({ ...place.env, WAREHOUSE_PATH: path });
    const worker = await WorkerService.start(config, createLogger('silent'));
    try {
      await runSql(worker.deps.db, 'CREATE TABLE wal_probe AS SELECT 1 AS x');
      expect(modeOf(join(place.dir, 'made-for-it'))).toBe('0700');
      expect(modeOf(path)).toBe('0600');
      expect(existsSync(`${path}.wal`)).toBe(true);
      expect(modeOf(`${path}.wal`)).toBe('0600');
    } finally {
      await worker.stop();
    }

    chmodSync(path, 0o644);
    const db = await Warehouse.open(path, config.duckdb, createLogger('silent'));
    await db.close();
    expect(modeOf(path)).toBe('0600');
  });
});

describe('the export, at EXPORT_FILE_MODE', () => {
  /** Every file and folder of the export (the `current` symlink aside), with its mode. */
  function modes(exportDir: string): Record<string, string> {
    const out: Record<string, string> = { '.': modeOf(exportDir) };
    const walk = (dir: string, rel: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (lstatSync(path).isSymbolicLink()) continue;
        out[join(rel, entry.name)] = modeOf(path);
        if (entry.isDirectory()) walk(path, join(rel, entry.name));
      }
    };
    walk(exportDir, '');
    return out;
  }

  for (const [setting, file, dir] of [
    [undefined, '0640', '0750'],
    ['644', '0644', '0755'],
    ['0600', '0600', '0700'],
    ['0666', '0666', '0755'],
  ] as const) {
    it(`publishes every file ${file} and every folder ${dir} with EXPORT_FILE_MODE ${setting ?? 'unset'}`, async () => {
      const place = placeFor(setting === undefined ? {} : { EXPORT_FILE_MODE: setting });
      const log = createLogger('silent');
      const db = await Warehouse.open(place.config.warehousePath, place.config.duckdb, log, place.config.exportDir);
      cleanups.push(() => db.close());
      const api = (): never => {
        throw new Error('the export needs no API');
      };
      await runJob('export', {}, { db, config: place.config, log, api }, { trigger: 'command' });

      const all = modes(place.config.exportDir);
      expect(Object.keys(all)).toContain('versions');
      expect(Object.keys(all).some((p) => p.endsWith('/manifest.json'))).toBe(true);
      expect(Object.keys(all).some((p) => p.endsWith('.parquet'))).toBe(true);
      for (const [path, mode] of Object.entries(all)) {
        const isDir = statSync(join(place.config.exportDir, path)).isDirectory();
        expect(`${path} ${mode}`).toBe(`${path} ${isDir ? dir : file}`);
      }
    });
  }

  it('reads EXPORT_FILE_MODE as octal (0640 when unset), and refuses a bad one naming the variable and what is valid', () => {
    expect(loadConfig({}).exportFileMode).toBe(0o640);
    for (const bad of ['0777', '0460', '640x', 'rw-r-----', '1640', '0650', '0620']) {
      let problems: string[] = [];
      try {
        loadConfig({ EXPORT_FILE_MODE: bad });
      } catch (err) {
        if (err instanceof ConfigError) problems = err.problems;
      }
      expect(problems).toEqual([
        `EXPORT_FILE_MODE=${JSON.stringify(bad)} is not valid: expected an octal file mode such as 0640 or 0644: owner 6 (read and write), group and others 0, 4 or 6, no execute bits`,
      ]);
    }
    expect(loadConfig({ EXPORT_FILE_MODE: '0604' }).exportFileMode).toBe(0o604);
  });
});

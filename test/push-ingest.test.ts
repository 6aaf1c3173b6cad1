/**
 * Pushed readings in the warehouse: exactly once whatever the pusher does (redelivery, lateness, disorder),
 * conflicts counted not lost, unknown probes kept, failed batches replayable.
 */
import { Queue, Worker } from 'bullmq';
import { runJob } from '../src/job-runtime/runner.js';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/job-runtime/queues.js';
import { closeRedis, consumerConnection, producerConnection } from '../src/redis.js';
import { generateAccount, sendPushes, uplinksFor, type Uplink } from '../src/simulator/index.js';
import { NOW } from './helpers/account.js';
import { runCli } from './helpers/cli.js';
import { post, PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';
import { runSql } from './helpers/warehouse.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** A seeded shuffle, so that a failing run can be repeated exactly. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('pushed readings', () => {
  it('land exactly once: 10,000 readings, 10% redelivered, some late, the rest out of order', async () => {
    const account = generateAccount({ seed: 5, probes: 30 });
    stack = await startStack({ account });
    const unique: Uplink[] = [];
    let readings = 0;
    for (const u of uplinksFor(stack.sim.account, { from: new Date(NOW.getTime() - 30 * 86_400_000), to: NOW })) {
      unique.push(u);
      readings += u.readings.length;
      if (readings >= 10_000) break;
    }
    const late = unique.filter((_, i) => i % 20 === 7); // 5% arrive after everything else
    const onTime = unique.filter((_, i) => i % 20 !== 7);
    const redelivered = unique.filter((_, i) => i % 10 === 3); // 10% arrive twice
    const sequence = [...shuffle([...onTime, ...redelivered], 42), ...late];

    const result = await sendPushes(sequence, {
      url: stack.pushUrl,
      secret: PUSH_SECRET,
      uplinksPerRequest: 5,
      concurrency: 8,
    });
    expect(result.statuses).toEqual({ 202: Math.ceil(sequence.length / 5) });
    await stack.drained();

    const temperatures = unique.length; // every uplink carries one temperature reading, without a depth
    expect(
      await stack.rows(`SELECT count(*) AS readings, count(DISTINCT (serial, type, depth_cm, ts)) AS keys,
                                    count(*) FILTER (WHERE depth_cm IS NULL) AS without_depth
                             FROM readings`),
    ).toEqual([{ readings, keys: readings, without_depth: temperatures }]);
    const redeliveredReadings = redelivered.reduce((n, u) => n + u.readings.length, 0);
    expect(
      await stack.rows(`SELECT sum(rows_read) AS offered, sum(rows_inserted) AS inserted, sum(conflicts) AS conflicts
                             FROM sync_runs WHERE job = 'ingest-pushes'`),
    ).toEqual([{ offered: readings + redeliveredReadings, inserted: readings, conflicts: 0 }]);
  });

  it('keep the first value for a key; a different later value is a conflict, counted and kept', async () => {
    stack = await startStack();
    const at = '2024-07-08T09:05:00Z';
    const push = (value: number): string =>
      JSON.stringify({
        serial: '24000092104',
        timestamp: at,
        readings: [{ type: 'MOISTURE', depth: 15, value, unit: '%' }],
      });
    expect((await post(stack.pushUrl, push(27.4))).status).toBe(202);
    await stack.drained();
    expect((await post(stack.pushUrl, push(31.0))).status).toBe(202);
    expect((await post(stack.pushUrl, push(31.0))).status).toBe(202); // the same conflict again: counted once
    await stack.drained();
    expect(await stack.rows('SELECT value FROM readings')).toEqual([{ value: 27.4 }]);
    expect(await stack.rows('SELECT stored_value, offered_value, source FROM reading_conflicts')).toEqual([
      { stored_value: 27.4, offered_value: 31, source: 'push' },
    ]);
    expect(await stack.rows("SELECT sum(conflicts) AS conflicts FROM sync_runs WHERE job = 'ingest-pushes'")).toEqual([
      { conflicts: 1 },
    ]);
  });

  it('of a probe the warehouse does not know yet are kept, and join it once it is synced', async () => {
    stack = await startStack();
    const serial = '24000099999';
    const at = '2024-07-08T09:05:00Z';
    await post(
      stack.pushUrl,
      JSON.stringify({
        serial,
        probe_id: 49300,
        timestamp: at,
        readings: [{ type: 'MOISTURE', depth: 10, value: 22.5, unit: '%' }],
      }),
    );
    await stack.drained();
    expect(await stack.rows('SELECT serial, probe_id, value FROM readings')).toEqual([
      { serial, probe_id: 49300, value: 22.5 },
    ]);

    stack.sim.addProbe({
      id: 49300,
      serial,
      name: 'Late arrival',
      customer_id: 40,
      soil_profile: [{ depth: 0, soil: 'CLAY' }],
      kind: 'MOISTURE',
      depths: [10],
    });
    const sync = await runCli(['sync', 'probes'], stack.place.env);
    expect(sync.code).toBe(0);
    expect(
      await stack.rows(`SELECT p.name, r.value FROM readings r JOIN probes p USING (serial) WHERE r.source = 'push'`),
    ).toEqual([{ name: 'Late arrival', value: 22.5 }]);
  });

  it('carry battery and RSSI into the probe status series', async () => {
    stack = await startStack();
    await post(
      stack.pushUrl,
      JSON.stringify({
        serial: '24000092104',
        timestamp: '2024-07-08T09:05:00Z',
        battery: 'FAIR',
        rssi: -101,
        readings: [],
      }),
    );
    await stack.drained();
    expect(await stack.rows('SELECT serial, last_update, battery, rssi FROM probe_status')).toEqual([
      { serial: '24000092104', last_update: new Date('2024-07-08T09:05:00Z'), battery: 'FAIR', rssi: -101 },
    ]);
  });

  it('and the same status seen by a pull at the same last_update are one row, with what each saw', async () => {
    stack = await startStack();
    await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
    const [pulled] = await stack.rows(
      "SELECT last_update, battery, rssi, connectivity FROM probe_status WHERE serial = '24000092104'",
    );
    expect(pulled).toMatchObject({ battery: 'NORMAL', rssi: -97, connectivity: 'GOOD' });
    await runSql(stack.worker.deps.db, 'DELETE FROM probe_status');

    // the push comes first this time (no connectivity in it), then the pull sees the same status
    const lastUpdate = (pulled!.last_update as Date).toISOString();
    await post(
      stack.pushUrl,
      JSON.stringify({ serial: '24000092104', timestamp: lastUpdate, battery: 'NORMAL', rssi: -97, readings: [] }),
    );
    await stack.drained();
    await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
    // and the push is sent again
    await post(
      stack.pushUrl,
      JSON.stringify({ serial: '24000092104', timestamp: lastUpdate, battery: 'NORMAL', rssi: -97, readings: [] }),
    );
    await stack.drained();
    expect(
      await stack.rows(
        "SELECT last_update, battery, rssi, connectivity FROM probe_status WHERE serial = '24000092104'",
      ),
    ).toEqual([{ last_update: new Date(lastUpdate), battery: 'NORMAL', rssi: -97, connectivity: 'GOOD' }]);
  });

  it('fill in what a stored status lacks, and two statuses of one uplink time in a batch are one row', async () => {
    stack = await startStack();
    // a status a pull stored without a battery
    await runSql(
      stack.worker.deps.db,
      `INSERT INTO probe_status VALUES ('24000092104', TIMESTAMPTZ '2024-07-08 09:05:00+00', NULL, -97, 'GOOD', 'pull')`,
    );
    const uplink = (timestamp: string, battery: string): Record<string, unknown> => ({
      serial: '24000092104',
      timestamp,
      battery,
      rssi: -97,
      readings: [],
    });
    // one request, so one batch: the same uplink time twice
    const body = [
      uplink('2024-07-08T09:05:00Z', 'NORMAL'),
      uplink('2024-07-08T10:05:00Z', 'FAIR'),
      uplink('2024-07-08T10:05:00Z', 'FAIR'),
    ];
    expect((await post(stack.pushUrl, JSON.stringify(body))).status).toBe(202);
    await stack.drained();
    expect(
      await stack.rows(
        "SELECT last_update, battery, rssi, connectivity FROM probe_status WHERE serial = '24000092104' ORDER BY last_update",
      ),
    ).toEqual([
      { last_update: new Date('2024-07-08T09:05:00Z'), battery: 'NORMAL', rssi: -97, connectivity: 'GOOD' },
      { last_update: new Date('2024-07-08T10:05:00Z'), battery: 'FAIR', rssi: -97, connectivity: null },
    ]);
  });

  it("store a late reading from months ago once, in a batch with today's: a duplicate of it not at all, another value as a conflict", async () => {
    stack = await startStack();
    const reading = (timestamp: string, value: number): Record<string, unknown> => ({
      serial: '24000092104',
      timestamp,
      battery: 'FAIR',
      rssi: -90,
      readings: [{ type: 'MOISTURE', depth: 15, value, unit: '%' }],
    });
    expect((await post(stack.pushUrl, JSON.stringify(reading('2024-03-10T12:00:00Z', 25.5)))).status).toBe(202);
    await stack.drained();
    // months later, one batch: today's readings, the March one again, and the March one with another value
    const body = [
      reading('2024-07-08T09:00:00Z', 30.1),
      reading('2024-03-10T12:00:00Z', 25.5),
      reading('2024-07-08T10:00:00Z', 30.2),
      reading('2024-03-10T12:00:00Z', 26),
    ];
    expect((await post(stack.pushUrl, JSON.stringify(body))).status).toBe(202);
    await stack.drained();
    expect(await stack.rows("SELECT ts, value FROM readings WHERE serial = '24000092104' ORDER BY ts")).toEqual([
      { ts: new Date('2024-03-10T12:00:00Z'), value: 25.5 },
      { ts: new Date('2024-07-08T09:00:00Z'), value: 30.1 },
      { ts: new Date('2024-07-08T10:00:00Z'), value: 30.2 },
    ]);
    expect(await stack.rows('SELECT ts, stored_value, offered_value FROM reading_conflicts')).toEqual([
      { ts: new Date('2024-03-10T12:00:00Z'), stored_value: 25.5, offered_value: 26 },
    ]);
    // and the uplinks' status: the March one once, though its day lies months before the batch's others
    expect(
      await stack.rows("SELECT last_update, battery, rssi FROM probe_status WHERE serial = '24000092104' ORDER BY 1"),
    ).toEqual(
      ['2024-03-10T12:00:00Z', '2024-07-08T09:00:00Z', '2024-07-08T10:00:00Z'].map((at) => ({
        last_update: new Date(at),
        battery: 'FAIR',
        rssi: -90,
      })),
    );
  });

  it('can come through several receivers at once, into the one writer', async () => {
    stack = await startStack();
    const { PushReceiver } = await import('../src/receiver/server.js');
    const { createLogger } = await import('../src/logger.js');
    const second = await PushReceiver.start(stack.place.config, createLogger('silent'));
    try {
      const uplinks = [...uplinksFor(stack.sim.account, { from: new Date(NOW.getTime() - 86_400_000), to: NOW })];
      const half = Math.floor(uplinks.length / 2);
      await Promise.all([
        sendPushes(uplinks.slice(0, half), { url: stack.pushUrl, secret: PUSH_SECRET }),
        sendPushes(uplinks.slice(half), { url: `${second.url}/push`, secret: PUSH_SECRET }),
      ]);
      await stack.drained();
      const expected = uplinks.reduce((n, u) => n + u.readings.length, 0);
      expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: expected }]);
    } finally {
      await second.stop();
    }
  });

  it('read a timestamp without an offset as UTC', async () => {
    stack = await startStack();
    await post(
      stack.pushUrl,
      JSON.stringify({
        serial: '24000092104',
        readings: [{ type: 'MOISTURE', depth: 15, value: 27.4, unit: '%', timestamp: '2024-07-08T09:05:00' }],
      }),
    );
    await stack.drained();
    expect(await stack.rows('SELECT ts FROM readings')).toEqual([{ ts: new Date('2024-07-08T09:05:00Z') }]);
  });

  it("keep unknown fields: a reading's with the reading, an uplink's once for the uplink (not in each reading)", async () => {
    stack = await startStack();
    const body = JSON.stringify({
      serial: '24000092104',
      timestamp: '2024-07-08T09:05:00Z',
      gateway: 'gw-7',
      readings: [
        { type: 'MOISTURE', depth: 15, value: 27.4, unit: '%', quality: 'good' },
        { type: 'MOISTURE', depth: 30, value: 25.1, unit: '%' },
      ],
    }).replace('"gateway"', '"__proto__":{"odd":"key"},"gateway"'); // a key JavaScript objects would swallow
    expect((await post(stack.pushUrl, body)).status).toBe(202);
    expect((await post(stack.pushUrl, body)).status).toBe(202); // redelivered: kept once
    await stack.drained();
    expect(await stack.rows('SELECT depth_cm, extra FROM readings ORDER BY depth_cm')).toEqual([
      { depth_cm: 15, extra: '{"quality":"good"}' },
      { depth_cm: 30, extra: null },
    ]);
    expect(await stack.rows('SELECT serial, uplink_ts, extra FROM uplink_extras')).toEqual([
      {
        serial: '24000092104',
        uplink_ts: new Date('2024-07-08T09:05:00Z'),
        extra: '{"__proto__":{"odd":"key"},"gateway":"gw-7"}',
      },
    ]);
  });
});

/** A push of one reading: what makes the writer land a batch (and then check its retention). */
const ONE_READING = JSON.stringify({
  serial: '24000092104',
  timestamp: '2024-07-08T09:05:00Z',
  readings: [{ type: 'MOISTURE', depth: 15, value: 27.4, unit: '%' }],
});

describe('verbatim pushes', () => {
  it('are removed once older than RAW_PUSH_RETENTION_DAYS; their readings stay', async () => {
    stack = await startStack({ env: { RAW_PUSH_RETENTION_DAYS: '0' } });
    await post(stack.pushUrl, ONE_READING);
    await stack.drained();
    // the writer prunes at most hourly, the first time right after its first batch
    for (let i = 0; i < 50 && Number((await stack.rows('SELECT count(*) AS n FROM raw_pushes'))[0]!.n) > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await stack.rows('SELECT count(*) AS n FROM raw_pushes')).toEqual([{ n: 0 }]);
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 1 }]);
  });
});

describe('retention of rejected pushes and conflicting values', () => {
  it('removes those received longer ago than REJECTED_PUSH_RETENTION_DAYS and READING_CONFLICT_RETENTION_DAYS, and nothing newer', async () => {
    const started = await startStack({
      env: { REJECTED_PUSH_RETENTION_DAYS: '30', READING_CONFLICT_RETENTION_DAYS: '10' },
    });
    stack = started;
    const dayMs = 86_400_000;
    // rows received this long ago (days), an hour either side of each retention, and a year-old and a new one
    const ages = [400, 30 + 1 / 24, 30 - 1 / 24, 10 + 1 / 24, 10 - 1 / 24, 1];
    const at = (days: number): string => new Date(Date.now() - days * dayMs).toISOString();
    for (const days of ages) {
      await runSql(
        started.worker.deps.db,
        `INSERT INTO rejected_pushes VALUES (TIMESTAMPTZ '${at(days)}', 'not JSON', 'body ${days}', md5('${days}'));
         INSERT INTO reading_conflicts VALUES ('24000092104', 'MOISTURE', 15, TIMESTAMPTZ '2024-07-08 09:00:00+00',
           27.4, ${days}, 'push', TIMESTAMPTZ '${at(days)}')`,
      );
    }
    // the writer prunes after its first batch (then at most hourly)
    await post(started.pushUrl, ONE_READING);
    await started.drained();
    const kept = async (): Promise<{ rejected: string[]; conflicts: number[] }> => ({
      rejected: (await started.rows("SELECT body FROM rejected_pushes WHERE reason = 'not JSON' ORDER BY body")).map(
        (r) => String(r.body),
      ),
      conflicts: (await started.rows('SELECT offered_value AS v FROM reading_conflicts ORDER BY v')).map((r) =>
        Number(r.v),
      ),
    });
    for (let i = 0; i < 50 && (await kept()).conflicts.length === ages.length; i++)
      await new Promise((r) => setTimeout(r, 100));
    const within = (limit: number): number[] => ages.filter((d) => d < limit).sort((a, b) => a - b);
    expect(await kept()).toEqual({
      rejected: within(30)
        .map((d) => `body ${d}`)
        .sort(),
      conflicts: within(10),
    });
    expect((await kept()).conflicts).toEqual([1, 10 - 1 / 24]);
    // the readings themselves stay
    expect(await started.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 1 }]);
  });
});

describe('failed batches', () => {
  it('stay in Redis, and `replay` sends them through the writer again', async () => {
    stack = await startStack();
    // a batch that failed earlier (say, with a warehouse that was full): in the failed set, with its pushes
    const { config } = stack.place;
    await stack.worker.stop();
    const producer = producerConnection(config.redisUrl);
    const queue = new Queue(QUEUES.ingest, { connection: producer, prefix: config.queuePrefix });
    const body = JSON.stringify({
      serial: '24000092104',
      timestamp: '2024-07-08T09:05:00Z',
      readings: [{ type: 'SI', depth: 15, value: '6.3', unit: 'SI' }],
    });
    await queue.add('pushes', { pushes: [{ r: Date.now(), b: body }] }, { attempts: 1, removeOnFail: false });
    // BullMQ closes only the connections it made itself: this one is ours to close
    const consumer = consumerConnection(config.redisUrl);
    const failing = new Worker(
      QUEUES.ingest,
      async () => {
        throw new Error('disk full');
      },
      { connection: consumer, prefix: config.queuePrefix },
    );
    await new Promise<void>((resolve) => failing.once('failed', () => resolve()));
    await failing.close();
    await closeRedis(consumer);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 1 });

    const replay = await runCli(['replay'], stack.place.env);
    expect(replay.stdout.trim()).toBe('1 failed ingest batch sent through again');
    expect(replay.code).toBe(0);
    expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 1 });
    await queue.close();
    await closeRedis(producer);

    // the worker comes back and lands it
    const { WorkerService } = await import('../src/service/worker.js');
    const { createLogger } = await import('../src/logger.js');
    stack.worker = await WorkerService.start(config, createLogger('silent'));
    await stack.drained();
    expect(await stack.rows('SELECT serial, type, value FROM readings')).toEqual([
      { serial: '24000092104', type: 'SI', value: 6.3 },
    ]);
  });
});

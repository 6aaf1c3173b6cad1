/**
 * The query door: what `query` may call (an allowlist), what it may build, how it is stopped, and what it leaves
 * behind. Rules are checked in-process on a real warehouse; the trips through the worker and Redis end to end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { askWorker } from '../src/control/channel.js';
import { formatRows } from '../src/format/table.js';
import { QUEUES } from '../src/job-runtime/queues.js';
import type { QueryLimits } from '../src/warehouse/query/read-only.js';
import { closeRedis, producerConnection, whenReady } from '../src/redis.js';
import { Simulator } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { CLI, runCli } from './helpers/cli.js';
import { testPlace } from './helpers/config.js';
import { apiEnv } from './helpers/pulls.js';
import { deleteKeys, withQueue } from './helpers/redis.js';
import { post, startStack, type Stack } from './helpers/stack.js';
import { eventually, exited, workerUp } from './helpers/waiting.js';

const LIMITS: QueryLimits = { timeoutMs: 30_000, memoryMb: 1024 };
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { QUERY_MAX_ANSWER_BYTES: '2000000' } });
}, 60_000);
afterAll(async () => {
  await stack.stop();
});

const ask = (sql: string, limits = LIMITS) => stack.worker.deps.db.query(sql, limits);
const refusal = async (sql: string): Promise<string> => {
  const err = (await ask(sql).then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message: string } | undefined;
  if (err === undefined) return 'ran';
  return `${err.code}: ${err.message}`;
};

describe('functions outside the allowlist', () => {
  const cases: [string, string][] = [
    ["SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp/x')", 'enable_logging'],
    ['SELECT * FROM "ENABLE_LOGGING"()', 'enable_logging'],
    ['SELECT * FROM system.main.checkpoint()', 'checkpoint'],
    ['SELECT * FROM force_checkpoint()', 'force_checkpoint'],
    ['SELECT * FROM disable_logging()', 'disable_logging'],
    ['SELECT * FROM truncate_duckdb_logs()', 'truncate_duckdb_logs'],
    ['SELECT * FROM enable_peg_parser()', 'enable_peg_parser'],
    ['SELECT * FROM (SELECT 1) t, enable_profiling()', 'enable_profiling'],
    ['SELECT * FROM duckdb_settings()', 'duckdb_settings'],
    ['WITH x AS (SELECT * FROM duckdb_logs()) SELECT count(*) FROM x', 'duckdb_logs'],
  ];
  for (const [sql, name] of cases) {
    it(`refuses ${name}() as a table, naming it: ${sql}`, async () => {
      expect(await refusal(sql)).toBe(
        `E_QUERY_REFUSED: ${name}() refused: query reads the warehouse's tables and views (and range, unnest and the catalog functions), nothing else`,
      );
    });
  }

  const calls: [string, string][] = [
    ["SELECT current_setting('allowed_directories')", 'current_setting'],
    ["SELECT getvariable('x')", 'getvariable'],
    ['SELECT sleep_ms(100000)', 'sleep_ms'],
    ['SELECT setseed(0.5)', 'setseed'],
    ["SELECT nextval('seq')", 'nextval'],
    ["SELECT write_log('x')", 'write_log'],
    ["SELECT json_serialize_sql('SELECT 1')", 'json_serialize_sql'],
    ['SELECT "Sleep_MS"(10)', 'sleep_ms'],
    ["SELECT value FROM readings WHERE serial = (SELECT current_setting('home_directory'))", 'current_setting'],
  ];
  for (const [sql, name] of calls) {
    it(`refuses ${name}() as a call, naming it: ${sql}`, async () => {
      expect(await refusal(sql)).toBe(
        `E_QUERY_REFUSED: ${name}() refused: query calls DuckDB's aggregate, window, math, string, date/time, list, struct, regex and JSON functions, not this one`,
      );
    });
  }
});

describe('values one call would build beyond bounds', () => {
  const built = (name: string) =>
    `E_QUERY_REFUSED: ${name}() refused: as a value it may build at most 10000 values or characters, given as numbers in the query (for more rows, use FROM range(...))`;
  const cases: [string, string][] = [
    ['SELECT sum(len(l)) FROM (SELECT range(100000000) l)', 'range'],
    ['SELECT len(range(20000000))', 'range'],
    ['SELECT len(generate_series(1, 20000001, 1))', 'generate_series'],
    ["SELECT repeat('x', 200000000)", 'repeat'],
    ["SELECT lpad('x', 200000000, 'y')", 'lpad'],
    ["SELECT rpad('x', 10001, 'y')", 'rpad'],
    ['SELECT list_resize([1], 100000000)', 'list_resize'],
    ["SELECT printf('%0200000000d', 1)", 'printf'],
    ['SELECT range(depth_cm * 1000000) FROM readings', 'range'],
    ["SELECT repeat('x', (SELECT 200000000))", 'repeat'],
  ];
  for (const [sql, name] of cases) {
    it(`refuses before running: ${sql}`, async () => {
      expect(await refusal(sql)).toBe(built(name));
    });
  }
});

describe('a file or another database as a table, however it is spelled', () => {
  const cases: [string, string][] = [
    ['SELECT * FROM "/tmp/secret".csv', '/tmp/secret.csv'],
    ['SELECT name FROM package.json', 'package.json'],
    ['SELECT * FROM "/srv/export/current/manifest".json', '/srv/export/current/manifest.json'],
    [
      'SELECT count(*) FROM "/srv/export/current/parquet/readings/**/*".parquet',
      '/srv/export/current/parquet/readings/**/*.parquet',
    ],
    ['SELECT * FROM other_db.main.readings', 'other_db.main.readings'],
    ["SELECT * FROM '/tmp/some.parquet'", '/tmp/some.parquet'],
  ];
  for (const [sql, shown] of cases) {
    it(`refuses ${sql}`, async () => {
      expect(await refusal(sql)).toBe(
        `E_QUERY_REFUSED: "${shown}" refused: query reads the warehouse's tables and views, not files or other databases`,
      );
    });
  }

  it("still reads the warehouse's own tables, plainly or as main.x", async () => {
    expect((await ask('SELECT count(*) AS n FROM main.probes')).rows).toEqual([{ n: 0 }]);
  });
});

describe('values built inside values', () => {
  const cases: [string, string][] = [
    [
      "SELECT length(repeat(repeat('x', 10000), 10000))",
      'repeat() inside repeat() refused: values built inside values multiply; build one, or use FROM range(...) as a table',
    ],
    [
      'SELECT len(repeat(range(10000), 10000))',
      'range() inside repeat() refused: values built inside values multiply; build one, or use FROM range(...) as a table',
    ],
    [
      'SELECT len(flatten(list_transform(range(10000), x -> range(10000))))',
      'range() inside a lambda refused: it would be built once per element, in one call; use FROM range(...) as a table',
    ],
    [
      "SELECT length(printf('%*d', 300000000, 1))",
      'printf() refused: as a value it may build at most 10000 values or characters, given as numbers in the query (for more rows, use FROM range(...))',
    ],
    [
      "SELECT length(format('{:>{}}', 'x', 300000000))",
      'format() refused: as a value it may build at most 10000 values or characters, given as numbers in the query (for more rows, use FROM range(...))',
    ],
    [
      "SELECT length(list_reduce(list_transform(range(31), x -> 'x'), (a, b) -> a || a))",
      "list_reduce() refused: query calls DuckDB's aggregate, window, math, string, date/time, list, struct, regex and JSON functions, not this one",
    ],
    [
      "SELECT sum(len(list_transform(range(10000), x -> r))) FROM (SELECT repeat('x', 10000) AS r) a, range(20) b",
      '"r" inside a lambda refused: a lambda may use its own parameters and constants only (it runs once per element, in one call)',
    ],
    [
      'SELECT len(list_transform([1, 2], x -> list_transform([3, 4], y -> y)))',
      'a lambda inside a lambda refused: it runs once per element of once per element, in one call',
    ],
    [
      `SELECT ${Array.from({ length: 17 }, () => 'range(10)').join(', ')}`,
      'more than 16 calls of range(), repeat(), lpad(), rpad(), list_resize(), format() or printf() as values refused: each builds a value in one go',
    ],
  ];
  for (const [sql, message] of cases) {
    it(`refuses ${sql.slice(0, 70)}`, async () => {
      expect(await refusal(sql)).toBe(`E_QUERY_REFUSED: ${message}`);
    });
  }
});

describe('what analysts ask', () => {
  it('prints 200,000 rows as a table', async () => {
    const result = await ask('SELECT i FROM range(200000) t(i)');
    const printed = formatRows(result.columns, result.rows, 'table').split('\n');
    expect(printed).toHaveLength(200_003);
    expect(printed.slice(-2)).toEqual(['199999', '(200000 rows)']);
  });

  it('reads a SELECT after comments of any kind, nested block comments included, as DuckDB does', async () => {
    for (const sql of [
      '-- a question?\nSELECT 1 AS x',
      '/* a /* nested */ note */ SELECT 1 AS x',
      '/* one */ -- two\n/**/SELECT 1 AS x',
    ]) {
      expect((await ask(sql)).rows, sql).toEqual([{ x: 1 }]);
    }
    expect(await refusal('/* a /* nested */ note */ INSERT INTO readings SELECT * FROM readings')).toMatch(
      /INSERT statement refused/,
    );
  });

  it('answers aggregates, windows, dates, strings, lists and the catalog', async () => {
    const result = await ask(
      "SELECT range(3) AS l, repeat('-', 3) AS bar, lpad('7', 3, '0') AS padded, date_trunc('month', DATE '2024-07-08') AS month, " +
        "(SELECT count(*) FROM range(5)) AS counted, (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'readings') AS tables, " +
        "printf('%5.1f', 3.14159) AS printed, row_number() OVER () AS n, list_transform([1, 2], x -> x * 10) AS tens",
    );
    expect(result.rows).toEqual([
      {
        l: [0, 1, 2],
        bar: '---',
        padded: '007',
        month: '2024-07-01T00:00:00.000Z',
        counted: 5,
        tables: 1,
        printed: '  3.1',
        n: 1,
        tens: [10, 20],
      },
    ]);
  });
});

describe('a query that runs away', () => {
  it('is stopped past QUERY_MEMORY_MB or QUERY_TIMEOUT_MS, and the writer lands a push load meanwhile', async () => {
    const before = Number((await stack.rows('SELECT count(*) AS n FROM readings'))[0]!.n);
    const pushes = (async () => {
      for (let n = 0; n < 60; n++) {
        const timestamp = new Date(Date.UTC(2024, 5, 1, 0, n)).toISOString();
        expect(
          (
            await post(
              stack.pushUrl,
              JSON.stringify({
                serial: '24000092170',
                timestamp,
                readings: [{ type: 'MOISTURE', depth: 10, value: 20, unit: '%' }],
              }),
            )
          ).status,
        ).toBe(202);
      }
    })();
    const doubling =
      "WITH RECURSIVE t(s, n) AS (SELECT 'xxxxxxxxxx', 1 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT max(length(s)) FROM t";
    await expect(ask(doubling, { timeoutMs: 60_000, memoryMb: 256 })).rejects.toThrow(
      "the query grew the worker's memory by more than QUERY_MEMORY_MB=256 and was stopped: narrow it (WHERE, LIMIT, an aggregate) or read the published export",
    );
    await expect(ask('SELECT count(*) FROM range(1000000000000)', { timeoutMs: 500, memoryMb: 1024 })).rejects.toThrow(
      'the query ran longer than QUERY_TIMEOUT_MS=500 and was interrupted',
    );
    await pushes;
    await stack.drained();
    expect(Number((await stack.rows('SELECT count(*) AS n FROM readings'))[0]!.n)).toBe(before + 60);
  });
});

/** Bytes Redis holds for every key under the test's prefix. */
async function redisBytesUnder(prefix: string): Promise<number> {
  const redis = producerConnection(stack.place.config.redisUrl);
  try {
    await whenReady(redis, stack.place.config.redisUrl);
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) total += Number((await redis.memory('USAGE', key)) ?? 0);
    } while (cursor !== '0');
    return total;
  } finally {
    await closeRedis(redis);
  }
}

describe('answers through the worker', () => {
  it('are capped in bytes, and leave nothing in Redis once the command has read them', async () => {
    const big = await runCli(
      ['query', "SELECT range AS n, repeat('x', 100) AS pad FROM range(100000)", '--format', 'csv'],
      stack.place.env,
    );
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(
      /the answer is \d+ bytes, more than QUERY_MAX_ANSWER_BYTES=2000000: narrow the query \(fewer columns or rows, an aggregate\) or read the published export/,
    );

    const baseline = await redisBytesUnder(stack.place.prefix);
    const fine = await runCli(
      ['query', "SELECT range AS n, repeat('x', 100) AS pad FROM range(10000)", '--format', 'csv'],
      stack.place.env,
    );
    expect(fine.code).toBe(0);
    expect(fine.stdout.trim().split('\n')).toHaveLength(10_001);
    // the ~1.2 MB answer went through Redis and is gone: what is left is a few small bookkeeping entries
    expect((await redisBytesUnder(stack.place.prefix)) - baseline).toBeLessThan(16_384);
  });
});

describe('a request that failed', () => {
  it('leaves neither the request (its SQL) nor its error in Redis once the command has its answer', async () => {
    const marker = `marker-${Date.now()}`;
    const failed = (await askWorker(
      stack.place.config,
      'query',
      { sql: `SELECT '${marker}' AS s FROM readingz` },
      { timeoutMs: 30_000 },
    ).catch((e: unknown) => e)) as { code?: string };
    expect(failed.code).toBe('E_QUERY_INVALID');
    await withQueue(stack.place.config, QUEUES.control, async (queue) => {
      const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed']);
      expect(jobs.filter((job) => JSON.stringify([job.data, job.returnvalue]).includes(marker))).toEqual([]);
    });
  });
});

describe('an answer nobody waits for any more', () => {
  it('is not kept in Redis at all', async () => {
    const asked = askWorker(
      stack.place.config,
      'query',
      { sql: 'SELECT count(*) AS n FROM range(3000000000)' },
      { timeoutMs: 200 },
    );
    await expect(asked).rejects.toMatchObject({ code: 'E_WORKER_TIMEOUT' });
    await withQueue(stack.place.config, QUEUES.control, async (queue, redis) => {
      await eventually(
        async () => (await queue.getJobCounts('active', 'waiting')).active === 0,
        60_000,
        'the worker finishing the query',
      );
      const [finished] = await queue.getJobs(['completed'], 0, 0);
      expect(finished?.returnvalue).toEqual({ abandoned: true });
      expect(await redis.keys(`${stack.place.prefix}:control:answer:*`)).toEqual([]);
      expect(await redis.keys(`${stack.place.prefix}:control:waiting:*`)).toEqual([]);
    });
  });
});

describe('a command that stops waiting, and a worker that dies without coming back', () => {
  it('an interrupted command leaves no answer behind; a command whose worker died says so without waiting it out', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const place = testPlace(apiEnv(sim, { QUERY_TIMEOUT_MS: '600000', LOG_LEVEL: 'debug', PUSH_PORT: '0' }));
    const worker = spawn(process.execPath, [CLI, 'start', '--role', 'worker'], {
      env: { PATH: process.env.PATH ?? '', ...place.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    worker.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const taken = (): number => log.split('"msg":"command request taken"').length - 1;
    try {
      await workerUp(place);
      const interrupted = spawn(process.execPath, [CLI, 'query', 'SELECT count(*) FROM range(4000000000)'], {
        env: { PATH: process.env.PATH ?? '', ...place.env },
        stdio: 'ignore',
      });
      await eventually(() => taken() === 1, 30_000, 'the worker taking the first query');
      interrupted.kill('SIGINT');
      expect(await exited(interrupted)).toBe(130);
      await withQueue(place.config, QUEUES.control, async (queue, redis) => {
        await eventually(
          async () => (await queue.getJobCounts('completed')).completed === 1,
          30_000,
          'the worker finishing the first query',
        );
        expect((await queue.getJobs(['completed']))[0]?.returnvalue).toEqual({ abandoned: true });
        expect(await redis.keys(`${place.prefix}:control:answer:*`)).toEqual([]);
      });

      const orphaned = runCli(['query', 'SELECT count(*) FROM range(1000000000000)'], place.env, {
        timeoutMs: 120_000,
      });
      await eventually(() => taken() === 2, 30_000, 'the worker taking the second query');
      worker.kill('SIGKILL');
      const answer = await orphaned;
      expect(answer.code).toBe(1);
      expect(answer.stderr).toContain(
        'the worker stopped while it held "query" (its heartbeat expired), and no worker runs it again: run the command again once a worker runs',
      );
    } finally {
      worker.kill('SIGKILL');
      await exited(worker);
      await sim.close();
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });
});

describe('a query whose worker is killed', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('is not run again by the next worker, and the command says what happened', async () => {
    const sim = await Simulator.start({ account: smallAccount(), now: NOW });
    const place = testPlace(apiEnv(sim, { QUERY_TIMEOUT_MS: '600000', LOG_LEVEL: 'debug', PUSH_PORT: '0' }));
    try {
      const startWorker = (): { child: ChildProcess; log: () => string } => {
        const child = spawn(process.execPath, [CLI, 'start', '--role', 'worker'], {
          env: { PATH: process.env.PATH ?? '', ...place.env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        children.push(child);
        let log = '';
        child.stderr.on('data', (d: Buffer) => (log += d.toString()));
        return { child, log: () => log };
      };
      const first = startWorker();
      await workerUp(place);
      const command = runCli(['query', 'SELECT count(*) FROM range(1000000000000)'], place.env, { timeoutMs: 120_000 });
      await eventually(
        () => first.log().includes('"msg":"command request taken"'),
        30_000,
        'the worker taking the query',
      );
      first.child.kill('SIGKILL');
      await exited(first.child);

      const second = startWorker();
      const answer = await command;
      expect(answer.code).toBe(1);
      // the new worker's stalled-job check says so, or, if it was slow to start, the old one's expired heartbeat
      expect(answer.stderr).toMatch(
        /the worker stopped while it held "query" \((killed or restarted\), and does not run it again|its heartbeat expired\), and no worker runs it again)/,
      );
      expect(second.log()).toContain('"msg":"worker started"');
      expect(second.log()).not.toContain('command request taken');
      expect(
        await withQueue(place.config, QUEUES.control, (queue) => queue.getJobCounts('active', 'waiting', 'failed')),
      ).toEqual({ active: 0, waiting: 0, failed: 1 });
    } finally {
      for (const child of children.splice(0)) {
        child.kill('SIGTERM');
        await exited(child);
      }
      await sim.close();
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });
});

/**
 * `query` and `status` while the service runs and holds the warehouse: live answers through the worker,
 * read-only, with a timeout, whole through a pipe.
 */
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { post, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
const at = '2024-07-07T12:05:00Z';

beforeAll(async () => {
  stack = await startStack({ env: { QUERY_TIMEOUT_MS: '500' } });
  const body = JSON.stringify({ serial: '24000092104', readings: [
    { type: 'MOISTURE', depth: 15, value: 27.5, unit: '%', timestamp: at },
    { type: 'MOISTURE', depth: 30, value: 31.25, unit: '%', timestamp: at },
  ] });
  expect((await post(stack.pushUrl, body)).status).toBe(202);
  await stack.drained();
});
afterAll(async () => stack?.stop());

const query = (sql: string, ...more: string[]) => runCli(['query', sql, ...more], stack.place.env);

describe('query through the running worker', () => {
  it('prints a table by default', async () => {
    const result = await query('SELECT depth_cm, value, ts FROM readings ORDER BY depth_cm');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      [
        'depth_cm  value  ts',
        '--------  -----  ------------------------',
        '      15   27.5  2024-07-07T12:05:00.000Z',
        '      30  31.25  2024-07-07T12:05:00.000Z',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });

  it('prints CSV and JSON', async () => {
    expect((await query('SELECT depth_cm, value FROM readings ORDER BY depth_cm', '--format', 'csv')).stdout).toBe('depth_cm,value\n15,27.5\n30,31.25\n');
    expect(JSON.parse((await query("SELECT serial, ts FROM readings WHERE depth_cm = 15", '--format', 'json')).stdout)).toEqual([
      { serial: '24000092104', ts: '2024-07-07T12:05:00.000Z' },
    ]);
  });

  it('sees a reading acknowledged a moment ago', async () => {
    const body = JSON.stringify({ serial: '24000092199', readings: [{ type: 'SI', depth: 15, value: 5.5, unit: 'SI', timestamp: at }] });
    expect((await post(stack.pushUrl, body)).status).toBe(202);
    let seen = '';
    for (let attempt = 0; attempt < 10 && !seen.includes('5.5'); attempt++) {
      seen = (await query("SELECT value FROM readings WHERE serial = '24000092199'", '--format', 'csv')).stdout;
    }
    expect(seen).toBe('value\n5.5\n');
  });

  it('delivers a large answer whole through a pipe', async () => {
    const result = await query('SELECT range AS n, repeat(\'x\', 40) AS padding FROM range(100000)', '--format', 'csv');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[100_000]).toBe(`99999,${'x'.repeat(40)}`);
  });

  it('interrupts a query that runs longer than QUERY_TIMEOUT_MS', async () => {
    const result = await query('SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('sensoterra-sync: the query ran longer than QUERY_TIMEOUT_MS=500 and was interrupted [E_QUERY_TIMEOUT]');
  });
});

describe('query refuses, and changes nothing', () => {
  const refused: [string, string, RegExp][] = [
    ['COPY', "COPY readings TO '/tmp/sensoterra-refused.csv'", /COPY statement refused/],
    ['ATTACH', "ATTACH '/tmp/sensoterra-refused.duckdb' AS other", /ATTACH statement refused/],
    ['DETACH', 'DETACH other', /DETACH statement refused/],
    ['EXPORT', "EXPORT DATABASE '/tmp/sensoterra-refused'", /EXPORT statement refused/],
    ['SET', "SET threads = 1", /SET statement refused/],
    ['PRAGMA', 'PRAGMA database_size', /PRAGMA statement refused/],
    ['CALL', 'CALL pragma_version()', /CALL statement refused/],
    ['CREATE', 'CREATE TABLE sneaky AS SELECT 1', /CREATE statement refused/],
    ['INSERT', "INSERT INTO readings SELECT * FROM readings", /INSERT statement refused/],
    ['UPDATE', 'UPDATE readings SET value = 0', /UPDATE statement refused/],
    ['DELETE', 'DELETE FROM readings', /DELETE statement refused/],
    ['DROP', 'DROP TABLE readings', /DROP statement refused/],
    ['INSTALL', 'INSTALL httpfs', /INSTALL statement refused/],
    ['two statements', 'SELECT 1; DELETE FROM readings', /2 statements refused: query runs exactly one SELECT/],
    ['a SELECT hiding a second statement', 'SELECT 1; SELECT 2', /2 statements refused/],
    ['a file reader', "SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) refused: query reads the warehouse's tables and views/],
    ['a glob', "SELECT * FROM glob('/etc/*')", /glob\(\) refused/],
    ['a file as a table', "SELECT * FROM '/tmp/some.parquet'", /"\/tmp\/some.parquet" refused/],
    ['SQL run from inside SQL', "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT content FROM read_text(''.env'')'))", /json_execute_serialized_sql\(\) refused/],
    ['a comment before a DELETE', '/* harmless */ DELETE FROM readings', /DELETE statement refused/],
  ];

  for (const [what, sql, message] of refused) {
    it(`refuses ${what}`, async () => {
      const result = await query(sql);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('[E_QUERY_REFUSED]');
    });
  }

  it('left the warehouse as it was', async () => {
    expect((await query("SELECT count(*) AS n FROM readings WHERE serial = '24000092104'", '--format', 'csv')).stdout).toBe('n\n2\n');
    expect((await query("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'sneaky'", '--format', 'csv')).stdout).toBe('n\n0\n');
    expect((await query("SELECT count(*) AS n FROM duckdb_databases() WHERE database_name = 'other'", '--format', 'csv')).stdout).toBe('n\n0\n');
    expect(existsSync('/tmp/sensoterra-refused.csv')).toBe(false);
    expect(existsSync(join('/tmp', 'sensoterra-refused'))).toBe(false);
  });
});

describe('the warehouse itself', () => {
  it('cannot reach a file outside its own and the export folder, whatever the SQL', async () => {
    const connection = await stack.worker.deps.db.connect();
    try {
      await expect(connection.run("SELECT content FROM read_text('/etc/hostname')")).rejects.toThrow(/file system operations are disabled by configuration/);
      await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/configuration has been locked/);
    } finally {
      connection.closeSync();
    }
  });
});

describe('status', () => {
  it('shows the worker, queues, schedules with their next runs, last runs and sizes', async () => {
    const result = await runCli(['status'], stack.place.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`worker     running (pid ${process.pid} on ${hostname()}), warehouse ${hostname()}:${stack.place.config.warehousePath}\n`);
    expect(result.stdout).toMatch(/^queue {6}ingest {3}0 waiting, 0 active, 0 delayed, 0 failed$/m);
    expect(result.stdout).toMatch(/^sync-probes +\*\/15 \* \* \* \* +UTC +\d{4}-\d\d-\d\dT/m);
    expect(result.stdout).toMatch(/^ingest-pushes +succeeded +\d{4}-/m);
    expect(result.stdout).toContain('0 probes (0 deleted), 0 probe versions, 3 readings');
    const json = JSON.parse((await runCli(['status', '--format', 'json'], stack.place.env)).stdout) as { redis: string; warehouse: { sizes: { readings: number } } };
    expect(json).toMatchObject({ redis: 'up', warehouse: { sizes: { readings: 3 } } });
  });
});

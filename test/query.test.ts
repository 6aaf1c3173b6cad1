/**
 * `query` and `status` while the service runs and holds the warehouse: live answers through the worker,
 * read-only, with a timeout, whole through a pipe; where `query` takes its SQL from (an argument, even one that
 * starts with a comment, --file or stdin), and how the command line tells options from values.
 */
import { hostname, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCommand } from '../src/cli/commands/query.js';
import { parseCommandArgs, type Command } from '../src/cli/context.js';
import { chooseSqlSource, MAX_SQL_BYTES, readSql, type SqlSource } from '../src/cli/sql-source.js';
import { UsageError } from '../src/errors.js';
import { runCli, runCommand } from './helpers/cli.js';
import { post, startStack, type Stack } from './helpers/stack.js';
import { runAside } from './helpers/warehouse.js';

let stack: Stack;
const at = '2024-07-07T12:05:00Z';

beforeAll(async () => {
  // one schedule on, for status to show, that will not fire during the test (04:00 on 29 February)
  stack = await startStack({ env: { QUERY_TIMEOUT_MS: '500', SCHEDULE_PROBES: '0 4 29 2 *' } });
  const body = JSON.stringify({
    serial: '24000092104',
    readings: [
      { type: 'MOISTURE', depth: 15, value: 27.5, unit: '%', timestamp: at },
      { type: 'MOISTURE', depth: 30, value: 31.25, unit: '%', timestamp: at },
    ],
  });
  expect((await post(stack.pushUrl, body)).status).toBe(202);
  await stack.drained();
});
afterAll(async () => stack?.stop());

// in this process; where the process itself matters (a table on a real stdout, a pipe) as a user runs it
const query = (sql: string, ...more: string[]) => runCommand(['query', sql, ...more], stack.place.env);
const queryEndToEnd = (sql: string, ...more: string[]) => runCli(['query', sql, ...more], stack.place.env);

describe('query through the running worker', () => {
  it('prints a table by default', async () => {
    const result = await queryEndToEnd('SELECT depth_cm, value, ts FROM readings ORDER BY depth_cm');
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
    expect((await query('SELECT depth_cm, value FROM readings ORDER BY depth_cm', '--format', 'csv')).stdout).toBe(
      'depth_cm,value\n15,27.5\n30,31.25\n',
    );
    expect(
      JSON.parse((await query('SELECT serial, ts FROM readings WHERE depth_cm = 15', '--format', 'json')).stdout),
    ).toEqual([{ serial: '24000092104', ts: '2024-07-07T12:05:00.000Z' }]);
  });

  it('sees a reading acknowledged a moment ago', async () => {
    const body = JSON.stringify({
      serial: '24000092199',
      readings: [{ type: 'SI', depth: 15, value: 5.5, unit: 'SI', timestamp: at }],
    });
    expect((await post(stack.pushUrl, body)).status).toBe(202);
    let seen = '';
    for (let attempt = 0; attempt < 10 && !seen.includes('5.5'); attempt++) {
      seen = (await query("SELECT value FROM readings WHERE serial = '24000092199'", '--format', 'csv')).stdout;
    }
    expect(seen).toBe('value\n5.5\n');
  });

  it('delivers a large answer whole through a pipe', async () => {
    const result = await queryEndToEnd(
      "SELECT range AS n, repeat('x', 40) AS padding FROM range(100000)",
      '--format',
      'csv',
    );
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[100_000]).toBe(`99999,${'x'.repeat(40)}`);
  });

  it('interrupts a query that runs longer than QUERY_TIMEOUT_MS', async () => {
    const result = await query('SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'sensoterra-sync: the query ran longer than QUERY_TIMEOUT_MS=500 and was interrupted [E_QUERY_TIMEOUT]',
    );
  });
});

describe('query refuses, and changes nothing', () => {
  const refused: [string, string, RegExp][] = [
    ['COPY', "COPY readings TO '/tmp/sensoterra-refused.csv'", /COPY statement refused/],
    ['ATTACH', "ATTACH '/tmp/sensoterra-refused.duckdb' AS other", /ATTACH statement refused/],
    ['DETACH', 'DETACH other', /DETACH statement refused/],
    ['EXPORT', "EXPORT DATABASE '/tmp/sensoterra-refused'", /EXPORT statement refused/],
    ['SET', 'SET threads = 1', /SET statement refused/],
    ['PRAGMA', 'PRAGMA database_size', /PRAGMA statement refused/],
    ['CALL', 'CALL pragma_version()', /CALL statement refused/],
    ['CREATE', 'CREATE TABLE sneaky AS SELECT 1', /CREATE statement refused/],
    ['INSERT', 'INSERT INTO readings SELECT * FROM readings', /INSERT statement refused/],
    ['UPDATE', 'UPDATE readings SET value = 0', /UPDATE statement refused/],
    ['DELETE', 'DELETE FROM readings', /DELETE statement refused/],
    ['DROP', 'DROP TABLE readings', /DROP statement refused/],
    ['INSTALL', 'INSTALL httpfs', /INSTALL statement refused/],
    ['two statements', 'SELECT 1; DELETE FROM readings', /2 statements refused: query runs exactly one SELECT/],
    ['a SELECT hiding a second statement', 'SELECT 1; SELECT 2', /2 statements refused/],
    [
      'a file reader',
      "SELECT * FROM read_csv('/etc/passwd')",
      /read_csv\(\) refused: query reads the warehouse's tables and views/,
    ],
    ['a glob', "SELECT * FROM glob('/etc/*')", /glob\(\) refused/],
    ['a file as a table', "SELECT * FROM '/tmp/some.parquet'", /"\/tmp\/some.parquet" refused/],
    [
      'SQL run from inside SQL',
      "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT content FROM read_text(''.env'')'))",
      /json_execute_serialized_sql\(\) refused/,
    ],
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
    expect(
      (await query("SELECT count(*) AS n FROM readings WHERE serial = '24000092104'", '--format', 'csv')).stdout,
    ).toBe('n\n2\n');
    expect(
      (await query("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'sneaky'", '--format', 'csv')).stdout,
    ).toBe('n\n0\n');
    expect(
      (await query("SELECT count(*) AS n FROM duckdb_databases() WHERE database_name = 'other'", '--format', 'csv'))
        .stdout,
    ).toBe('n\n0\n');
    expect(existsSync('/tmp/sensoterra-refused.csv')).toBe(false);
    expect(existsSync(join('/tmp', 'sensoterra-refused'))).toBe(false);
  });
});

describe('the warehouse itself', () => {
  it('cannot reach a file outside its own and the export folder, whatever the SQL', async () => {
    const db = stack.worker.deps.db;
    expect(String(await runAside(db, "SELECT content FROM read_text('/etc/hostname')"))).toMatch(
      /file system operations are disabled by configuration/,
    );
    expect(String(await runAside(db, 'SET enable_external_access = true'))).toMatch(/configuration has been locked/);
  });
});

describe('status', () => {
  it('shows the worker, queues, schedules with their next runs, last runs and sizes', async () => {
    const result = await runCli(['status'], stack.place.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `worker     running (pid ${process.pid} on ${hostname()}), warehouse ${hostname()}:${stack.place.config.warehousePath}\n`,
    );
    expect(result.stdout).toMatch(/^queue {6}ingest {3}0 waiting, 0 active, 0 delayed, 0 failed$/m);
    expect(result.stdout).toMatch(/^sync-probes +0 4 29 2 \* +UTC +\d{4}-02-29T04:00/m);
    expect(result.stdout).toMatch(/^ingest-pushes +succeeded +\d{4}-/m);
    expect(result.stdout).toContain('0 probes (0 deleted), 0 probe versions, 3 readings');
    const json = JSON.parse((await runCommand(['status', '--format', 'json'], stack.place.env)).stdout) as {
      redis: string;
      warehouse: { sizes: { readings: number } };
    };
    expect(json).toMatchObject({ redis: 'up', warehouse: { sizes: { readings: 3 } } });
  });
});

describe('the command line tells options from values', () => {
  const sql = '-- Which probes have gone quiet?\nSELECT 1';
  const parse = (...argv: string[]) => parseCommandArgs(queryCommand, argv);
  // a command of two string options and positionals, for what every command shares
  const any: Command = {
    name: 'any',
    summary: '',
    usage: '',
    options: { n: { type: 'string', short: 'n', help: 'a number' }, on: { type: 'boolean', help: 'a switch' } },
    run: async () => undefined,
  };

  it('reads an argument that starts with a -- comment as the SQL, wherever it stands among the options', () => {
    expect(parse(sql)).toEqual({ values: {}, positionals: [sql] });
    expect(parse(sql, '--format', 'json')).toEqual({ values: { format: 'json' }, positionals: [sql] });
    expect(parse('--format=csv', sql)).toEqual({ values: { format: 'csv' }, positionals: [sql] });
    expect(parse('-f', 'csv', '-- a comment on one line')).toEqual({
      values: { format: 'csv' },
      positionals: ['-- a comment on one line'],
    });
    // a comment that reads like an option, then the SQL on the next line
    expect(parse('--author=jan\nSELECT 1')).toEqual({ values: {}, positionals: ['--author=jan\nSELECT 1'] });
  });

  it('takes an option as --name value, --name=value, -x value and -xvalue', () => {
    for (const argv of [['--format', 'json'], ['--format=json'], ['-f', 'json'], ['-fjson']]) {
      expect(parse(...argv, 'SELECT 1')).toEqual({ values: { format: 'json' }, positionals: ['SELECT 1'] });
    }
    expect(parse('--file', 'sql/examples/x.sql')).toEqual({ values: { file: 'sql/examples/x.sql' }, positionals: [] });
  });

  it('keeps positionals in the order given, whatever they start with', () => {
    expect(parseCommandArgs(any, ['a', '-- b', '--on', '-x y', '-', '-5'])).toEqual({
      values: { on: true },
      positionals: ['a', '-- b', '-x y', '-', '-5'],
    });
    expect(parseCommandArgs(any, ['a', '--', '--on', '-n'])).toEqual({ values: {}, positionals: ['a', '--on', '-n'] });
  });

  it('keeps a negative number as an option value', () => {
    expect(parseCommandArgs(any, ['--n=-5']).values).toEqual({ n: '-5' });
    expect(parseCommandArgs(any, ['-n-5']).values).toEqual({ n: '-5' });
    expect(parseCommandArgs(any, ['--n', '-5']).values).toEqual({ n: '-5' });
  });

  it('refuses an option given twice rather than taking the last', () => {
    expect(() => parse('--file', 'a.sql', '--file', 'b.sql')).toThrow(
      new UsageError('query: --file is given twice: give it once (see: sensoterra-sync query --help)'),
    );
    expect(() => parse('-f', 'csv', '--format=json', 'SELECT 1')).toThrow('--format is given twice');
  });

  it('still refuses an option it does not know, and an option without its value', () => {
    expect(() => parse('--nope', 'SELECT 1')).toThrow(UsageError);
    expect(() => parse('--nope', 'SELECT 1')).toThrow(
      new UsageError(
        'query: unknown option --nope; its options are --format FORMAT, --file FILE, --verbose, --help' +
          ' (see: sensoterra-sync query --help)',
      ),
    );
    expect(() => parse('-x')).toThrow(/^query: unknown option -x; its options are /);
    expect(() => parse('SELECT 1', '--format')).toThrow(
      new UsageError('query: --format needs a value (FORMAT) (see: sensoterra-sync query --help)'),
    );
    expect(() => parse('SELECT 1', '--verbose=yes')).toThrow(
      new UsageError('query: --verbose takes no value (see: sensoterra-sync query --help)'),
    );
  });
});

describe('where query takes its SQL from', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sensoterra-sync-sql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string | Buffer): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const stdin = (text: string | Buffer) => Readable.from([Buffer.from(text)]);
  const noStdin = () => Readable.from([]);
  const read = (source: SqlSource, input = noStdin()) => readSql(source, input);

  it('takes the SQL argument as it is', async () => {
    const sql = '-- a question?\nSELECT 1';
    expect(chooseSqlSource([sql], undefined, true)).toEqual({ from: 'argument', sql });
    expect(await read({ from: 'argument', sql })).toBe(sql);
  });

  it('reads a --file whole', async () => {
    const path = file('latest.sql', '-- a question?\nSELECT 1;\n');
    expect(chooseSqlSource([], path, false)).toEqual({ from: 'file', path });
    expect(await read({ from: 'file', path })).toBe('-- a question?\nSELECT 1;\n');
  });

  it('reads stdin to its end for the argument -, or when no SQL is given and stdin is not a terminal', async () => {
    expect(chooseSqlSource(['-'], undefined, true)).toEqual({ from: 'stdin' });
    expect(chooseSqlSource([], undefined, false)).toEqual({ from: 'stdin' });
    // a character split between two chunks arrives whole
    const word = Buffer.from("'\u00e9t\u00e9'");
    const input = Readable.from([Buffer.from('SELECT '), word.subarray(0, 2), word.subarray(2)]);
    expect(await read({ from: 'stdin' }, input)).toBe("SELECT '\u00e9t\u00e9'");
  });

  it('leaves out a byte-order mark an editor put first', async () => {
    expect(await read({ from: 'file', path: file('bom.sql', '\uFEFFSELECT 1') })).toBe('SELECT 1');
  });

  it('asks for SQL when none is given and stdin is a terminal', () => {
    expect(() => chooseSqlSource([], undefined, true)).toThrow(
      'query needs SQL: give one SELECT in quotes ("SELECT ..."), with --file F, or on stdin',
    );
  });

  it('refuses SQL from two places, saying which', () => {
    expect(() => chooseSqlSource(['SELECT 1'], 'a.sql', false)).toThrow(
      'query takes its SQL from one place, got both an SQL argument and --file a.sql',
    );
    expect(() => chooseSqlSource(['-'], 'a.sql', false)).toThrow(
      'query takes its SQL from one place, got both stdin (-) and --file a.sql',
    );
  });

  it('refuses SQL split over several arguments', () => {
    expect(() => chooseSqlSource(['SELECT', '1'], undefined, true)).toThrow(
      'query takes its SQL as one argument, got 2: put the whole SELECT in quotes',
    );
  });

  it('refuses empty SQL, naming where it was empty', async () => {
    await expect(read({ from: 'argument', sql: '  \n' })).rejects.toThrow(
      'query got no SQL: the SQL argument is empty',
    );
    await expect(read({ from: 'stdin' })).rejects.toThrow('query got no SQL: stdin is empty');
    const path = file('empty.sql', '');
    await expect(read({ from: 'file', path })).rejects.toThrow(`query got no SQL: --file ${path} is empty`);
  });

  it('refuses SQL that is only comments, as it refuses none', async () => {
    await expect(read({ from: 'argument', sql: '-- just a comment' })).rejects.toThrow(
      'query got no SQL: the SQL argument holds only comments',
    );
    const path = file('comments.sql', '-- a question?\n/* and a note */ ;\n');
    await expect(read({ from: 'file', path })).rejects.toThrow(`query got no SQL: --file ${path} holds only comments`);
    expect(await read({ from: 'argument', sql: "-- the answer\nSELECT '--' AS dashes" })).toBe(
      "-- the answer\nSELECT '--' AS dashes",
    );
  });

  it('refuses a file that is not UTF-8, saying to save it so', async () => {
    for (const [name, bytes] of [
      ['utf16-bom.sql', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('SELECT 1', 'utf16le')])],
      ['utf16.sql', Buffer.from('SELECT 1', 'utf16le')],
      ['latin1.sql', Buffer.from("SELECT 'caf\u00e9'", 'latin1')],
    ] as const) {
      const path = file(name, bytes);
      await expect(read({ from: 'file', path })).rejects.toThrow(
        new UsageError(`--file ${path}: not UTF-8 text; save the SQL as UTF-8`),
      );
    }
    await expect(read({ from: 'stdin' }, stdin(Buffer.from([0x53, 0x45, 0xe9, 0x4c])))).rejects.toThrow(
      'stdin: not UTF-8 text; save the SQL as UTF-8',
    );
  });

  it('names a --file that cannot be read, and why', async () => {
    await expect(read({ from: 'file', path: 'no/such.sql' })).rejects.toThrow(
      new UsageError('--file no/such.sql: no such file'),
    );
    mkdirSync(join(dir, 'folder.sql'));
    await expect(read({ from: 'file', path: join(dir, 'folder.sql') })).rejects.toThrow(
      `--file ${join(dir, 'folder.sql')}: is a directory, expected a file of SQL`,
    );
  });

  it('refuses more than 1 MiB of SQL from a file or stdin', async () => {
    expect(MAX_SQL_BYTES).toBe(1024 * 1024);
    const big = `SELECT 1 -- ${'x'.repeat(MAX_SQL_BYTES)}`;
    await expect(read({ from: 'stdin' }, stdin(big))).rejects.toThrow(
      `stdin: more than ${MAX_SQL_BYTES} bytes of SQL, the most query reads`,
    );
    const path = file('big.sql', big);
    await expect(read({ from: 'file', path })).rejects.toThrow(
      `--file ${path}: more than ${MAX_SQL_BYTES} bytes of SQL`,
    );
    expect(await read({ from: 'stdin' }, stdin(big.slice(0, MAX_SQL_BYTES)))).toHaveLength(MAX_SQL_BYTES);
  });

  it('through the command line, SQL from two places exits 2 with one line saying so', async () => {
    const result = await runCli(
      ['query', 'SELECT 1', '--file', 'sql/examples/latest-moisture-profile.sql'],
      stack.place.env,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'sensoterra-sync: query takes its SQL from one place, got both an SQL argument and --file sql/examples/latest-moisture-profile.sql: give one SELECT in quotes ("SELECT ..."), with --file F, or on stdin\n',
    );
  });
});

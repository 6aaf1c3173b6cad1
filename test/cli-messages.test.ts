/**
 * What the command line says to someone who got something wrong, or asked for help: one line on stderr naming what
 * was wrong and what to do, the right exit code, and nothing else by default (the JSON log only when asked for).
 * Exit codes: 2 for a mistake in the command or its configuration, 1 for a failure. `--help`, a mistyped option and
 * the log run the built command line in a process of its own, as a user does; the other messages are the command
 * line's rules, run in this process (runCommand: the same code from the arguments to the exit code).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands/index.js';
import { commandLogLevel, commandOptions, oneLine, optionsHelp } from '../src/cli/context.js';
import { CLI, ROOT, runCli, runCommand } from './helpers/cli.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { deleteKeys } from './helpers/redis.js';
import { createWarehouse } from './helpers/warehouse.js';

describe('--help of a command', () => {
  it('shows its usage, what it does, and a line for each option', async () => {
    const result = await runCli(['backfill', '--help'], {});
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toBe(
      [
        'usage: sensoterra-sync backfill --from DATE --to DATE [--probe SERIAL]   (DATE: 2024-07-01 or 2024-07-01T06:00:00Z; UTC without an offset)',
        '',
        'pull historic readings for a date range (all probes, or one), with a progress bar; run again to resume',
        '',
        'options:',
        '      --from DATE     the first instant to fetch (UTC without an offset)',
        '      --to DATE       the instant to fetch up to, not included',
        '      --probe SERIAL  only this probe (default: every probe in the warehouse)',
        '  -v, --verbose       log what happens on stderr, as JSON lines (LOG_LEVEL=debug)',
        '  -h, --help          show this help',
        '',
      ].join('\n'),
    );
  });

  it('answers without loading DuckDB, BullMQ, ioredis or undici (they take half a second to load)', async () => {
    const fixture = join(ROOT, 'test/fixtures/help-loaded-packages.mjs');
    const names = COMMANDS.map((command) => command.name);
    const run = spawnSync(process.execPath, [fixture, CLI, ...names], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => /^(after|at exit)/.test(line));
    // each line's command, or the line whole when it says anything else (another exit code)
    const said = lines.map((line) =>
      line.startsWith('at exit: ') ? 'at exit' : (/^after (\S+) --help, exit 0: /.exec(line)?.[1] ?? line),
    );
    expect(said).toEqual([...names, 'at exit']);
    for (const [i, line] of lines.entries()) {
      const loaded = line.slice(line.indexOf(': ') + 2).split(' ');
      const by = i < names.length ? `by the end of ${names[i]!} --help` : 'when the process ended';
      expect(loaded, by).toContain('pino'); // the report itself works
      expect(
        loaded.filter((name) => /^(@duckdb\/|bullmq$|ioredis$|undici$)/.test(name)),
        by,
      ).toEqual([]);
    }
    // and each run printed its own command's usage
    for (const name of names) expect(run.stdout).toContain(`usage: sensoterra-sync ${name}`);
  });

  it('of every command names each of its options, with what it does', () => {
    for (const command of COMMANDS) {
      const lines = optionsHelp(command).split('\n');
      expect(lines[0]).toBe('options:');
      for (const [name, spec] of commandOptions(command)) {
        expect(spec.help.length, `${command.name} --${name}`).toBeGreaterThan(8);
        const line = lines.find((l) => new RegExp(`^ +(-\\w, )? *--${name}\\b`).test(l));
        expect(line, `${command.name} --${name}`).toMatch(new RegExp(`--${name}\\b.*  ${escape(spec.help)}$`));
      }
      expect(lines).toHaveLength(commandOptions(command).length + 1);
    }
  });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a mistake on the command line', () => {
  it('an unknown option: names it and the options the command has, in one line, exit 2', async () => {
    const result = await runCli(['status', '--fromat', 'json'], {});
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'sensoterra-sync: status: unknown option --fromat; its options are --format FORMAT, --verbose, --help (see: sensoterra-sync status --help)\n',
    );
    expect(result.code).toBe(2);
  });

  it('sync without Sensoterra credentials: says which variables to set, once, exit 2', async () => {
    const place = testPlace();
    try {
      const result = await runCommand(['sync', 'all'], place.env);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'sensoterra-sync: configuration: no Sensoterra credentials: set SENSOTERRA_EMAIL and SENSOTERRA_PASSWORD, or SENSOTERRA_TOKEN (a long-lived token from POST /token)\n',
      );
      expect(result.code).toBe(2);
      expect(existsSync(place.config.warehousePath)).toBe(false); // nor did it make a warehouse before saying so
    } finally {
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });
});

describe('query, told something it cannot answer', () => {
  /** A warehouse of its own, made (migrated) and closed again, for the command to open. */
  async function warehousePlace(): Promise<TestPlace> {
    const place = testPlace();
    await createWarehouse(place.config.warehousePath, place.config);
    return place;
  }

  it("SQL DuckDB cannot parse: DuckDB's syntax error, in one line, exit 1", async () => {
    const place = await warehousePlace();
    try {
      const result = await runCommand(['query', 'SELEC 1'], place.env);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe('sensoterra-sync: Parser Error: syntax error at or near "SELEC" [E_QUERY_INVALID]\n');
      expect(result.code).toBe(1);
    } finally {
      place.cleanup();
    }
  });

  it("a table that does not exist: DuckDB's message with its hint, in one line", async () => {
    const place = await warehousePlace();
    try {
      const result = await runCommand(['query', 'SELECT * FROM readingz'], place.env);
      expect(result.stderr).toBe(
        'sensoterra-sync: Catalog Error: Table with name readingz does not exist! Did you mean "readings"? [E_QUERY_INVALID]\n',
      );
      expect(result.code).toBe(1);
    } finally {
      place.cleanup();
    }
  });

  it('status with Redis not answering: says what it cannot know there, rather than a lag of 0 and no schedules', async () => {
    const place = await warehousePlace();
    try {
      const result = await runCommand(['status'], { ...place.env, REDIS_URL: 'redis://127.0.0.1:1' });
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('\nredis      unreachable at redis://127.0.0.1:1\n');
      expect(result.stdout).toContain('\ningest     lag unknown: Redis does not answer (check REDIS_URL)\n');
      expect(result.stdout).toContain('\nschedules:\nunknown: they live in Redis, which does not answer\n');
    } finally {
      place.cleanup();
    }
  });

  it('an answer past QUERY_MAX_ANSWER_BYTES with no worker running: refused as through the worker', async () => {
    const place = await warehousePlace();
    try {
      const result = await runCommand(['query', 'SELECT * FROM range(1000)'], {
        ...place.env,
        QUERY_MAX_ANSWER_BYTES: '2000',
      });
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^sensoterra-sync: the answer is \d+ bytes, more than QUERY_MAX_ANSWER_BYTES=2000: narrow the query .* \[E_QUERY_REFUSED\]\n$/,
      );
      expect(result.code).toBe(1);
    } finally {
      place.cleanup();
    }
  });

  it('export to an EXPORT_DIR that is a file: names the setting, in one line, exit 2', async () => {
    const place = await warehousePlace();
    try {
      writeFileSync(place.config.exportDir, 'not a folder');
      const result = await runCommand(['export'], place.env);
      expect(result.stderr).toBe(
        `sensoterra-sync: EXPORT_DIR=${place.config.exportDir} cannot be used (it is not a folder): set EXPORT_DIR to a folder this process can write (it is made when missing) [E_CONFIG_INVALID]\n`,
      );
      expect(result.code).toBe(2);
    } finally {
      place.cleanup();
    }
  });

  it('export to an EXPORT_DIR under a file: names the setting and the reason, in one line, exit 2', async () => {
    const place = await warehousePlace();
    try {
      writeFileSync(place.config.exportDir, 'not a folder');
      const exportDir = join(place.config.exportDir, 'sub');
      const result = await runCommand(['export'], { ...place.env, EXPORT_DIR: exportDir });
      expect(result.stderr).toMatch(
        new RegExp(
          `^sensoterra-sync: EXPORT_DIR=${exportDir} cannot be used \\(ENOTDIR: not a directory, [^\\n]*\\): set EXPORT_DIR to a folder this process can write \\(it is made when missing\\) \\[E_CONFIG_INVALID\\]\\n$`,
        ),
      );
      expect(result.code).toBe(2);
    } finally {
      place.cleanup();
    }
  });

  it('a WAREHOUSE_PATH that is a folder: names the path and the setting, in one line', async () => {
    const place = testPlace({ WAREHOUSE_PATH: tmpdir() });
    try {
      const result = await runCommand(['query', 'SELECT 1'], place.env);
      expect(result.stderr).toMatch(
        new RegExp(
          `^sensoterra-sync: cannot open the warehouse ${tmpdir()} \\(WAREHOUSE_PATH\\): [^\\n]+\\[E_WAREHOUSE\\]\\n$`,
        ),
      );
      expect(result.code).toBe(1);
    } finally {
      place.cleanup();
    }
  });

  it('export at a WAREHOUSE_PATH where there is none: publishes nothing, and creates nothing there', async () => {
    const place = testPlace();
    try {
      const result = await runCommand(['export'], place.env);
      expect(result.stderr).toBe(
        `sensoterra-sync: there is no warehouse at ${place.config.warehousePath}, and no running worker holds one there: check WAREHOUSE_PATH (a first sync, or the service's first start, creates the warehouse) [E_NOT_FOUND]\n`,
      );
      expect(result.code).toBe(1);
      expect([existsSync(place.config.warehousePath), existsSync(place.config.exportDir)]).toEqual([false, false]);
    } finally {
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });

  it('a WAREHOUSE_PATH where there is none: says so, and creates nothing there', async () => {
    const place = testPlace();
    try {
      const result = await runCommand(['query', 'SELECT 1'], place.env);
      expect(result.stderr).toBe(
        `sensoterra-sync: there is no warehouse at ${place.config.warehousePath}, and no running worker holds one there: check WAREHOUSE_PATH (a first sync, or the service's first start, creates the warehouse) [E_NOT_FOUND]\n`,
      );
      expect(result.code).toBe(1);
      expect(existsSync(place.config.warehousePath)).toBe(false);
    } finally {
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });
});

describe('an error line', () => {
  it('stays one line: a value typed with a line break, and a message of several lines', async () => {
    const result = await runCommand(['query', '--format', 'csv\nx', 'SELECT 1'], {});
    expect(result.stderr).toBe('sensoterra-sync: --format csv x: expected one of table, csv, json\n');
    expect(result.code).toBe(2);
    expect(oneLine('502 <html>\n  <body>Bad Gateway</body>\r\n</html>')).toBe(
      '502 <html> <body>Bad Gateway</body> </html>',
    );
  });

  it('is cut past 2,000 characters, saying how many were left out', () => {
    const long = `Conversion Error: ${'z'.repeat(1_048_576)}`;
    expect(oneLine(long)).toBe(`${long.slice(0, 2_000)}... (${long.length - 2_000} more characters)`);
  });
});

describe('the log of a command', () => {
  it('stays off at the default LOG_LEVEL: the answer alone on stdout, nothing on stderr', async () => {
    const place = testPlace({ LOG_LEVEL: 'info' });
    try {
      const quiet = await runCli(['status'], place.env);
      expect([quiet.code, quiet.stderr]).toEqual([0, '']);
      expect(quiet.stdout).toMatch(/^worker {5}not running\n/);
      // no warehouse there yet: said, not made
      expect(quiet.stdout).toContain(`\nwarehouse  there is no warehouse at ${place.config.warehousePath},`);
      expect(existsSync(place.config.warehousePath)).toBe(false);

      const verbose = await runCli(['status', '--verbose'], place.env);
      expect(verbose.code).toBe(0);
      expect(verbose.stdout).toMatch(/^worker {5}not running\n/); // the answer, as without --verbose
      const lines = verbose.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: 'sensoterra-sync' });
      expect(lines.map((l) => (JSON.parse(l) as { level: number }).level)).toContain(20); // debug lines too
    } finally {
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });

  it('reads as lines for a person with LOG_FORMAT=pretty', async () => {
    const place = testPlace({ LOG_FORMAT: 'pretty' });
    try {
      const result = await runCli(['status', '--verbose'], place.env);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: no worker holds this warehouse: opening it here\n {4}kind: "status"\n/,
      );
    } finally {
      await deleteKeys(place.prefix);
      place.cleanup();
    }
  });

  it('follows LOG_LEVEL for the service, and for a command only at debug or trace, or with --verbose', () => {
    const cases: [string, boolean, boolean, string][] = [
      // configured, the service?, --verbose, the level used
      ['info', true, false, 'info'],
      ['warn', true, false, 'warn'],
      ['info', true, true, 'debug'],
      ['info', false, false, 'silent'],
      ['error', false, false, 'silent'],
      ['debug', false, false, 'debug'],
      ['trace', false, false, 'trace'],
      ['info', false, true, 'debug'],
      ['trace', false, true, 'trace'],
      ['silent', false, true, 'debug'],
    ];
    for (const [configured, service, verbose, expected] of cases) {
      expect(commandLogLevel(configured, service, verbose), `${configured} ${service} ${verbose}`).toBe(expected);
    }
  });
});

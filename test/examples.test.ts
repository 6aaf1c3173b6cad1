/**
 * The example questions in sql/examples/: each one runs through `query`'s read-only path and answers something
 * on an account with six weeks of readings up to now, one probe of which went quiet six hours ago. And each runs
 * as docs/querying.md writes it: the `sensoterra-sync query` lines of its sh blocks, typed into a shell in the
 * project's root against the same warehouse, print what the same SQL answers in-process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, formatRows, type Format } from '../src/format/table.js';
import { runJob } from '../src/job-runtime/runner.js';
import { SQL_DIR } from '../src/paths.js';
import type { QueryResult } from '../src/warehouse/query/read-only.js';
import { generateAccount, sendPushes, uplinksFor, type AccountFixture } from '../src/simulator/index.js';
import { ROOT, runCommand, runShell, type CliResult } from './helpers/cli.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

const HOUR = 3_600_000;
let stack: Stack;
let quiet: string;

beforeAll(async () => {
  const now = new Date();
  stack = await startStack({ account: withANorthField(generateAccount({ seed: 4, probes: 6, customers: 2 })), now });
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers'])
    await runJob(job, {}, stack.worker.deps, { trigger: 'command' });
  const serials = stack.sim.account.probes.map((p) => p.serial);
  quiet = serials[0]!;
  const send = async (from: number, to: number, only: string[]): Promise<void> => {
    await sendPushes(uplinksFor(stack.sim.account, { from: new Date(from), to: new Date(to), serials: only }), {
      url: stack.pushUrl,
      secret: PUSH_SECRET,
      uplinksPerRequest: 50,
    });
  };
  await send(now.getTime() - 42 * 24 * HOUR, now.getTime() - 6 * HOUR, serials);
  await send(now.getTime() - 6 * HOUR, now.getTime(), serials.slice(1));
  await stack.drained();
  // synced after the pushes: the status readings of the quiet probe are six hours old too
  stack.sim.setNow(new Date(now.getTime() - 6 * HOUR));
  await runJob('sync-probes', {}, stack.worker.deps, { trigger: 'command' });
}, 120_000);
afterAll(async () => stack?.stop());

/**
 * how-wet-was-a-field-last-week.sql asks about 'North field', and runs as written below: the field of one moisture
 * probe at 30 cm (not the one that goes quiet) is named so.
 */
function withANorthField(account: AccountFixture): AccountFixture {
  const probe = account.probes
    .slice(1)
    .find((p) => p.kind === 'MOISTURE' && p.depths.includes(30) && p.location_id != null && p.soil_profile.length > 0);
  const field = account.locations.find((l) => l.id === probe?.location_id);
  if (!field) throw new Error('the simulated account has no moisture probe at 30 cm in a field: pick another seed');
  field.name = 'North field';
  return account;
}

function example(name: string): string {
  return readFileSync(join(SQL_DIR, 'examples', `${name}.sql`), 'utf8');
}

const ask = (sql: string) => stack.worker.deps.db.query(sql, { timeoutMs: 30_000, memoryMb: 1024 });

describe('the example questions', () => {
  it('are all here, each starting with the question it answers', () => {
    const files = readdirSync(join(SQL_DIR, 'examples')).sort();
    expect(files).toEqual([
      'calibration-history-of-each-probe.sql',
      'days-below-refill-last-month.sql',
      'how-wet-was-a-field-last-week.sql',
      'latest-moisture-profile.sql',
      'which-probes-have-gone-quiet.sql',
    ]);
    for (const file of files) expect(readFileSync(join(SQL_DIR, 'examples', file), 'utf8')).toMatch(/^-- .+\?/);
  });

  it('how wet was a field at 30 cm last week: seven days per probe there, with the calibration', async () => {
    const [field] = await stack.rows(`SELECT l.name FROM locations l JOIN probes p ON p.location_id = l.id
      WHERE p.soil_profile IS NOT NULL AND p.unit = '%' AND p.serial IN (SELECT serial FROM readings WHERE depth_cm = 30) LIMIT 1`);
    const sql = example('how-wet-was-a-field-last-week').replace("'North field'", `'${String(field!.name)}'`);
    const answer = await ask(sql);
    expect(answer.columns).toEqual([
      'field',
      'probe_name',
      'day',
      'mean_moisture_pct',
      'min_pct',
      'max_pct',
      'calibration',
      'water_status',
      'coverage',
    ]);
    expect(answer.rows.length % 7).toBe(0);
    expect(answer.rows.length).toBeGreaterThan(0);
    expect(answer.rows.every((r) => r.calibration !== null && r.coverage === 1)).toBe(true);
  });

  it('which probes have gone quiet: the one that stopped six hours ago', async () => {
    const answer = await ask(example('which-probes-have-gone-quiet'));
    expect(answer.rows.map((r) => r.probe_name)).toEqual(
      (await stack.rows(`SELECT name FROM probes WHERE serial = '${quiet}'`)).map((r) => r.name),
    );
    expect(answer.rows[0]!.hours_quiet).toBeGreaterThanOrEqual(6);
  });

  it('days below refill last month: a row per field and depth with thresholds, days measured in last month', async () => {
    const answer = await ask(example('days-below-refill-last-month'));
    expect(answer.rows.length).toBeGreaterThan(0);
    const lastMonthDays = new Date(new Date().getUTCFullYear(), new Date().getUTCMonth(), 0).getDate();
    for (const row of answer.rows) {
      expect(row.days_measured).toBeGreaterThan(0);
      expect(row.days_measured).toBeLessThanOrEqual(lastMonthDays);
      expect(row.days_below_refill).toBeLessThanOrEqual(row.days_measured as number);
    }
  });

  it('calibration history of each probe: one row per layer of every version', async () => {
    const answer = await ask(example('calibration-history-of-each-probe'));
    const [{ layers }] = (await stack.rows('SELECT count(*) AS layers FROM probe_soil_layers')) as [{ layers: number }];
    expect(answer.rows).toHaveLength(layers);
    expect(answer.rows.every((r) => r.valid_from === 'from the start' && r.valid_to === 'now')).toBe(true);
  });

  it('latest moisture profile: one row per moisture probe', async () => {
    const answer = await ask(example('latest-moisture-profile'));
    const [{ n }] = (await stack.rows("SELECT count(DISTINCT serial) AS n FROM readings WHERE type = 'MOISTURE'")) as [
      { n: number },
    ];
    expect(answer.rows).toHaveLength(n);
  });
});

/** The lines of docs/querying.md's ```sh blocks that call `sensoterra-sync query`, as written. */
function documentedQueryLines(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/querying.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) => block.split('\n')).filter((line) => /\bsensoterra-sync query\b/.test(line));
}

const EXAMPLE_PATH = /sql\/examples\/[\w.-]+\.sql/;

/** What `query` prints for an answer in a format (io.out ends it with a line break). */
function printed(answer: QueryResult, format: Format): string {
  const text = formatRows(answer.columns, answer.rows, format);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Runs a command line naming one example in a shell, as a user would, against the test's warehouse and queue; it
 * must exit 0 and print what the example's SQL answers in-process.
 */
async function expectSameAnswerAsInProcess(commandLine: string): Promise<void> {
  const path = EXAMPLE_PATH.exec(commandLine)?.[0];
  expect(path, `${commandLine} names no file in sql/examples/`).toBeDefined();
  const format = (/--format[ =](\S+)/.exec(commandLine)?.[1] ?? 'table') as Format;
  expect(FORMATS).toContain(format);
  const sql = readFileSync(join(ROOT, path!), 'utf8');
  await expectPrinted(sql, format, () => runShell(commandLine, stack.place.env));
}

/**
 * What `run` prints, exiting 0, is what `sql` answers in-process in `format`. An example may read now(): the
 * in-process answer is taken just before and just after, and the printed one must be one of them.
 */
async function expectPrinted(sql: string, format: Format, run: () => Promise<CliResult>): Promise<void> {
  const before = await ask(sql);
  const result = await run();
  const after = await ask(sql);
  expect(result.code, result.stderr).toBe(0);
  expect(before.rows.length).toBeGreaterThan(0);
  const expected = result.stdout === printed(after, format) ? printed(after, format) : printed(before, format);
  expect(result.stdout).toBe(expected);
}

describe('the examples, run as docs/querying.md writes them', () => {
  const lines = documentedQueryLines();
  const argumentLine = lines.find((line) => line.includes('"$(cat sql/examples/'));

  it('the docs show the SQL as an argument, with --file and on stdin, each from a file in sql/examples/', () => {
    expect(argumentLine).toBeDefined();
    expect(lines.filter((line) => / --file sql\/examples\//.test(line))).not.toHaveLength(0);
    expect(lines.filter((line) => / < sql\/examples\//.test(line))).not.toHaveLength(0);
    for (const line of lines) expect(line).toMatch(/^npx sensoterra-sync query /);
    for (const line of lines) expect(line).toMatch(EXAMPLE_PATH);
  });

  for (const line of lines) {
    it(`\`${line}\` prints what the same SQL answers`, async () => {
      await expectSameAnswerAsInProcess(line);
    });
  }

  // every example through the command's own code, in this process (a shell and npx cost seconds each; the lines
  // above run them once per form the docs show)
  for (const file of readdirSync(join(SQL_DIR, 'examples')).sort()) {
    it(`${file}, given to query as its argument, prints as JSON what the same SQL answers`, async () => {
      const sql = readFileSync(join(SQL_DIR, 'examples', file), 'utf8');
      await expectPrinted(sql, 'json', () => runCommand(['query', sql, '--format', 'json'], stack.place.env));
    });
  }
});

/**
 * The published snapshot, opened by DuckDB engines nobody here wrote: every release line from 1.0.0 (the oldest
 * that opens storage version v1.0.0, which is what the snapshot is written in) to the writer's own, as
 * docs/querying.md promises. Each engine comes from npm (test/engines/package.json, installed by
 * helpers/engines.ts) and runs in a process of its own (helpers/engine-reader.ts) in a time zone that is not UTC. The duckdb-wasm builds have no json or icu extension and load none: they are the offline, locked-down
 * BI driver, and every view must work there too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_TABLES } from '../src/warehouse/export.js';
import { readJson } from './helpers/warehouse.js';
import { SQL_DIR } from '../src/paths.js';
import { MATERIALIZED_IN_SNAPSHOT, VIEWS } from '../src/warehouse/views.js';
import { CLI } from './helpers/cli.js';
import type { EngineReport, ObjectRead } from './helpers/engine-reader.js';
import { engineModule, installEngines } from './helpers/engines.js';
import { richExport, type RichExport } from './helpers/rich-export.js';

interface Engine {
  package: string; // an alias in test/engines/package.json, or the writer's own @duckdb/node-api
  kind: 'node-api' | 'wasm';
  engine: string; // what version() answers
}

/** The tested range. docs/querying.md lists exactly these. */
const ENGINES: Engine[] = [
  { package: 'duckdb-wasm-engine-1.0', kind: 'wasm', engine: 'v1.0.0' },
  { package: 'duckdb-wasm-engine-1.1', kind: 'wasm', engine: 'v1.1.1' },
  { package: 'duckdb-node-api-1.1', kind: 'node-api', engine: 'v1.1.3' },
  { package: 'duckdb-node-api-1.2', kind: 'node-api', engine: 'v1.2.2' },
  { package: 'duckdb-node-api-1.3', kind: 'node-api', engine: 'v1.3.2' },
  { package: 'duckdb-node-api-1.4', kind: 'node-api', engine: 'v1.4.4' },
  { package: 'duckdb-wasm-engine-1.4', kind: 'wasm', engine: 'v1.4.3' },
  { package: '@duckdb/node-api', kind: 'node-api', engine: 'v1.5.6' }, // the writer's own
];
/** What every engine's answer is compared with: the writer's own engine, with json and icu, in another zone. */
const REFERENCE: Engine = ENGINES.at(-1)!;

const READER = CLI.replace('src/cli/main.js', 'test/helpers/engine-reader.js');
const EXAMPLES = readdirSync(join(SQL_DIR, 'examples')).map((file) => join(SQL_DIR, 'examples', file));
/**
 * V8 compiles a duckdb-wasm build (tens of MB of code) with its baseline compiler only: the optimising tier, which
 * recompiles the hot functions in the background, costs more than the small snapshot's reading gains from it (the
 * three wasm readers: 1.6 s of CPU each instead of about 3.4, issue 14). What they answer is the same.
 */
const WASM_FLAGS = ['--liftoff-only'];
const READER_TIMEOUT_MS = 120_000; // a wasm build that meets a function of a missing extension may hang: it is killed

let rich: RichExport;
let work: string | undefined;
const reports = new Map<Engine, EngineReport | { failed: string }>();

/** The module a reader loads for an engine (helpers/engine-reader.ts). */
function moduleOf(engine: Engine): string {
  if (engine === REFERENCE) return createRequire(import.meta.url).resolve(engine.package);
  return engineModule(engine.package, engine.kind === 'wasm' ? 'dist/duckdb-node-blocking.cjs' : undefined);
}

/** Runs one engine's reader in its own process (its own working folder: an old wasm build drops a .wal there). */
function readWith(engine: Engine, tz: string): Promise<EngineReport | { failed: string }> {
  const snapshot = join(rich.report.path, 'warehouse.duckdb');
  const cwd = mkdtempSync(join(work!, 'reader-'));
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...(engine.kind === 'wasm' ? WASM_FLAGS : []), READER, engine.kind, moduleOf(engine), snapshot, ...EXAMPLES],
      {
        cwd,
        env: { ...process.env, TZ: tz },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), READER_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(stdout) as EngineReport);
      else
        resolve({
          failed: `${engine.package}: ${signal === 'SIGKILL' ? `no answer in ${READER_TIMEOUT_MS / 1000} s` : `exit ${code}`}: ${stderr.slice(0, 800)}`,
        });
    });
  });
}

/** The example's valid_from and valid_to: DuckDB's text for an instant, or the words for an open end. */
const timesOf = (row: unknown): string[] => {
  const { valid_from, valid_to } = row as { valid_from: string; valid_to: string };
  return [valid_from, valid_to];
};

/** A row of the example with its times as instants (`2024-07-07 20:00:00+09:30` is 10:30 UTC), words as they are. */
function asInstants(row: unknown): unknown {
  const [valid_from, valid_to] = timesOf(row).map((text) =>
    /^\d{4}-/.test(text) ? new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString() : text,
  );
  return { ...(row as object), valid_from, valid_to };
}

function report(engine: Engine): EngineReport {
  const read = reports.get(engine);
  if (read === undefined || 'failed' in read) throw new Error(read?.failed ?? `${engine.package} did not run`);
  return read;
}

// installed before anything else (once; later runs find them); where npm cannot install them, the file is skipped,
// saying why, but never on this project's CI machine, where it can and must
const engines = installEngines();
if ('unavailable' in engines) {
  if (process.env.CI === 'true') throw new Error(engines.unavailable);
  console.warn(`skipped: ${engines.unavailable}`);
}

beforeAll(async () => {
  if ('unavailable' in engines) return;
  work = mkdtempSync(join(tmpdir(), 'sensoterra-engines-'));
  rich = await richExport();
  // all at once: each waits mostly on its own start-up
  const read = await Promise.all(
    ENGINES.map((engine) => readWith(engine, engine === REFERENCE ? 'Australia/Adelaide' : 'America/St_Johns')),
  );
  ENGINES.forEach((engine, i) => reports.set(engine, read[i]!));
  const ran = ENGINES.filter((_, i) => !('failed' in read[i]!));
  console.log(`engines that read the snapshot: ${ran.map((e) => `${e.package} (${e.engine})`).join(', ')}`);
}, 240_000);

afterAll(async () => {
  await rich?.stack.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe.skipIf('unavailable' in engines)('the published snapshot, read by other DuckDB engines', () => {
  it('opens in every engine of the tested range, DuckDB 1.0.0 to the writer’s own, and each is the version it claims', () => {
    expect(ENGINES.map((engine) => report(engine).engine)).toEqual(ENGINES.map((engine) => engine.engine));
    expect(rich.report.snapshot).toBe('patched'); // built on the version before it, as every publish after the first
  });

  it('is read by the wasm builds without the json or icu extension', () => {
    for (const engine of ENGINES.filter((e) => e.kind === 'wasm')) {
      expect(
        report(engine).extensions.filter((name) => name === 'json' || name === 'icu'),
        engine.package,
      ).toEqual([]);
    }
  });

  it('holds every table and view, with the rows the manifest counts', () => {
    const objects = report(REFERENCE).objects;
    expect(Object.keys(objects).sort()).toEqual([...new Set([...SNAPSHOT_TABLES, ...VIEWS])].sort());
    for (const table of SNAPSHOT_TABLES)
      expect(objects[table], table).toMatchObject({ rows: rich.report.tables[table] });
  });

  it('answers every view with as many rows as the live warehouse', async () => {
    for (const view of VIEWS) {
      const [live] = await rich.stack.rows(`SELECT count(*) AS n FROM ${view}`);
      expect(report(REFERENCE).objects[view], view).toMatchObject({ rows: Number(live!.n) });
    }
  });

  it('reads every table and view the same, row for row, in every engine, extensions or none', () => {
    const expected = report(REFERENCE).objects;
    for (const engine of ENGINES)
      expect(report(engine).objects, `${engine.package} (${engine.engine})`).toEqual(expected);
  });

  it('answers every view through the name it is attached under from DuckDB 1.2 on; 1.0 and 1.1 need it in use (docs/querying.md)', () => {
    const views = Object.fromEntries(
      VIEWS.filter((v) => !MATERIALIZED_IN_SNAPSHOT.includes(v)).map((v) => [
        v,
        { rows: (report(REFERENCE).objects[v] as ObjectRead).rows },
      ]),
    );
    for (const engine of ENGINES) {
      const attached = report(engine).attached;
      const [major, minor] = engine.engine.slice(1).split('.').map(Number) as [number, number];
      if (major > 1 || minor >= 2) expect(attached, engine.package).toEqual(views);
      // those engines look for a view's tables in the database in use, not in the view's own
      else
        for (const [view, answer] of Object.entries(attached))
          expect(answer, `${engine.package} ${view}`).toEqual({
            error: expect.stringMatching(/^Catalog Error: Table with name \w+ does not exist!/),
          });
    }
  });

  it('answers the calibration-history example as the live warehouse does, open ends as words though they are dates there', async () => {
    const sql = readFileSync(join(SQL_DIR, 'examples', 'calibration-history-of-each-probe.sql'), 'utf8');
    const answer = async (connection: DuckDBConnection): Promise<unknown[]> =>
      (await connection.runAndReadAll(sql)).getRowObjectsJson();
    const snapshot = await DuckDBInstance.create(join(rich.report.path, 'warehouse.duckdb'), {
      access_mode: 'READ_ONLY',
    });
    const exported = await snapshot.connect();
    try {
      const expected = await readJson(rich.stack.worker.deps.db, sql);
      expect(expected).toContainEqual(expect.objectContaining({ valid_from: 'from the start', valid_to: 'now' }));
      expect(expected.filter((row) => (row as { valid_to: string }).valid_to !== 'now')).not.toHaveLength(0); // a closed version
      // a time comes as text in the reader's own time zone, with its offset (this file runs in Adelaide, the worker
      // in UTC): the same instants, written for each reader
      const read = await answer(exported);
      for (const row of read)
        for (const time of timesOf(row)) expect(time).toMatch(/^from the start$|^now$|[+-]\d\d(:\d\d)?$/);
      expect(read.map(asInstants)).toEqual(expected.map(asInstants));
    } finally {
      exported.closeSync();
      snapshot.closeSync();
    }
  });

  it('runs every example question in every engine that has icu (DuckDB’s CLI, Python, R, JDBC and ODBC builds do)', () => {
    const expected = report(REFERENCE).queries;
    expect(Object.keys(expected)).toHaveLength(EXAMPLES.length);
    for (const answer of Object.values(expected)) expect(answer).toHaveProperty('rows');
    for (const engine of ENGINES.filter((e) => e.kind === 'node-api'))
      expect(report(engine).queries, engine.package).toEqual(expected);
  });
});

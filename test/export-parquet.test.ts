/**
 * The published Parquet files read by a reader nobody here wrote: hyparquet, a pure-JS Parquet reader, with its
 * default options (no codec plug-ins: Snappy is the one codec it decodes on its own, as every Parquet reader does).
 * Every file of a published version is read, and every column of every row compared with the live warehouse after
 * the conversions the export documents (docs/querying.md, "What is in it"), written out here by hand:
 *
 * - JSON columns are exported as their text;
 * - the open ends of history intervals, -infinity and infinity, as 1900-01-01T00:00:00Z and 2200-01-01T00:00:00Z;
 * - readings go to parquet/readings/year=YYYY/month=M/*.parquet, each row with year and month (of ts, in UTC) as
 *   two more columns, readings_daily the same way to parquet/readings_daily/ (year and month of its day), and
 *   probe_status to parquet/probe_status/ (of last_update, in UTC);
 * - everything else as it is: text, whole numbers, doubles, booleans, dates, instants in UTC.
 *
 * And the codec: Snappy unless EXPORT_PARQUET_COMPRESSION says otherwise.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_FILE_TABLES, PARQUET_TABLES } from '../src/warehouse/export.js';
import { runJob } from '../src/job-runtime/runner.js';
import type { Row, Value } from '../src/warehouse/rows.js';
import { richExport } from './helpers/rich-export.js';
import { startStack, type Stack } from './helpers/stack.js';

const OPEN_START = '1900-01-01T00:00:00.000Z';
const OPEN_END = '2200-01-01T00:00:00.000Z';
const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE';
/** Views that must be in the export as files of their own, not only in the DuckDB snapshot. */
const VIEWS_AS_FILES = ['readings_daily', 'probe_latest', 'probe_health', 'probe_soil_layers', 'soil_thresholds'];

interface Column {
  name: string;
  type: string; // DuckDB's data_type in the live warehouse
}

interface ParquetFile {
  path: string;
  metadata: FileMetaData;
  columns: string[];
  rows: Record<string, unknown>[];
}

/** Reads a whole file the way any user of hyparquet would: no compressors, no parsers, nothing but the file. */
async function readParquet(path: string): Promise<ParquetFile> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows = await parquetReadObjects({ file, metadata, rowFormat: 'object' });
  // the export's columns are flat: the schema is the root and then one element per column, in order
  const columns = metadata.schema.slice(1).map((element) => element.name);
  return { path, metadata, columns, rows };
}

/** The codec of every column chunk of every row group, as the file's metadata names it. */
function codecsOf(files: FileMetaData[]): string[] {
  const codecs = files.flatMap((metadata) =>
    metadata.row_groups.flatMap((group) => group.columns.map((chunk) => chunk.meta_data?.codec)),
  );
  return [...new Set(codecs.map(String))];
}

/** Every Parquet file under `dir`, at any depth (the readings' year=/month= folders included). */
function parquetFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.parquet'))
    .map((name) => join(dir, name))
    .sort();
}

async function liveColumns(stack: Stack, table: string): Promise<Column[]> {
  const rows = await stack.rows(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = '${table}' ORDER BY ordinal_position`,
  );
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.data_type) }));
}

/**
 * A live value (src/warehouse/rows.ts: Dates for instants, 'infinity' / '-infinity' for the open ends, 'YYYY-MM-DD'
 * for dates, numbers for whole numbers while exact and their digits past 2^53) as the export documents it, in the
 * terms both sides are compared in: instants as ISO 8601 UTC text with milliseconds.
 */
function exportedValue(value: Value, column: Column): unknown {
  if (value === null) return null;
  switch (column.type) {
    case TIMESTAMPTZ:
      if (value === '-infinity') return OPEN_START;
      if (value === 'infinity') return OPEN_END;
      return (value as Date).toISOString();
    case 'JSON':
      expect(typeof value, `${column.name}: JSON arrives from the live warehouse as its text`).toBe('string');
      return value; // exported as that same text
    case 'VARCHAR':
    case 'BIGINT':
    case 'INTEGER':
    case 'DOUBLE':
    case 'BOOLEAN':
    case 'DATE':
      return value;
    default:
      throw new Error(`${column.name}: no documented export rule for ${column.type}`);
  }
}

/**
 * A value as hyparquet gives it, in the same terms. What hyparquet returns follows the file's types, not ours:
 * INT64 with a TIMESTAMP logical type (DuckDB writes TIMESTAMPTZ so, in microseconds) comes as a Date, cut to the
 * millisecond as DuckDB's own JS Date is on the live side; an INT64 without one as a bigint (for an instant that
 * would be microseconds since the epoch); a DATE as a Date at midnight UTC; INT32 and DOUBLE as numbers; a NULL as
 * null or undefined. Each case is normalized here explicitly, by the live column's type, never by the host's zone.
 */
function readValue(value: unknown, column: Column): unknown {
  if (value === null || value === undefined) return null;
  if (column.type === TIMESTAMPTZ) {
    const date = typeof value === 'bigint' ? new Date(Number(value / 1000n)) : value;
    expect(date, `${column.name}: an instant`).toBeInstanceOf(Date);
    return (date as Date).toISOString();
  }
  if (column.type === 'DATE') {
    expect(value, `${column.name}: a date`).toBeInstanceOf(Date);
    return (value as Date).toISOString().slice(0, 10);
  }
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** Rows as lists of values in column order, sorted by all of them: the order of rows in a file means nothing. */
function sortedRows(rows: unknown[][]): unknown[][] {
  const keyed = rows.map((row) => ({ key: JSON.stringify(row), row }));
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.row);
}

function expectedRows(live: Row[], columns: Column[]): unknown[][] {
  return sortedRows(live.map((row) => columns.map((c) => exportedValue(row[c.name] ?? null, c))));
}

function readRows(files: ParquetFile[], columns: Column[]): unknown[][] {
  return sortedRows(files.flatMap((f) => f.rows.map((row) => columns.map((c) => readValue(row[c.name], c)))));
}

describe('the published export, read by hyparquet with its default options (a reader nobody here wrote)', () => {
  let stack: Stack;
  let parquetDir: string;
  let manifest: { parquet_compression: string; tables: Record<string, number> };
  const files = new Map<string, ParquetFile>(); // by path relative to parquet/

  beforeAll(async () => {
    const exported = await richExport();
    stack = exported.stack;
    parquetDir = join(exported.report.path, 'parquet');
    manifest = JSON.parse(readFileSync(join(exported.report.path, 'manifest.json'), 'utf8')) as typeof manifest;
    for (const path of parquetFilesUnder(parquetDir))
      files.set(path.slice(parquetDir.length + 1), await readParquet(path));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const tableFile = (table: string): ParquetFile => files.get(`${table}.parquet`)!;
  const dayFiles = (table: string): ParquetFile[] =>
    [...files].filter(([name]) => name.startsWith(`${table}/`)).map(([, f]) => f);
  /** The rows of a table or view, from its file or its files a day. */
  const rowsOf = (table: string): Record<string, unknown>[] =>
    (DAY_FILE_TABLES as readonly string[]).includes(table)
      ? dayFiles(table).flatMap((f) => f.rows)
      : tableFile(table).rows;

  it('is written with Snappy, which every reader decodes without a plug-in: every column chunk of every file, as the manifest says', () => {
    expect(codecsOf([...files.values()].map((f) => f.metadata))).toEqual(['SNAPPY']);
    expect(manifest.parquet_compression).toBe('snappy');
  });

  it('has a file per table and per view worth having as a file, and readings, readings_daily and probe_status in year=YYYY/month=M folders, a file a day', () => {
    const names = [...files.keys()];
    expect(names.filter((n) => !n.includes('/')).sort()).toEqual(PARQUET_TABLES.map((t) => `${t}.parquet`).sort());
    for (const view of VIEWS_AS_FILES.filter((v) => v !== 'readings_daily')) expect(names).toContain(`${view}.parquet`);
    expect(DAY_FILE_TABLES).toEqual(['readings', 'readings_daily', 'probe_status']);
    for (const table of DAY_FILE_TABLES) {
      expect(dayFiles(table).length, table).toBeGreaterThan(1);
      for (const f of dayFiles(table)) {
        const [, year, month, day] = new RegExp(
          `^${table}/year=(\\d{4})/month=(\\d+)/(\\d{4}-\\d\\d-\\d\\d)\\.parquet$`,
        ).exec(f.path.slice(parquetDir.length + 1))!;
        expect(day!.slice(0, 7), f.path).toBe(`${year}-${month!.padStart(2, '0')}`);
      }
    }
    expect(names.filter((n) => n.includes('/') && !DAY_FILE_TABLES.some((t) => n.startsWith(`${t}/`)))).toEqual([]);
  });

  // the views are compared too: computed in the snapshot at publishing, and live now. probe_health reads now(), the
  // real clock's, against readings on the simulator's (July 2024): stale and hours_missing_7d agree on both sides
  it.each(PARQUET_TABLES)(
    '%s: the same columns in the same order, and the same rows as the live warehouse',
    async (table) => {
      const columns = await liveColumns(stack, table);
      expect(columns.length).toBeGreaterThan(0);
      const file = tableFile(table);
      expect(file.columns).toEqual(columns.map((c) => c.name));
      const live = await stack.rows(`SELECT * FROM "${table}"`);
      expect(readRows([file], columns)).toEqual(expectedRows(live, columns));
    },
  );

  // each table's day, as its files are named: readings by the UTC day of ts, readings_daily by its own (local) day
  const dayOf: Record<(typeof DAY_FILE_TABLES)[number], (row: Row) => string> = {
    readings: (row) => (row.ts as Date).toISOString().slice(0, 10),
    readings_daily: (row) => row.day as string,
    probe_status: (row) => (row.last_update as Date).toISOString().slice(0, 10),
  };
  it.each(DAY_FILE_TABLES)(
    '%s: all the day files together hold the live rows, each with the year and month of its day as columns and in the file of that day',
    async (table) => {
      const columns = [
        ...(await liveColumns(stack, table)),
        { name: 'year', type: 'INTEGER' },
        { name: 'month', type: 'INTEGER' },
      ];
      for (const f of dayFiles(table)) expect(f.columns).toEqual(columns.map((c) => c.name));
      const live = (await stack.rows(`SELECT * FROM "${table}"`)).map((r) => ({
        ...r,
        year: Number(dayOf[table](r).slice(0, 4)),
        month: Number(dayOf[table](r).slice(5, 7)),
      }));
      expect(live.length).toBeGreaterThan(0);
      expect(readRows(dayFiles(table), columns)).toEqual(expectedRows(live, columns));
      // and each row in its own day's file
      const liveColumnsOnly = columns.slice(0, -2);
      const dayOfRow = new Map(
        live.map((r) => [JSON.stringify(expectedRows([r], liveColumnsOnly)[0]), dayOf[table](r)]),
      );
      for (const f of dayFiles(table)) {
        const day = /(\d{4}-\d\d-\d\d)\.parquet$/.exec(f.path)![1];
        for (const row of readRows([f], liveColumnsOnly)) expect(dayOfRow.get(JSON.stringify(row)), f.path).toBe(day);
      }
    },
  );

  it('holds the rows the conversions are about: readings without a depth, open and closed probe versions, conflicts, rejected pushes', () => {
    const readings = rowsOf('readings');
    expect(readings.filter((r) => r.depth_cm == null).map((r) => r.type)).toContain('TEMPERATURE');
    const history = tableFile('probe_history').rows.map((r) => ({
      from: (r.valid_from as Date).toISOString(),
      to: (r.valid_to as Date).toISOString(),
      current: r.is_current,
    }));
    // a probe's first version is open at its start, its current one at its end; a closed one ends at a real instant
    expect(history).toContainEqual({ from: OPEN_START, to: OPEN_END, current: true }); // never changed
    expect(history.some((r) => r.from !== OPEN_START && r.to === OPEN_END && r.current === true)).toBe(true); // changed once
    expect(history.some((r) => r.from === OPEN_START && r.to !== OPEN_END && r.current === false)).toBe(true); // closed
    expect(history.filter((r) => r.current === true).every((r) => r.to === OPEN_END)).toBe(true);
    expect(tableFile('reading_conflicts').rows.length).toBeGreaterThan(0);
    expect(tableFile('rejected_pushes').rows.length).toBeGreaterThan(0);
    for (const view of VIEWS_AS_FILES) expect(rowsOf(view).length, view).toBeGreaterThan(0);
    expect(manifest.tables.readings).toBe(readings.length);
  });
});

describe('EXPORT_PARQUET_COMPRESSION', () => {
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('zstd: the export job writes every column chunk with ZSTD, and the manifest says so', async () => {
    stack = await startStack({ env: { EXPORT_PARQUET_COMPRESSION: 'zstd' } });
    // probes and their history are enough to have rows in files; no readings needed for this
    for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes', 'export']) {
      expect((await runJob(job, {}, stack.worker.deps, { trigger: 'command' })).status).toBe('succeeded');
    }
    const current = join(stack.place.config.exportDir, 'current');
    const metadata = await Promise.all(
      parquetFilesUnder(join(current, 'parquet')).map(async (path) =>
        parquetMetadataAsync(await asyncBufferFromFile(path)),
      ),
    );
    expect(metadata.flatMap((m) => m.row_groups).length).toBeGreaterThan(0);
    expect(codecsOf(metadata)).toEqual(['ZSTD']);
    expect(JSON.parse(readFileSync(join(current, 'manifest.json'), 'utf8'))).toMatchObject({
      parquet_compression: 'zstd',
    });
  });
});

/**
 * The warehouse's side of publishing (src/export/publish.ts owns versions, the manifest and the switch): into a
 * new version's folder, a read-only DuckDB snapshot (the tables and the views, in a storage version older DuckDB
 * builds inside BI drivers can open) and Parquet per table; readings, readings_daily and probe_status partitioned by
 * year and month, a file a day.
 *
 * Incremental: given the previous version and the fingerprints its manifest recorded, only what changed is written.
 * Each table's fingerprint is its row count and a sum of row hashes; each day of readings (UTC), its count and its
 * last received_at (readings are only ever added: a day that only grew gets appended what it gained). The daily
 * rollup and probe_status (a row per uplink) are kept by day too, each day fingerprinted by its count and the
 * writer's stamp of its last change (day_changes, src/warehouse/day-changes.ts), not by hashing its rows;
 * readings_daily's days follow the rollup's. The snapshot starts as a copy of the previous one (a clone where the file
 * system can, a kernel copy where not, made while the fingerprints are read) in which the changed tables and days are
 * replaced; Parquet of an unchanged table or day is a hard link to the previous version's file. The other views are
 * small next to readings and change with every reading: they are written every time (probe_health from the
 * probe_latest file just written). A version is the same, file for file, as a full publish of the same moment would
 * be (test/export-incremental.test.ts).
 *
 * Types BI tools read everywhere: JSON columns become text, and the open ends of history intervals (-infinity,
 * infinity), which no BI tool can hold, become 1900-01-01 and 2200-01-01 (UTC).
 */
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARQUET_COMPRESSIONS, type ParquetCompression } from '../config.js';
import type { DayTrackedTable } from './day-changes.js';
import { dateList, DAY_MS, daysCondition, epochDay } from './days.js';
import { ident, literal, QuotedSql, sqlFile } from './sql-files.js';
import { createViews, MATERIALIZED_IN_SNAPSHOT, viewQuery } from './views.js';

/** The tables a user asks about, in the snapshot and each as Parquet (readings apart: partitioned by month, a file a day). */
const USER_TABLES = [
  'probes',
  'probe_history',
  'probe_status',
  'locations',
  'customers',
  'customer_probes',
  'soil_types',
  'soil_type_history',
  'parameters',
  'sync_runs',
  'reading_conflicts',
  'rejected_pushes',
  'uplink_extras',
] as const;
/** The tables copied into the snapshot (everything the views need, and everything a user may ask about). */
export const SNAPSHOT_TABLES = [
  'readings',
  ...USER_TABLES,
  'daily_rollup',
  'warehouse_settings',
  'soil_threshold_defaults',
  'soil_threshold_overrides',
] as const;
/** What goes to Parquet as a file each: the user-facing tables, and views worth having as files. */
export const PARQUET_TABLES = [
  ...USER_TABLES.filter((t) => t !== 'probe_status'),
  'probe_soil_layers',
  'soil_thresholds',
  'probe_latest',
  'probe_health',
] as const;
/**
 * What goes to Parquet as a file a day, in year=YYYY/month=M folders: readings by the UTC day of ts, the view
 * readings_daily by its own day (the probe's local day), and probe_status (battery and RSSI, a row per uplink) by
 * the UTC day of last_update.
 */
export const DAY_FILE_TABLES = ['readings', 'readings_daily', 'probe_status'] as const;
type DayFileTable = (typeof DAY_FILE_TABLES)[number];
/** The DuckDB storage version of the snapshot file, as in sql/export/attach.sql. */
export const STORAGE_VERSION = 'v1.0.0';
/**
 * What this build writes into a version, as a number: raised whenever a file's content would differ for the same
 * warehouse (a conversion, a partitioning, a table), so that a version of another format is never reused.
 */
export const EXPORT_FORMAT = 7;
/** A copied snapshot with more than this share of free blocks (rows replaced day after day) is written anew. */
const MAX_FREE_SHARE = 0.5;
const SNAPSHOT = 'export_snapshot';
const SNAPSHOT_FILE = 'warehouse.duckdb';
const OPEN_START = "TIMESTAMPTZ '1900-01-01 00:00:00+00'";
const OPEN_END = "TIMESTAMPTZ '2200-01-01 00:00:00+00'";

/** What a version holds, recorded in its manifest for the next publish to compare with. */
export interface ExportFingerprints {
  format: number;
  storage_version: string;
  parquet_compression: string;
  /** share of the snapshot file's blocks that are free */
  snapshot_free_share: number;
  /** each snapshot table but readings: '<rows>:<sum of row hashes>:<columns>' */
  tables: Record<string, string>;
  /** the columns of readings as exported */
  readings_columns: string;
  /** each day of readings (UTC), 'YYYY-MM-DD', as the files are named: '<rows>:<last received_at>' */
  readings_days: Record<string, string>;
  /** each day of the daily rollup (the probe's local day): '<rows>:<the writer's last change of it>' (day_changes) */
  rollup_days: Record<string, string>;
  /** each day of probe_status (UTC, of last_update): '<rows>:<the writer's last change of it>' (day_changes) */
  status_days: Record<string, string>;
}

/** The version a publish builds on: its folder and the fingerprints its manifest recorded. */
export interface PreviousExport {
  version: string;
  dir: string;
  fingerprints: ExportFingerprints;
  /** Its files as its manifest lists them, relative to `dir`. */
  recorded: ReadonlySet<string>;
  /**
   * Those that may be reused: still exactly as it wrote them (checked by the caller: the same size, modification
   * time and inode, a plain file inside `dir`, with the mode files are to have now).
   */
  intact: ReadonlySet<string>;
}

export interface ExportOutcome {
  /** rows per table, readings included */
  tables: Record<string, number>;
  fingerprints: ExportFingerprints;
  /** the snapshot was the previous one's copy, patched, or written whole */
  snapshot: 'patched' | 'written';
  /** files of the version, relative to its folder: written now, or hard links to the previous version's */
  written: string[];
  reused: string[];
  /** milliseconds by phase */
  phases: Record<string, number>;
}

/** Where a publish's time goes, phase by phase (in the manifest and the benchmark's report). */
class Phases {
  readonly ms: Record<string, number> = {};
  private last = performance.now();

  lap(name: string): void {
    const now = performance.now();
    this.ms[name] = Math.round((this.ms[name] ?? 0) + now - this.last);
    this.last = now;
  }
}

/** What changed since the previous version, decided from the fingerprints in one transaction. */
interface Changes {
  tables: Set<string>; // snapshot tables (readings apart) whose rows changed
  days: string[] | 'all'; // days of readings (UTC) to write again
  gone: string[]; // days the previous version had and the warehouse no longer has
  shrunk: boolean; // a changed day holds fewer readings than before
  unchangedDays: string[];
  byDay: Record<ByDayTable, DayChanges>; // the daily rollup's days (local days), probe_status's (UTC)
}

/**
 * The days of a table kept by day that changed since the previous version (all, without one), those that did not,
 * and those the previous version had and the warehouse no longer has.
 */
interface DayChanges {
  changed: string[] | 'all';
  unchanged: string[];
  gone: string[];
}

/**
 * Writes `dir`/warehouse.duckdb and `dir`/parquet/ from one consistent moment of the warehouse, on a connection of
 * its own, reusing what `previous` holds unchanged.
 */
export async function writeExport(
  c: DuckDBConnection,
  dir: string,
  codec: ParquetCompression,
  previous?: PreviousExport,
): Promise<ExportOutcome> {
  if (!PARQUET_COMPRESSIONS.includes(codec))
    throw new Error(`Parquet compression ${JSON.stringify(codec)}: expected one of ${PARQUET_COMPRESSIONS.join(', ')}`);
  const base = previous !== undefined && reusable(previous, codec) ? previous : undefined;
  const files = { written: [] as string[], reused: [] as string[] };
  const phases = new Phases();
  try {
    const snapshot = await writeSnapshot(c, dir, base, phases);
    files.written.push(SNAPSHOT_FILE);
    const days = {
      readings: Object.keys(snapshot.fingerprints.readings_days),
      rollup: Object.keys(snapshot.fingerprints.rollup_days),
      status: Object.keys(snapshot.fingerprints.status_days),
    };
    await writeParquet(c, dir, codec, base, { ...snapshot.changes, ...days }, files, phases);
    const [size] = (
      await c.runAndReadAll(
        `SELECT total_blocks, free_blocks FROM pragma_database_size() WHERE database_name = ${literal(SNAPSHOT).text}`,
      )
    ).getRowObjectsJS();
    await c.run(`DETACH ${ident(SNAPSHOT).text}`);
    const freeShare = size === undefined ? 0 : Number(size.free_blocks) / Math.max(1, Number(size.total_blocks));
    return {
      tables: snapshot.rows,
      fingerprints: {
        ...snapshot.fingerprints,
        parquet_compression: codec,
        snapshot_free_share: freeShare,
      },
      snapshot: snapshot.patched ? 'patched' : 'written',
      ...files,
      phases: phases.ms,
    };
  } finally {
    await c.run(`DETACH DATABASE IF EXISTS ${ident(SNAPSHOT).text}`).catch(() => undefined);
  }
}

/** A previous version is built on only if this build wrote it the same way. */
function reusable(previous: PreviousExport, codec: ParquetCompression): boolean {
  const f = previous.fingerprints;
  return f.format === EXPORT_FORMAT && f.storage_version === STORAGE_VERSION && f.parquet_compression === codec;
}

/** What a publish writes into the snapshot, as returned to writeExport. */
interface SnapshotOutcome {
  rows: Record<string, number>;
  fingerprints: Omit<ExportFingerprints, 'parquet_compression' | 'snapshot_free_share'>;
  changes: Changes;
  patched: boolean;
}

/**
 * The snapshot: the previous one copied and patched where it can, else written whole. Then the views that need an
 * extension as tables (MATERIALIZED_IN_SNAPSHOT), and the other views.
 */
async function writeSnapshot(
  c: DuckDBConnection,
  dir: string,
  base: PreviousExport | undefined,
  phases: Phases,
): Promise<SnapshotOutcome> {
  const file = join(dir, SNAPSHOT_FILE);
  // the previous snapshot, if it is the file that version wrote (no one opened it to write since) and not mostly
  // free space
  const copyable =
    base !== undefined && base.intact.has(SNAPSHOT_FILE) && base.fingerprints.snapshot_free_share <= MAX_FREE_SHARE;
  let outcome = await snapshotTransaction(c, file, base, copyable, phases);
  if (outcome === 'unreadable copy') {
    // a copy DuckDB cannot open (the previous version's file damaged since): written whole instead
    rmSync(file, { force: true });
    outcome = await snapshotTransaction(c, file, base, false, phases);
  }
  if (outcome === 'unreadable copy') throw new Error(`${file}: written whole and still unreadable`);
  await inSnapshot(c, () => createViews(c, MATERIALIZED_IN_SNAPSHOT));
  phases.lap('snapshot: views');
  await c.run(`CHECKPOINT ${ident(SNAPSHOT).text}`);
  phases.lap('snapshot: checkpoint');
  return outcome;
}

/**
 * One transaction, one consistent moment of the warehouse: the fingerprints read, then the snapshot attached and
 * what changed written into it. When `copy`, the snapshot starts as the previous one, copied in the background while
 * the fingerprints are read (a clone where the file system can, XFS or Btrfs; elsewhere the kernel copies:
 * copy_file_range); a copy DuckDB cannot open is said, the transaction rolled back.
 */
async function snapshotTransaction(
  c: DuckDBConnection,
  file: string,
  base: PreviousExport | undefined,
  copy: boolean,
  phases: Phases,
): Promise<SnapshotOutcome | 'unreadable copy'> {
  const copying = copy
    ? copyFile(join(base!.dir, SNAPSHOT_FILE), file, constants.COPYFILE_FICLONE).then(
        () => undefined,
        (err: unknown) => ({ err }),
      )
    : Promise.resolve(undefined);
  try {
    await c.run('BEGIN TRANSACTION');
    const prints = await readFingerprints(c, base, phases);
    const copied = await copying;
    if (copied !== undefined) throw copied.err;
    phases.lap('snapshot: copy of the previous one');
    try {
      await c.run(sqlFile('export/attach', { path: literal(file), snapshot: ident(SNAPSHOT) }));
    } catch (err) {
      if (!copy) throw err;
      await c.run('ROLLBACK');
      return 'unreadable copy';
    }
    await writeChanges(c, prints, base, copy, phases);
    await c.run('COMMIT');
    phases.lap('snapshot: commit');
    const { rows, fingerprints, changes } = prints;
    return { rows, fingerprints, changes, patched: copy };
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await copying; // never left writing into the version after this returns
  }
}

/** What the warehouse holds now, against the previous version's fingerprints. */
interface Fingerprints {
  rows: Record<string, number>;
  fingerprints: Omit<ExportFingerprints, 'parquet_compression' | 'snapshot_free_share'>;
  changes: Changes;
  /** each snapshot table's columns as exported */
  columns: Record<string, QuotedSql>;
}

/** Reads every fingerprint (in the caller's transaction) and decides from them what changed. */
async function readFingerprints(
  c: DuckDBConnection,
  base: PreviousExport | undefined,
  phases: Phases,
): Promise<Fingerprints> {
  const rows: Record<string, number> = {};
  const tables: Record<string, string> = {};
  const columns: Record<string, QuotedSql> = {};
  const changed = new Set<string>();
  const byDay = {} as Record<ByDayTable, DayChanges & { days: Record<string, string> }>;
  const columnsOf = await exportColumns(c);
  for (const view of MATERIALIZED_IN_SNAPSHOT) columns[view] = columnsOf(view);
  for (const table of SNAPSHOT_TABLES) {
    columns[table] = columnsOf(table);
    if (table === 'readings') continue;
    if (isByDay(table)) {
      byDay[table] = await fingerprintByDay(c, table, columns[table], base, { rows, tables });
    } else {
      const [print] = (
        await c.runAndReadAll(sqlFile('export/fingerprint', { table: ident(table), columns: columns[table] }))
      ).getRowObjectsJS();
      rows[table] = Number(print!.row_count);
      tables[table] = `${print!.row_count}:${print!.row_hash}:${digest(columns[table].text)}`;
    }
    if (tables[table] !== base?.fingerprints.tables[table]) changed.add(table);
  }
  // of probes, readings_daily reads only the name: a pull that changes a probe's other columns (its last uplink,
  // its status) leaves readings_daily's days as they were (NOT_READ_BY_READINGS_DAILY)
  const [names] = (
    await c.runAndReadAll(
      sqlFile('export/fingerprint', { table: ident('probes'), columns: new QuotedSql('serial, name') }),
    )
  ).getRowObjectsJS();
  tables[PROBE_NAMES] = `${names!.row_count}:${names!.row_hash}`;
  if (tables[PROBE_NAMES] !== base?.fingerprints.tables[PROBE_NAMES]) changed.add(PROBE_NAMES);
  phases.lap('fingerprints of tables');

  const days: Record<string, string> = {};
  rows.readings = 0;
  for (const d of (await c.runAndReadAll(sqlFile('export/reading-days'))).getRowObjectsJS()) {
    days[String(d.day)] = `${d.row_count}:${d.last_received}`;
    rows.readings += Number(d.row_count);
  }
  phases.lap('fingerprints of reading days');
  const readingsColumns = digest(columns.readings!.text);
  return {
    rows,
    columns,
    changes: { ...dayChanges(days, readingsColumns, base, changed), byDay },
    fingerprints: {
      format: EXPORT_FORMAT,
      storage_version: STORAGE_VERSION,
      tables,
      readings_columns: readingsColumns,
      readings_days: days,
      rollup_days: byDay.daily_rollup.days,
      status_days: byDay.probe_status.days,
    },
  };
}

/**
 * Into the attached snapshot: into a copy of the previous one (`patched`), the tables and days that changed; into
 * a new one, everything. Then the views that need an extension, as tables.
 */
async function writeChanges(
  c: DuckDBConnection,
  prints: Fingerprints,
  base: PreviousExport | undefined,
  patched: boolean,
  phases: Phases,
): Promise<void> {
  const snapshot = ident(SNAPSHOT);
  const { changes, columns } = prints;
  for (const table of SNAPSHOT_TABLES) {
    if (table === 'readings' || (patched && !changes.tables.has(table))) continue; // the copy holds it already
    const target = { snapshot, table: ident(table), columns: columns[table]! };
    const days = isByDay(table) ? { ...changes.byDay[table], ...BY_DAY[table] } : undefined;
    if (patched && days !== undefined && days.changed !== 'all') {
      const replaced = [...days.changed, ...days.gone];
      if (replaced.length > 0)
        await c.run(sqlFile('export/snapshot-by-day-delete', { ...target, days: days.select(replaced) }));
      if (days.changed.length > 0)
        await c.run(sqlFile('export/snapshot-by-day-insert', { ...target, days: days.select(days.changed) }));
    } else {
      await c.run(sqlFile('export/snapshot-table', target));
    }
    phases.lap(`snapshot: ${table}`);
  }
  for (const view of MATERIALIZED_IN_SNAPSHOT) {
    // small, and computed from probe_history: written every time
    await c.run(sqlFile('export/snapshot-table', { snapshot, table: ident(view), columns: columns[view]! }));
    const counted = await c.runAndReadAll(`SELECT count(*) AS n FROM ${snapshot.text}.${ident(view).text}`);
    prints.rows[view] = Number(counted.getRowObjectsJS()[0]!.n);
    phases.lap(`snapshot: ${view}`);
  }
  const readings = { snapshot, table: ident('readings'), columns: columns.readings! };
  if (!patched || changes.days === 'all') await c.run(sqlFile('export/snapshot-table', readings));
  else
    await patchReadings(
      c,
      readings.columns,
      changes.days,
      changes.gone,
      base!.fingerprints.readings_days,
      prints.fingerprints.readings_days,
    );
  phases.lap('snapshot: readings');
}

/**
 * The readings of the changed days into a copied snapshot. Readings are only ever added, each with the time it was
 * received: a day that only grew gets appended the readings received after the last one the previous version held
 * of it, if they are exactly as many as the day grew by; every other changed day, and every grown day when that
 * count does not add up (a reading received earlier than that but stored after it), is deleted and copied whole.
 */
async function patchReadings(
  c: DuckDBConnection,
  columns: QuotedSql,
  changed: readonly string[],
  gone: readonly string[],
  before: Record<string, string>,
  now: Record<string, string>,
): Promise<void> {
  const snapshot = ident(SNAPSHOT);
  const grown = changed.filter((day) => grewOnly(before[day], now[day]!));
  let whole = changed.filter((day) => !grown.includes(day));
  if (grown.length > 0) {
    const last = (day: string): string => `CAST(${literal(receivedOf(before[day]!)).text} AS TIMESTAMPTZ)`;
    const since = grown.map((day) => `(${daysCondition([day]).text} AND received_at > ${last(day)})`);
    // the days' span and the earliest of their last received_at first, which DuckDB skips row groups by
    const days = new QuotedSql(
      `${daysCondition(grown).text} AND received_at > least(${grown.map(last).join(', ')}) AND (${since.join(' OR ')})`,
    );
    const appended = (await c.run(sqlFile('export/snapshot-days-insert', { snapshot, columns, days }))).rowsChanged;
    const grewBy = grown.reduce((n, day) => n + rowsOf(now[day]!) - rowsOf(before[day]!), 0);
    if (appended !== grewBy) whole = [...changed]; // what was appended goes with the rest of those days
  }
  const replaced = [...whole, ...gone];
  if (replaced.length > 0)
    await c.run(sqlFile('export/snapshot-days-delete', { snapshot, days: daysCondition(replaced) }));
  if (whole.length > 0)
    await c.run(sqlFile('export/snapshot-days-insert', { snapshot, columns, days: daysCondition(whole) }));
}

/** How DuckDB writes a TIMESTAMPTZ as text: what a day's fingerprint holds after its count. */
const RECEIVED_AT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/;

/** A day of readings whose fingerprint says it gained readings since `before` (and that says when it last had). */
function grewOnly(before: string | undefined, now: string): before is string {
  return before !== undefined && rowsOf(now) > rowsOf(before) && RECEIVED_AT.test(receivedOf(before));
}

/** The last received_at of a day's fingerprint, '<rows>:<last received_at>'. */
function receivedOf(fingerprint: string): string {
  return fingerprint.slice(fingerprint.indexOf(':') + 1);
}

/** Runs `work` with the snapshot as the connection's current database, so that its unqualified tables are the snapshot's. */
async function inSnapshot<T>(c: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  const home = String((await c.runAndReadAll('SELECT current_database() AS db')).getRowObjectsJS()[0]!.db);
  await c.run(`USE ${ident(SNAPSHOT).text}`);
  try {
    return await work();
  } finally {
    await c.run(`USE ${ident(home).text}`);
  }
}

/** A table's day as SQL over its (exported) columns, as a DATE, and how to select a list of days by it. */
interface DayOf {
  day: QuotedSql;
  select: (days: readonly string[]) => QuotedSql;
}
/** By a DATE column (the probe's local day): a list of DATE literals. */
const LOCAL_DAY: DayOf = {
  day: new QuotedSql('day'),
  select: (days) => new QuotedSql(`day IN ${dateList(days).text}`),
};
/** By the UTC day of an instant: time ranges, which the zone maps of the column let DuckDB skip by. */
const utcDayOf = (column: string): DayOf => ({
  day: new QuotedSql(epochDay(column)),
  select: (days) => daysCondition(days, column),
});
const STATUS_DAY = utcDayOf('last_update');

/** Tables written to Parquet as a file a day (DAY_FILE_TABLES), by their day. */
const DAY_FILES: Record<DayFileTable, DayOf> = {
  readings: utcDayOf('ts'),
  readings_daily: LOCAL_DAY,
  probe_status: STATUS_DAY,
};

/**
 * Snapshot tables kept by day, as readings are: they grow by a day's rows and change in their latest days. Each
 * names its day and where its fingerprints are recorded.
 */
const BY_DAY = {
  daily_rollup: { ...LOCAL_DAY, recorded: 'rollup_days' },
  probe_status: { ...STATUS_DAY, recorded: 'status_days' },
} as const satisfies Record<DayTrackedTable, DayOf & { recorded: keyof ExportFingerprints }>;
type ByDayTable = keyof typeof BY_DAY;

function isByDay(table: string): table is ByDayTable {
  return table in BY_DAY;
}

/**
 * A table kept by day (BY_DAY): the fingerprint of each day, which days changed since the previous version (all,
 * without one) and which did not, and which are gone; records the table's own fingerprint in `tables`.
 */
async function fingerprintByDay(
  c: DuckDBConnection,
  table: ByDayTable,
  columns: QuotedSql,
  base: PreviousExport | undefined,
  out: { rows: Record<string, number>; tables: Record<string, string> },
): Promise<DayChanges & { days: Record<string, string> }> {
  const { day, recorded } = BY_DAY[table];
  const days: Record<string, string> = {};
  let total = 0;
  for (const d of (
    await c.runAndReadAll(sqlFile('export/fingerprint-days', { table: ident(table), day }), { table_name: table })
  ).getRowObjectsJS()) {
    days[String(d.day)] = `${d.row_count}:${d.stamp ?? ''}`;
    total += Number(d.row_count);
  }
  out.rows[table] = total;
  const columnsDigest = digest(columns.text);
  out.tables[table] =
    `${total}:${digest(JSON.stringify(Object.entries(days).sort(([a], [b]) => (a < b ? -1 : 1))))}:${columnsDigest}`;
  const before = base?.fingerprints;
  const was = before?.[recorded] ?? {};
  const sameColumns = before?.tables[table]?.endsWith(`:${columnsDigest}`) === true;
  const changed: string[] | 'all' =
    before === undefined || !sameColumns ? 'all' : Object.keys(days).filter((d) => days[d] !== was[d]);
  return {
    days,
    changed,
    unchanged: changed === 'all' ? [] : Object.keys(days).filter((d) => days[d] === was[d]),
    gone: before === undefined ? [] : Object.keys(was).filter((d) => !(d in days)),
  };
}

/**
 * The days to write again: those whose fingerprint differs from the previous version's (all of them with no
 * previous version, or when the columns of readings changed).
 */
function dayChanges(
  days: Record<string, string>,
  readingsColumns: string,
  base: PreviousExport | undefined,
  tables: Set<string>,
): Omit<Changes, 'byDay'> {
  const before = base?.fingerprints;
  if (before === undefined || before.readings_columns !== readingsColumns)
    return { tables, days: 'all', gone: [], shrunk: false, unchangedDays: [] };
  const keys = Object.keys(days);
  return {
    tables,
    days: keys.filter((k) => days[k] !== before.readings_days[k]),
    gone: Object.keys(before.readings_days).filter((k) => !(k in days)),
    shrunk: keys.some((k) => k in before.readings_days && rowsOf(days[k]!) < rowsOf(before.readings_days[k]!)),
    unchangedDays: keys.filter((k) => days[k] === before.readings_days[k]),
  };
}

/** Days written by one COPY: under DuckDB's partitioned_write_max_open_files (100), so that a day is one file. */
const DAYS_PER_WRITE = 64;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Each table's and view's columns as BI tools read them: JSON as text, infinite timestamps as far-away dates, the
 * rest as it is. One read of the catalog for them all.
 */
async function exportColumns(c: DuckDBConnection): Promise<(table: string) => QuotedSql> {
  const columns = new Map<string, string[]>();
  const rows = (await c.runAndReadAll(sqlFile('export/columns'))).getRowObjectsJS();
  for (const { table_name, column_name, data_type } of rows) {
    const table = String(table_name);
    if (!columns.has(table)) columns.set(table, []);
    columns.get(table)!.push(exportedColumn(ident(String(column_name)).text, String(data_type)));
  }
  return (table) => new QuotedSql((columns.get(table) ?? []).join(', '));
}

/** One column, quoted, as the export writes it. */
function exportedColumn(col: string, dataType: string): string {
  if (dataType === 'JSON') return `CAST(${col} AS VARCHAR) AS ${col}`;
  if (dataType === 'TIMESTAMP WITH TIME ZONE')
    return `CASE WHEN ${col} = '-infinity' THEN ${OPEN_START} WHEN ${col} = 'infinity' THEN ${OPEN_END} ELSE ${col} END AS ${col}`;
  return col;
}

/**
 * Parquet of the snapshot: the days of readings, readings_daily and probe_status that changed (all, on a first publish), then
 * hard links to the previous version's files for the unchanged days and tables; every other table and view
 * written. The codec is one of PARQUET_COMPRESSIONS (checked by writeExport), spliced as a literal.
 */
async function writeParquet(
  c: DuckDBConnection,
  dir: string,
  codec: ParquetCompression,
  base: PreviousExport | undefined,
  changes: Changes & { readings: string[]; rollup: string[]; status: string[] }, // and every day of each
  files: { written: string[]; reused: string[] },
  phases: Phases,
): Promise<void> {
  const compression = literal(codec);
  const snapshot = ident(SNAPSHOT);
  await writeByDay(
    c,
    dir,
    'readings',
    { all: changes.readings, changed: changes.days, unchanged: changes.unchangedDays },
    base,
    files,
    compression,
  );
  phases.lap('parquet: readings');
  // a day of readings_daily is a day of the rollup with what the probe, its history and the soil thresholds say of
  // it: when none of those changed, the days whose rollup rows did not change are the previous version's
  const rollupDays = rollupOnly(changes);
  await writeByDay(
    c,
    dir,
    'readings_daily',
    {
      all: changes.rollup,
      changed: rollupDays ?? 'all',
      unchanged: rollupDays === undefined ? [] : changes.byDay.daily_rollup.unchanged,
    },
    base,
    files,
    compression,
  );
  phases.lap('parquet: readings_daily');
  const status = { all: changes.status, ...changes.byDay.probe_status };
  await writeByDay(c, dir, 'probe_status', status, base, files, compression);
  phases.lap('parquet: probe_status');
  for (const table of PARQUET_TABLES) {
    const name = join('parquet', `${table}.parquet`);
    const unchanged =
      base !== undefined && (SNAPSHOT_TABLES as readonly string[]).includes(table) && !changes.tables.has(table);
    if (unchanged && base.intact.has(name)) {
      files.reused.push(...linkFiles(base.dir, dir, [name]));
      phases.lap('parquet: links to the previous version');
      continue;
    }
    if (table === 'probe_latest' && base !== undefined && base.intact.has(name) && onlyAdded(changes)) {
      await c.run(
        sqlFile('export/parquet-probe-latest', {
          previous: literal(join(base.dir, name)),
          snapshot,
          days: daysCondition(changes.days),
          path: literal(join(dir, name)),
          compression,
        }),
      );
    } else if (table === 'probe_health') {
      // each probe's last reading is the latest of its series, in the probe_latest file written just before: not
      // every reading read again
      const latest = new QuotedSql(`read_parquet(${literal(join(dir, 'parquet', 'probe_latest.parquet')).text})`);
      const query = new QuotedSql(viewQuery('probe_health', { latest_readings: latest }));
      await inSnapshot(c, () =>
        c.run(sqlFile('export/parquet-query', { query, path: literal(join(dir, name)), compression })),
      );
    } else {
      await c.run(
        sqlFile('export/parquet', { snapshot, table: ident(table), path: literal(join(dir, name)), compression }),
      );
    }
    files.written.push(name);
    phases.lap(`parquet: ${table}`);
  }
}

/**
 * A table written as a file a day: the changed days written (all of them with no previous version to build on),
 * the unchanged ones hard links to the previous version's files. An unchanged day whose files the previous version
 * no longer has as it wrote them is written again (from the snapshot); a day is its file and, when it was written as
 * several, its further parts: all of them, as recorded. Days gone since are neither.
 */
async function writeByDay(
  c: DuckDBConnection,
  dir: string,
  table: DayFileTable,
  days: { all: string[]; changed: string[] | 'all'; unchanged: string[] },
  base: PreviousExport | undefined,
  files: { written: string[]; reused: string[] },
  compression: QuotedSql,
): Promise<void> {
  mkdirSync(join(dir, 'parquet', table), { recursive: true });
  const parts = base === undefined ? new Map<string, string[]>() : dayParts(table, base.recorded);
  const partsOf = (key: string): string[] => parts.get(key) ?? [];
  const linkable =
    base === undefined || days.changed === 'all'
      ? []
      : days.unchanged.filter(
          (key) => partsOf(key).includes(dayFile(table, key)) && partsOf(key).every((f) => base.intact.has(f)),
        );
  const linked = new Set(linkable);
  const toWrite =
    days.changed === 'all' ? days.all : [...days.changed, ...days.unchanged.filter((k) => !linked.has(k))];
  // a few weeks at a time: DuckDB keeps up to 100 partitions' files open while it writes, and starts another file
  // (a part) for a day whose file it had to close, which a day's rows spread over the input make likely
  const sorted = [...toWrite].sort();
  for (let i = 0; i < sorted.length; i += DAYS_PER_WRITE) {
    const group = sorted.slice(i, i + DAYS_PER_WRITE);
    files.written.push(...(await writeDays(c, dir, table, group, compression)));
  }
  for (const key of linkable) files.reused.push(...linkFiles(base!.dir, dir, partsOf(key)));
}

/** Since the previous version, readings were only added (to the changed days), none removed. */
function onlyAdded(changes: Changes): changes is Changes & { days: string[] } {
  return changes.days !== 'all' && changes.gone.length === 0 && !changes.shrunk;
}

/**
 * Tables readings_daily does not read: when every other snapshot table but the daily rollup is as it was, its rows
 * outside the rollup days that changed are as they were.
 */
const NOT_READ_BY_READINGS_DAILY: readonly string[] = [
  'daily_rollup', // read, by day: the changed days are computed again
  'probes', // but its names (PROBE_NAMES)
  'readings',
  'sync_runs',
  'probe_status',
  'locations',
  'customers',
  'customer_probes',
  'parameters',
  'reading_conflicts',
  'rejected_pushes',
  'uplink_extras',
];

/** A fingerprint beside the tables': the probes' names, the one column of probes readings_daily reads. */
const PROBE_NAMES = 'probe_names';

/** The rollup days that changed, when nothing else readings_daily reads did; undefined otherwise. */
function rollupOnly(changes: Changes): string[] | undefined {
  const { changed } = changes.byDay.daily_rollup;
  if (changed === 'all') return undefined;
  return [...changes.tables].every((t) => NOT_READ_BY_READINGS_DAILY.includes(t)) ? changed : undefined;
}

/** The count of a day's fingerprint, '<rows>:<last received_at>'. */
function rowsOf(fingerprint: string): number {
  return Number(fingerprint.split(':')[0]);
}

/** The files of each day of `table` among a version's files: 'YYYY-MM-DD' -> the day's file and its parts. */
function dayParts(table: DayFileTable, files: ReadonlySet<string>): Map<string, string[]> {
  const pattern = new RegExp(`^parquet/${table}/year=\\d+/month=\\d+/(\\d{4}-\\d\\d-\\d\\d)(-\\d+)?\\.parquet$`);
  const byDay = new Map<string, string[]>();
  for (const file of files) {
    const day = pattern.exec(file)?.[1];
    if (day === undefined) continue;
    const files = byDay.get(day);
    if (files === undefined) byDay.set(day, [file]);
    else files.push(file);
  }
  return byDay;
}

/** A day's file of `table` in a version, for a 'YYYY-MM-DD' key: in its month's folder, named by the day. */
function dayFile(table: DayFileTable, key: string): string {
  const [year, month] = key.split('-').map(Number);
  return join('parquet', table, `year=${year}`, `month=${month}`, `${key}.parquet`);
}

/**
 * The rows of `table` on `days`, one file per day in its year's and month's folder, where the
 * days left alone are linked in after: written partitioned by day into a folder of their own (DuckDB names the
 * files; sql/export/parquet-days.sql), then each moved to its name. The files carry year and month as columns,
 * not the day number they were partitioned by.
 */
async function writeDays(
  c: DuckDBConnection,
  dir: string,
  table: DayFileTable,
  days: readonly string[],
  compression: QuotedSql,
): Promise<string[]> {
  const staging = join(dir, 'parquet', `.days-${table}`);
  const { day, select } = DAY_FILES[table];
  await c.run(
    sqlFile('export/parquet-days', {
      snapshot: ident(SNAPSHOT),
      table: ident(table),
      day,
      days: select(days),
      path: literal(staging),
      compression,
    }),
  );
  const written: string[] = [];
  for (const folder of existsSync(staging) ? readdirSync(staging).sort() : []) {
    const dayNumber = /^day_number=(-?\d+)$/.exec(folder)?.[1];
    if (dayNumber === undefined) throw new Error(`unexpected partition folder ${folder} in ${staging}`);
    const key = new Date(Number(dayNumber) * DAY_MS).toISOString().slice(0, 10);
    const parts = readdirSync(join(staging, folder)).sort();
    for (const [i, part] of parts.entries()) {
      const name = i === 0 ? dayFile(table, key) : dayFile(table, key).replace(/\.parquet$/, `-${i}.parquet`);
      mkdirSync(join(dir, name, '..'), { recursive: true });
      renameSync(join(staging, folder, part), join(dir, name));
      written.push(name);
    }
  }
  rmSync(staging, { recursive: true, force: true });
  return written;
}

/**
 * Files of the previous version hard-linked into the new one: the same bytes, nothing written. Where the file
 * system refuses a link, a copy (a clone where it can).
 */
function linkFiles(from: string, to: string, paths: readonly string[]): string[] {
  for (const path of paths) {
    mkdirSync(join(to, path, '..'), { recursive: true });
    try {
      linkSync(join(from, path), join(to, path));
    } catch {
      copyFileSync(join(from, path), join(to, path), constants.COPYFILE_FICLONE);
    }
  }
  return [...paths];
}

/**
 * Applying a staged snapshot: a pull stages its pages (stage_* tables, keyed by run), then one short transaction
 * applies them with set-based SQL from sql/sync/. Every apply is idempotent: applying the same snapshot twice
 * changes nothing the second time.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { markChangedDays } from './day-changes.js';
import { epochDay } from './days.js';
import { ts } from './duckdb.js';
import { landStagedReadings, type ReadingsOutcome } from './readings-store.js';
import { ident, QuotedSql, sqlFile } from './sql-files.js';

export interface ApplyOptions {
  runId: string;
  at: Date; // when the changes count from: the sync's start, or the exact time a command made the change
}

export interface ProbeSnapshotOptions extends ApplyOptions {
  complete: boolean; // the snapshot lists every probe, so a missing probe has left the account
  maxDeleteShare: number;
  changedBy: string;
  /** Rows of desired_probes one statement applies at a time (APPLY_PIECE_ROWS unless given). */
  pieceRows?: number;
}

export interface ChangeCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface ProbeSnapshotOutcome extends ChangeCounts {
  newVersions: number;
  restored: number;
  deletionsRefused: string | undefined;
  readings: ReadingsOutcome;
}

interface ProbesDiff {
  new_probes: number;
  new_versions: number;
  restored: number;
  updated: number;
  active_before: number;
  missing: number;
}

/** Each apply runs in the caller's write transaction. */
export async function applyProbeSnapshot(
  c: DuckDBConnection,
  opts: ProbeSnapshotOptions,
): Promise<ProbeSnapshotOutcome> {
  await c.run(sqlFile('sync/probes-desired-from-stage'), { run_id: opts.runId, at: ts(opts.at) });
  const diff = await probesDiff(c, opts.complete, opts.runId);
  const deletionsRefused = refusedDeletion(diff, opts.maxDeleteShare);
  await applyDesiredProbes(c, opts);
  const deleted =
    diff.missing > 0 && deletionsRefused === undefined
      ? (await c.run(sqlFile('sync/probes-mark-deleted'), { at: ts(opts.at), run_id: opts.runId })).rowsChanged
      : 0;
  const day = { day: new QuotedSql(epochDay('last_update')) };
  const filled = await c.runAndReadAll(sqlFile('sync/probe-status-update', day));
  const added = await c.runAndReadAll(sqlFile('sync/probe-status-insert', day), { run_id: opts.runId });
  const days = [...filled.getRowObjectsJS(), ...added.getRowObjectsJS()].map((d) => String(d.day));
  await markChangedDays(c, 'probe_status', [...new Set(days)]);
  const readings = await landStagedReadings(c, opts.runId);
  return {
    inserted: diff.new_probes,
    updated: diff.updated,
    deleted,
    newVersions: diff.new_versions,
    restored: diff.restored,
    deletionsRefused,
    readings,
  };
}

/** A snapshot that would remove more than the allowed share of probes at once is more likely wrong than true. */
function refusedDeletion(
  diff: { missing: number; active_before: number },
  maxShare: number,
  what = 'probes',
): string | undefined {
  if (diff.missing === 0 || diff.missing <= maxShare * diff.active_before) return undefined;
  return `${diff.missing} of ${diff.active_before} ${what} are missing from the snapshot, more than SYNC_MAX_DELETE_SHARE=${maxShare}: none marked deleted`;
}

async function probesDiff(c: DuckDBConnection, complete: boolean, runId: string): Promise<ProbesDiff> {
  const row = (await c.runAndReadAll(sqlFile('sync/probes-diff'), { complete, run_id: runId })).getRowObjectsJS()[0]!;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as unknown as ProbesDiff;
}

/** History first (it compares with the current hash), then the current state. */
async function applyDesiredProbes(
  c: DuckDBConnection,
  opts: ApplyOptions & { changedBy: string; pieceRows?: number },
): Promise<void> {
  await c.run(sqlFile('rollup/mark-probes'));
  await c.run(sqlFile('sync/probe-history-replace'), { at: ts(opts.at) });
  await c.run(sqlFile('sync/probe-history-close'), { at: ts(opts.at) });
  await c.run(sqlFile('sync/probe-history-open'), { at: ts(opts.at), changed_by: opts.changedBy, run_id: opts.runId });
  await c.run(sqlFile('sync/probe-version-counter'));
  await c.run(sqlFile('sync/probe-history-time-zone'));
  const pieceRows = opts.pieceRows ?? APPLY_PIECE_ROWS;
  await inPieces(c, pieceRows, (rows) => c.run(sqlFile('sync/probes-update'), { at: ts(opts.at), ...rows }));
  await inPieces(c, pieceRows, (rows) => c.run(sqlFile('sync/probes-insert'), { at: ts(opts.at), ...rows }));
}

/**
 * Rows of desired_probes one statement applies at a time, in the caller's one transaction: probes-insert.sql joins
 * and sorts each new probe with its JSON, and in one piece it did so for the whole snapshot at once (a first pull of
 * 100,000 probes with DUCKDB_MEMORY_LIMIT=128MB failed there: "Out of Memory Error: failed to pin block"; in pieces
 * it completes, its peak 453 MB; BENCHMARKS.md, pull-scale).
 */
export const APPLY_PIECE_ROWS = 10_000;

/**
 * Runs `fn` once per piece of desired_probes, by rowid: [from_row, to_row). Its rowids are not 0 to n - 1: a table
 * made in the running transaction numbers its rows from DuckDB's base for transaction-local rows.
 */
async function inPieces(
  c: DuckDBConnection,
  pieceRows: number,
  fn: (rows: { from_row: bigint; to_row: bigint }) => Promise<unknown>,
): Promise<void> {
  if (!Number.isInteger(pieceRows) || pieceRows < 1)
    throw new RangeError(`pieceRows must be a whole number of at least 1, not ${pieceRows}`);
  const sql = 'SELECT min(rowid) AS first, max(rowid) AS last FROM desired_probes';
  const { first, last } = (await c.runAndReadAll(sql)).getRowObjectsJS()[0]!;
  if (first === null || last === null) return;
  const step = BigInt(pieceRows);
  for (let from = BigInt(first as bigint); from <= BigInt(last as bigint); from += step)
    await fn({ from_row: from, to_row: from + step });
}

export interface GuardedOptions extends ApplyOptions {
  maxDeleteShare: number;
}

export interface GuardedCounts extends ChangeCounts {
  deletionsRefused: string | undefined;
}

/** The account's locations; those missing from the list marked deleted, unless too many would be at once. */
export async function applyLocations(c: DuckDBConnection, opts: GuardedOptions): Promise<GuardedCounts> {
  const params = { run_id: opts.runId, at: ts(opts.at) };
  const deletionsRefused = await refusedListDeletion(c, 'locations', opts);
  const merged = await mergeActions(c, 'sync/locations-merge', params);
  const deleted =
    deletionsRefused === undefined ? (await c.run(sqlFile('sync/locations-mark-deleted'), params)).rowsChanged : 0;
  return { ...merged, deleted, deletionsRefused };
}

/** Locations and customers get the probes' guard: an empty or truncated list deletes nothing. */
async function refusedListDeletion(
  c: DuckDBConnection,
  table: 'locations' | 'customers',
  opts: GuardedOptions,
): Promise<string | undefined> {
  const sql = sqlFile('sync/missing-count', { table: ident(table), stage: ident(`stage_${table}`) });
  const row = (await c.runAndReadAll(sql, { run_id: opts.runId })).getRowObjectsJS()[0]!;
  return refusedDeletion(
    { missing: Number(row.missing), active_before: Number(row.active_before) },
    opts.maxDeleteShare,
    table,
  );
}

export interface CustomersOutcome extends GuardedCounts {
  mappingsAdded: number;
  mappingsRemoved: number;
  probesMoved: number;
}

/** A reseller's customers, which probe belongs to whom, and a new probe version for every probe that moved. */
export async function applyCustomers(c: DuckDBConnection, opts: GuardedOptions): Promise<CustomersOutcome> {
  const params = { run_id: opts.runId, at: ts(opts.at) };
  const deletionsRefused = await refusedListDeletion(c, 'customers', opts);
  const merged = await mergeActions(c, 'sync/customers-merge', params);
  // a list too short to delete customers from is too short to take probes away from them, too
  if (deletionsRefused !== undefined)
    return { ...merged, deleted: 0, deletionsRefused, mappingsAdded: 0, mappingsRemoved: 0, probesMoved: 0 };
  const deleted = (await c.run(sqlFile('sync/customers-mark-deleted'), params)).rowsChanged;
  const mapping = await mergeActions(c, 'sync/customer-probes-merge', params);
  await c.run(sqlFile('sync/probes-desired-from-mapping'), { at: ts(opts.at) });
  const probesMoved = Number(
    (await c.runAndReadAll('SELECT count(*) AS n FROM desired_probes')).getRowObjectsJS()[0]!.n,
  );
  await applyDesiredProbes(c, { ...opts, changedBy: 'sync-customers' });
  return {
    ...merged,
    deleted,
    deletionsRefused,
    mappingsAdded: mapping.inserted,
    mappingsRemoved: mapping.deleted,
    probesMoved,
  };
}

export interface ParametersOutcome extends ChangeCounts {
  soilTypes: ChangeCounts & { newVersions: number };
}

/** The parameter lists: SOIL rows into soil_types (with history), the others into parameters. */
export async function applyParameters(
  c: DuckDBConnection,
  opts: ApplyOptions & { language: string },
): Promise<ParametersOutcome> {
  const at = ts(opts.at);
  await c.run(sqlFile('sync/soil-types-desired'), { run_id: opts.runId, at });
  await c.run(sqlFile('sync/soil-type-history-close'), { at });
  const opened = (await c.run(sqlFile('sync/soil-type-history-open'), { at, run_id: opts.runId })).rowsChanged;
  const soil = await mergeActions(c, 'sync/soil-types-merge', { at, language: opts.language });
  const soilDeleted = (await c.run(sqlFile('sync/soil-types-mark-deleted'), { at, run_id: opts.runId })).rowsChanged;
  const other = await mergeActions(c, 'sync/parameters-merge', { run_id: opts.runId, at, language: opts.language });
  const otherDeleted = (await c.run(sqlFile('sync/parameters-mark-deleted'), { run_id: opts.runId, at })).rowsChanged;
  return {
    inserted: soil.inserted + other.inserted,
    updated: soil.updated + other.updated,
    deleted: soilDeleted + otherDeleted,
    soilTypes: { ...soil, deleted: soilDeleted, newVersions: opened - soil.inserted },
  };
}

/** Runs a MERGE ... RETURNING merge_action and counts what it did. */
async function mergeActions(
  c: DuckDBConnection,
  file: string,
  params: Record<string, Parameters<typeof ts>[0] | ReturnType<typeof ts> | string>,
): Promise<ChangeCounts> {
  const rows = (await c.runAndReadAll(sqlFile(file), params as never)).getRowObjectsJS();
  const count = (action: string): number => rows.filter((r) => r.merge_action === action).length;
  return { inserted: count('INSERT'), updated: count('UPDATE'), deleted: count('DELETE') };
}

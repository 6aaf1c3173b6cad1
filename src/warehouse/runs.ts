/**
 * sync_runs: a job's run recorded when it starts and when it ends, with its counts and error (the job runner's
 * side), and the readings a run must fetch again: the gaps of quiet probes (reconcile) and the chunks of a backfill.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ts } from './duckdb.js';
import { rowsOf } from './rows.js';
import { sqlFile } from './sql-files.js';

export interface RunStart {
  runId: string;
  job: string;
  trigger: string;
  startedAt: Date;
}

export interface RunEnd {
  runId: string;
  status: 'succeeded' | 'failed';
  finishedAt: Date;
  rowsRead: number;
  inserted: number;
  updated: number;
  deleted: number;
  conflicts: number;
  error: string | null;
  details: Record<string, unknown> | undefined;
}

export async function startRun(c: DuckDBConnection, run: RunStart): Promise<void> {
  await c.run(sqlFile('runs/start'), {
    run_id: run.runId,
    job: run.job,
    trigger: run.trigger,
    started_at: ts(run.startedAt),
  });
}

export async function finishRun(c: DuckDBConnection, run: RunEnd): Promise<void> {
  await c.run(sqlFile('runs/finish'), {
    run_id: run.runId,
    status: run.status,
    finished_at: ts(run.finishedAt),
    rows_read: run.rowsRead,
    rows_inserted: run.inserted,
    rows_updated: run.updated,
    rows_deleted: run.deleted,
    conflicts: run.conflicts,
    error: run.error,
    details: run.details === undefined ? null : JSON.stringify(run.details),
  });
}

/** A probe known by serial and API id. */
export interface ProbeRef {
  serial: string;
  probeId: number;
}

/** A quiet probe (no reading since `staleBefore`) and where its gap starts (not before `lookbackFrom`). */
export async function staleProbes(
  c: DuckDBConnection,
  window: { staleBefore: Date; lookbackFrom: Date },
): Promise<(ProbeRef & { gapFrom: Date })[]> {
  const params = { stale_before: ts(window.staleBefore), lookback_from: ts(window.lookbackFrom) };
  const rows = rowsOf(await c.runAndReadAll(sqlFile('reconcile/stale-probes'), params));
  return rows.map((r) => ({ serial: String(r.serial), probeId: Number(r.probe_id), gapFrom: r.gap_from as Date }));
}

/** The probes a backfill walks: the one with `serial` (deleted or not), or every probe still in the account. */
export async function backfillProbes(c: DuckDBConnection, serial: string | undefined): Promise<ProbeRef[]> {
  const rows = rowsOf(await c.runAndReadAll(sqlFile('backfill/probes'), { serial: serial ?? null }));
  return rows.map((r) => ({ serial: String(r.serial), probeId: Number(r.probe_id) }));
}

/** The chunks of a backfill already done: serial and start of each. */
export async function backfillChunksDone(
  c: DuckDBConnection,
  backfillId: string,
): Promise<{ serial: string; from: Date }[]> {
  const rows = rowsOf(await c.runAndReadAll(sqlFile('backfill/chunks-done'), { backfill_id: backfillId }));
  return rows.map((r) => ({ serial: String(r.serial), from: r.chunk_from as Date }));
}

export interface BackfillChunk {
  backfillId: string;
  serial: string;
  from: Date;
  to: Date;
  readings: number;
  inserted: number;
}

export async function recordBackfillChunk(c: DuckDBConnection, chunk: BackfillChunk): Promise<void> {
  await c.run(sqlFile('backfill/chunk-record'), {
    backfill_id: chunk.backfillId,
    serial: chunk.serial,
    chunk_from: ts(chunk.from),
    chunk_to: ts(chunk.to),
    readings: chunk.readings,
    inserted: chunk.inserted,
    done_at: ts(new Date()),
  });
}

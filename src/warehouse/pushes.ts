/**
 * Landing pushed data: a group-commit batch of pushes (its rows staged by column name, then applied set-based in
 * one transaction: verbatim pushes, rejections, battery/RSSI, unknown uplink fields, and the readings, idempotently),
 * a push parked alone because the writer cannot store it, and the retention of verbatim pushes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { markChangedDays } from './day-changes.js';
import { daysCondition, daysScan, stagedDays } from './days.js';
import { ts } from './duckdb.js';
import { landStagedReadings, type ReadingsOutcome } from './readings-store.js';
import { ident, sqlFile } from './sql-files.js';
import { stage, type StageRow } from './stage-tables.js';

/** A batch of pushes parsed into stage rows, and the run whose minute counts them. */
export interface PushBatch {
  runId: string;
  startedAt: Date;
  pushes: number;
  rows: {
    pushes: StageRow<'stage_pushes'>[];
    readings: StageRow<'stage_readings'>[];
    statuses: StageRow<'stage_status'>[];
    uplinkExtras: StageRow<'stage_uplink_extras'>[];
  };
}

export interface PushBatchOutcome extends ReadingsOutcome {
  rejected: number;
}

/** Call inside a write transaction. */
export async function landPushBatch(c: DuckDBConnection, batch: PushBatch): Promise<PushBatchOutcome> {
  const { rows } = batch;
  await stage(c, 'stage_pushes', rows.pushes);
  await stage(c, 'stage_readings', rows.readings);
  await stage(c, 'stage_status', rows.statuses);
  await stage(c, 'stage_uplink_extras', rows.uplinkExtras);
  const params = { run_id: batch.runId };
  await c.run(sqlFile('ingest/raw-pushes-insert'), params);
  const rejected = (await c.run(sqlFile('ingest/rejected-insert'), params)).rowsChanged;
  await c.run(sqlFile('ingest/status-batch'), params);
  const statusDays = await stagedDays(c, 'stage_status', 'last_update', batch.runId);
  const days = daysCondition(statusDays, 'p.last_update');
  await c.run(sqlFile('ingest/status-update', { days }));
  const stored = daysScan(ident('probe_status'), 'serial, last_update, battery, rssi', statusDays, 'last_update');
  await c.run(sqlFile('ingest/status-insert', { stored }), params);
  await markChangedDays(c, 'probe_status', statusDays);
  await c.run('DROP TABLE batch_status');
  await c.run(sqlFile('ingest/uplink-extras-insert'), params);
  const readings = await landStagedReadings(c, batch.runId);
  for (const table of ['stage_pushes', 'stage_status', 'stage_uplink_extras'])
    await c.run(sqlFile('sync/stage-clear', { stage: ident(table) }), params);
  await c.run(sqlFile('ingest/run-add'), {
    run_id: `ingest:${batch.startedAt.toISOString().slice(0, 16)}`,
    at: ts(batch.startedAt),
    read: readings.offered,
    inserted: readings.inserted,
    conflicts: readings.conflicts,
    duplicates: readings.duplicates,
    rejected,
    pushes: batch.pushes,
  });
  return { ...readings, rejected };
}

/** Keeps one push the writer could not store, verbatim with the reason, once. */
export async function parkPush(c: DuckDBConnection, receivedAt: Date, reason: string, body: string): Promise<void> {
  await c.run(sqlFile('ingest/park-push'), { received_at: ts(receivedAt), reason, body });
}

/** What retention removes: rows of each table received before its instant. */
export interface Retention {
  raw_pushes: Date;
  rejected_pushes: Date;
  reading_conflicts: Date;
}

const PRUNE_SQL: Record<keyof Retention, string> = {
  raw_pushes: 'ingest/raw-pushes-prune',
  rejected_pushes: 'ingest/rejected-prune',
  reading_conflicts: 'readings/conflicts-prune',
};

/** Drops the rows past their retention, table by table; returns how many of each. Call in a transaction. */
export async function pruneRetained(c: DuckDBConnection, before: Retention): Promise<Record<keyof Retention, number>> {
  const pruned = { raw_pushes: 0, rejected_pushes: 0, reading_conflicts: 0 };
  for (const table of Object.keys(pruned) as (keyof Retention)[])
    pruned[table] = (await c.run(sqlFile(PRUNE_SQL[table]), { before: ts(before[table]) })).rowsChanged;
  return pruned;
}

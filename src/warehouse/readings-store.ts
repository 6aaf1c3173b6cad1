/**
 * Lands readings idempotently on (serial, type, depth_cm, ts), NULL depth included: duplicates within the batch
 * are dropped (the first received stands), so are keys already stored, and a different value offered for a
 * stored key is kept in reading_conflicts, never silently lost. Call inside a write transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Reading } from '../readings/reading.js';
import { daysScan, stagedDays } from './days.js';
import { ident, sqlFile } from './sql-files.js';
import type { StageRow } from './stage-tables.js';

export interface ReadingsOutcome {
  offered: number;
  inserted: number;
  duplicates: number; // already stored, or repeated in the batch, with the same value
  conflicts: number; // new conflicts recorded
}

export function readingRow(runId: string, r: Reading): StageRow<'stage_readings'> {
  return {
    run_id: runId,
    serial: r.serial,
    probe_id: r.probeId,
    type: r.type,
    depth_cm: r.depthCm,
    ts: r.ts,
    value: r.value,
    unit: r.unit,
    source: r.source,
    received_at: r.receivedAt,
    extra: r.extra,
  };
}

/** Stages rows already made with readingRow (the writer builds them while parsing) and lands them. */
export async function landStagedReadings(connection: DuckDBConnection, runId: string): Promise<ReadingsOutcome> {
  const days = await stagedDays(connection, 'stage_readings', 'ts', runId);
  const stored = daysScan(ident('readings'), 'serial, type, depth_cm, ts, value', days);
  await connection.run(sqlFile('readings/batch-match', { stored }), { run_id: runId });
  const offered = Number(
    (await connection.runAndReadAll('SELECT count(*) AS n FROM batch_readings')).getRowObjects()[0]!.n,
  );
  const conflicts = (await connection.run(sqlFile('readings/conflicts-insert'))).rowsChanged;
  const inserted = (await connection.run(sqlFile('readings/insert-new'))).rowsChanged;
  if (inserted > 0) await connection.run(sqlFile('rollup/mark-batch'));
  await connection.run(sqlFile('sync/stage-clear', { stage: ident('stage_readings') }), { run_id: runId });
  await connection.run('DROP TABLE batch_readings');
  return { offered, inserted, conflicts, duplicates: offered - inserted - conflicts };
}

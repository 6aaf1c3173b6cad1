/**
 * ingest-pushes: the writer's side of HTTP Push. Each job is one group-commit batch from a receiver: the pushes
 * of a few milliseconds, verbatim with the time each arrived. In one transaction it keeps every push verbatim
 * (raw_pushes), keeps what cannot be used (rejected_pushes, with the reason), adds pushed battery/RSSI to the
 * status series and lands the readings idempotently (source 'push'). A batch retried after a crash changes
 * nothing. Counts go to one sync_runs row per minute. Queue: `ingest`, concurrency 1; not scheduled.
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job.js';
import { parsePush } from '../src/push/format.js';
import type { Cell } from '../src/warehouse/appender.js';
import { appendRows } from '../src/warehouse/appender.js';
import { ts } from '../src/warehouse/duckdb.js';
import { landStagedReadings, readingRow } from '../src/warehouse/readings-store.js';
import { ident, sqlFile } from '../src/warehouse/sql-files.js';

const payload = z.object({
  pushes: z.array(z.object({ r: z.number().int().positive(), b: z.string() })).min(1),
});

export default defineJob({
  name: 'ingest-pushes',
  payload,

  async run({ pushes }, ctx) {
    const rows = stageRows(ctx.runId, pushes);
    const outcome = await ctx.db.write(async (c) => {
      await appendRows(c, 'stage_pushes', rows.pushes);
      await appendRows(c, 'stage_readings', rows.readings);
      await appendRows(c, 'stage_status', rows.statuses);
      const params = { run_id: ctx.runId };
      await c.run(sqlFile('ingest/raw-pushes-insert'), params);
      const rejected = (await c.run(sqlFile('ingest/rejected-insert'), params)).rowsChanged;
      await c.run(sqlFile('ingest/status-insert'), params);
      const readings = await landStagedReadings(c, ctx.runId);
      for (const stage of ['stage_pushes', 'stage_status']) await c.run(sqlFile('sync/stage-clear', { stage: ident(stage) }), params);
      await c.run(sqlFile('ingest/run-add'), {
        run_id: `ingest:${ctx.startedAt.toISOString().slice(0, 16)}`,
        at: ts(ctx.startedAt),
        read: readings.offered,
        inserted: readings.inserted,
        conflicts: readings.conflicts,
        duplicates: readings.duplicates,
        rejected,
        pushes: pushes.length,
      });
      return { ...readings, rejected };
    });
    return {
      rowsRead: outcome.offered,
      inserted: outcome.inserted,
      updated: 0,
      deleted: 0,
      conflicts: outcome.conflicts,
      details: { pushes: pushes.length, duplicates: outcome.duplicates, rejected: outcome.rejected },
      summary: `${pushes.length} pushes, ${outcome.offered} readings: ${describeCounts({ new: outcome.inserted, duplicates: outcome.duplicates, conflicts: outcome.conflicts, rejected: outcome.rejected })}`,
    };
  },
});

/** Parses every push of the batch (the same parser the receiver answered with) into rows to stage. */
function stageRows(runId: string, pushes: { r: number; b: string }[]): { pushes: Cell[][]; readings: Cell[][]; statuses: Cell[][] } {
  const out = { pushes: [] as Cell[][], readings: [] as Cell[][], statuses: [] as Cell[][] };
  for (const push of pushes) {
    const receivedAt = new Date(push.r);
    const parsed = parsePush(push.b, receivedAt);
    if (parsed.fatal !== undefined) {
      out.pushes.push([runId, receivedAt, parsed.fatal, push.b]);
      continue;
    }
    out.pushes.push([runId, receivedAt, null, push.b]);
    for (const rejection of parsed.rejected) out.pushes.push([runId, receivedAt, rejection.reason, rejection.body]);
    for (const reading of parsed.readings) out.readings.push(readingRow(runId, reading));
    for (const s of parsed.statuses) out.statuses.push([runId, s.serial, s.lastUpdate, s.battery, s.rssi]);
  }
  return out;
}

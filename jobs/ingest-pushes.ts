/**
 * ingest-pushes: the writer's side of HTTP Push. Each job is one group-commit batch from a receiver: the pushes
 * of a few milliseconds, verbatim with the time each arrived. In one transaction it keeps every push verbatim
 * (raw_pushes), keeps what cannot be used (rejected_pushes, with the reason), adds pushed battery/RSSI to the
 * status series, keeps the uplinks' unknown fields (uplink_extras) and lands the readings idempotently (source
 * 'push'). A batch retried after a crash changes nothing. Counts go to one sync_runs row per minute.
 * Queue: `ingest`, concurrency 1; not scheduled.
 *
 * Each push is parsed with the receiver's own parser, limits and arrival time, so what the receiver acknowledged
 * is what lands here. A push whose envelope is broken (not from a receiver of ours) is kept aside on its own.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job.js';
import type { PushLimits } from '../src/push/limits.js';
import { parsePush } from '../src/push/format.js';
import type { Cell } from '../src/warehouse/appender.js';
import { appendRows } from '../src/warehouse/appender.js';
import { ts } from '../src/warehouse/duckdb.js';
import { landStagedReadings, readingRow } from '../src/warehouse/readings-store.js';
import { ident, sqlFile } from '../src/warehouse/sql-files.js';

/** Envelopes are checked one by one (see stageRows): one broken envelope must not fail its batch-mates. */
const payload = z.object({ pushes: z.array(z.unknown()).min(1) });

const positive = z.number().int().positive();
/**
 * One push as a receiver enqueues it (src/receiver/group-commit.ts): when it arrived (ms since the epoch), its body
 * verbatim (`x: 'base64'`: the base64 of bytes that were not UTF-8), and the limits its receiver judged it by (`l`,
 * added by the consumer from the job): the writer judges by the same, so what was acknowledged is what lands.
 */
const envelope = z.object({
  r: z
    .number()
    .int()
    .min(Date.UTC(2000, 0, 1))
    .max(Date.UTC(9999, 0, 1)),
  b: z.string(),
  x: z.literal('base64').optional(),
  l: z
    .object({
      maxDepth: positive,
      maxUplinks: positive,
      maxReadings: positive,
      maxString: positive,
      maxExtra: z.number().int().min(0),
    })
    .optional(),
});

/** Parsing yields to the event loop at least this often, so that the writer's job locks are kept up meanwhile. */
const YIELD_EVERY_MS = 20;

export default defineJob({
  name: 'ingest-pushes',
  payload,

  async run({ pushes }, ctx) {
    const rows = await stageRows(ctx.runId, pushes, ctx.config.push.limits, ctx.startedAt);
    const outcome = await ctx.db.write(async (c) => {
      await appendRows(c, 'stage_pushes', rows.pushes);
      await appendRows(c, 'stage_readings', rows.readings);
      await appendRows(c, 'stage_status', rows.statuses);
      await appendRows(c, 'stage_uplink_extras', rows.uplinkExtras);
      const params = { run_id: ctx.runId };
      await c.run(sqlFile('ingest/raw-pushes-insert'), params);
      const rejected = (await c.run(sqlFile('ingest/rejected-insert'), params)).rowsChanged;
      await c.run(sqlFile('ingest/status-insert'), params);
      await c.run(sqlFile('ingest/uplink-extras-insert'), params);
      const readings = await landStagedReadings(c, ctx.runId);
      for (const stage of ['stage_pushes', 'stage_status', 'stage_uplink_extras'])
        await c.run(sqlFile('sync/stage-clear', { stage: ident(stage) }), params);
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

interface StagedRows {
  pushes: Cell[][];
  readings: Cell[][];
  statuses: Cell[][];
  uplinkExtras: Cell[][];
}

/** Parses every push of the batch (the parser the receiver answered with) into rows to stage. */
async function stageRows(runId: string, pushes: unknown[], limits: PushLimits, now: Date): Promise<StagedRows> {
  const out: StagedRows = { pushes: [], readings: [], statuses: [], uplinkExtras: [] };
  let lastYield = performance.now();
  for (const push of pushes) {
    stagePush(runId, push, limits, now, out);
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  return out;
}

function stagePush(runId: string, push: unknown, limits: PushLimits, now: Date, out: StagedRows): void {
  const checked = envelope.safeParse(push);
  if (!checked.success) {
    const body = (push as { b?: unknown } | null)?.b;
    out.pushes.push([
      runId,
      now,
      `the ingest envelope is not {r: arrival time, b: body text}: ${checked.error.issues[0]?.message}`,
      typeof body === 'string' ? body : '(no body text)',
    ]);
    return;
  }
  const receivedAt = new Date(checked.data.r);
  if (checked.data.x === 'base64') {
    out.pushes.push([
      runId,
      receivedAt,
      'the body is not valid UTF-8 text (kept as the base64 of its bytes)',
      checked.data.b,
    ]);
    return;
  }
  const parsed = parsePush(checked.data.b, receivedAt, checked.data.l ?? limits);
  if (parsed.fatal !== undefined) {
    out.pushes.push([runId, receivedAt, parsed.fatal.reason, checked.data.b]);
    return;
  }
  out.pushes.push([runId, receivedAt, null, checked.data.b]);
  for (const rejection of parsed.rejected) out.pushes.push([runId, receivedAt, rejection.reason, rejection.body]);
  for (const reading of parsed.readings) out.readings.push(readingRow(runId, reading));
  for (const s of parsed.statuses) out.statuses.push([runId, s.serial, s.lastUpdate, s.battery, s.rssi]);
  for (const u of parsed.uplinkExtras) out.uplinkExtras.push([runId, u.serial, u.uplinkTs, receivedAt, u.extra]);
}

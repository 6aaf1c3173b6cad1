/**
 * Landing a batch of pushes: the writer's side of HTTP Push. Each batch is one or more group-commit batches from
 * receivers: the pushes of a few milliseconds, verbatim with the time each arrived. In one transaction it keeps every
 * push verbatim (raw_pushes), keeps what cannot be used (rejected_pushes, with the reason), adds pushed battery/RSSI
 * to the status series, keeps the uplinks' unknown fields (uplink_extras) and lands the readings idempotently (source
 * 'push'). A batch retried after a crash changes nothing. Counts go to one sync_runs row per minute, under the job
 * name `ingest-pushes`.
 *
 * Each push is parsed with the receiver's own parser, limits and arrival time, so what the receiver acknowledged
 * is what lands here. A push whose envelope is broken (not from a receiver of ours) is kept aside on its own.
 *
 * Why here and not in jobs/: it is not a job the job runner runs. Nothing schedules it, `sync` cannot name it, it
 * has no sync_runs row per run, and it never goes through the `jobs` queue: the ingest consumer beside it
 * (consumer.ts) calls it with the pushes of many BullMQ jobs at once, and owns its retries and parking. Kept beside
 * the consumer, the writer's side of a push reads in one folder: src/receiver/ takes it, src/ingest/ lands it.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { describeCounts, type JobContext, type JobResult } from '../job-runtime/job.js';
import type { PushLimits } from '../push/limits.js';
import { parsePush } from '../push/format.js';
import type { PushBatch } from '../warehouse/pushes.js';
import { readingRow } from '../warehouse/readings-store.js';

/**
 * What an `ingest` queue job carries. Envelopes are checked one by one (see stageRows): one broken envelope must not
 * fail its batch-mates.
 */
export const pushBatch = z.object({ pushes: z.array(z.unknown()).min(1) });

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

/** Lands the pushes of one transaction (the consumer's batch of queue jobs) and counts what happened. */
/** A transaction's worth of pushes landed: the counts a run records, and those the metrics take (consumer.ts). */
export type LandedPushes = JobResult & { details: { pushes: number; duplicates: number; rejected: number } };

export async function landPushes({ pushes }: z.infer<typeof pushBatch>, ctx: JobContext): Promise<LandedPushes> {
  const rows = await stageRows(ctx.runId, pushes, ctx.config.push.limits, ctx.startedAt);
  const outcome = await ctx.db.landPushBatch({
    runId: ctx.runId,
    startedAt: ctx.startedAt,
    pushes: pushes.length,
    rows,
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
}

type StagedRows = PushBatch['rows'];

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
    out.pushes.push({
      run_id: runId,
      received_at: now,
      reason: `the ingest envelope is not {r: arrival time, b: body text}: ${checked.error.issues[0]?.message}`,
      body: typeof body === 'string' ? body : '(no body text)',
    });
    return;
  }
  const receivedAt = new Date(checked.data.r);
  if (checked.data.x === 'base64') {
    out.pushes.push({
      run_id: runId,
      received_at: receivedAt,
      reason: 'the body is not valid UTF-8 text (kept as the base64 of its bytes)',
      body: checked.data.b,
    });
    return;
  }
  const parsed = parsePush(checked.data.b, receivedAt, checked.data.l ?? limits);
  if (parsed.fatal !== undefined) {
    out.pushes.push({ run_id: runId, received_at: receivedAt, reason: parsed.fatal.reason, body: checked.data.b });
    return;
  }
  out.pushes.push({ run_id: runId, received_at: receivedAt, reason: null, body: checked.data.b });
  for (const { reason, body } of parsed.rejected)
    out.pushes.push({ run_id: runId, received_at: receivedAt, reason, body });
  for (const reading of parsed.readings) out.readings.push(readingRow(runId, reading));
  for (const s of parsed.statuses)
    out.statuses.push({ run_id: runId, serial: s.serial, last_update: s.lastUpdate, battery: s.battery, rssi: s.rssi });
  for (const u of parsed.uplinkExtras)
    out.uplinkExtras.push({
      run_id: runId,
      serial: u.serial,
      uplink_ts: u.uplinkTs,
      received_at: receivedAt,
      extra: u.extra,
    });
}

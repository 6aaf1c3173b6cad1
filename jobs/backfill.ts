/**
 * backfill: historic readings over [from, to), for every probe or one (source 'backfill'), on demand
 * (`sensoterra-sync backfill`). The range is walked probe by probe in chunks of CHUNK_DAYS; each chunk is
 * streamed in and landed on its own, and recorded in backfill_chunks, so an interrupted backfill started again
 * with the same arguments resumes where it stopped. Idempotent with push: it inserts nothing already stored.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, SyncError } from '../src/errors.js';
import { parseInstant } from '../src/time.js';
import { defineJob, describeCounts, type JobContext } from '../src/job-runtime/job.js';
import { SkippedReadings } from '../src/readings/skipped.js';
import { fillWindow, type Window, type WindowOutcome } from '../src/sync/historic.js';

const CHUNK_DAYS = 7;
const DAY_MS = 86_400_000;

/** A time as the command sends it (ISO-8601; src/time.ts reads it, UTC without an offset). */
const instant = z.string().transform((text, ctx) => {
  const at = parseInstant(text, { dateOnly: true });
  if (at instanceof Date) return at;
  ctx.addIssue({ code: 'custom', message: at.reason });
  return z.NEVER;
});

const payload = z
  .object({ from: instant, to: instant, probe: z.string().min(1).optional() })
  .refine((p) => p.from.getTime() < p.to.getTime(), 'from must be before to');

export default defineJob({
  name: 'backfill',
  payload,
  callsApi: true,

  async run(p, ctx) {
    const from = p.from;
    const to = new Date(Math.min(p.to.getTime(), ctx.startedAt.getTime()));
    const probes = await probesToFill(ctx, p.probe);
    // the request as given names the backfill: run again with the same arguments, it resumes
    const backfillId = createHash('md5')
      .update(JSON.stringify([from.toISOString(), p.to.toISOString(), p.probe ?? '*']))
      .digest('hex');
    const done = new Set((await ctx.db.backfillChunksDone(backfillId)).map((c) => `${c.serial}@${c.from.getTime()}`));
    const chunks = probes.flatMap((probe) => chunksOf(from, to).map((chunk) => ({ ...probe, ...chunk })));
    const totals = { read: 0, inserted: 0, conflicts: 0, resumed: 0 };
    const skipped = new SkippedReadings();
    for (const [i, chunk] of chunks.entries()) {
      if (done.has(`${chunk.serial}@${chunk.from.getTime()}`)) totals.resumed++;
      else {
        const outcome = await fillWindow(ctx, chunk, 'backfill');
        // a chunk cut short at "now" is not done: the next run with the same arguments fetches it again, whole
        const cutShort = chunk.to.getTime() === to.getTime() && to.getTime() < p.to.getTime();
        if (!cutShort) await recordChunk(ctx, backfillId, chunk, outcome);
        totals.read += outcome.read;
        totals.inserted += outcome.inserted;
        totals.conflicts += outcome.conflicts;
        skipped.merge(outcome.skipped);
      }
      ctx.progress(i + 1, chunks.length);
    }
    return {
      rowsRead: totals.read,
      inserted: totals.inserted,
      updated: 0,
      deleted: 0,
      conflicts: totals.conflicts,
      details: {
        probes: probes.length,
        chunks: chunks.length,
        resumedChunks: totals.resumed,
        backfillId,
        readingsSkipped: skipped.summary(),
      },
      summary:
        `${probes.length} probe${probes.length === 1 ? '' : 's'}, ${chunks.length} chunks (${totals.resumed} already done), ${totals.read} readings read: ` +
        describeCounts({ 'new readings': totals.inserted, conflicts: totals.conflicts, skipped: skipped.count }),
    };
  },
});

async function recordChunk(ctx: JobContext, backfillId: string, chunk: Window, outcome: WindowOutcome): Promise<void> {
  await ctx.db.recordBackfillChunk({
    backfillId,
    serial: chunk.serial,
    from: chunk.from,
    to: chunk.to,
    readings: outcome.read,
    inserted: outcome.inserted,
  });
}

async function probesToFill(
  ctx: JobContext,
  serial: string | undefined,
): Promise<{ serial: string; probeId: number }[]> {
  const rows = await ctx.db.backfillProbes(serial);
  if (serial !== undefined && rows.length === 0) {
    throw new SyncError(
      ErrorCodes.NOT_FOUND,
      `no probe with serial ${serial} in the warehouse: check the serial, or run "sensoterra-sync sync probes" first`,
    );
  }
  return rows;
}

function chunksOf(from: Date, to: Date): { from: Date; to: Date }[] {
  const chunks: { from: Date; to: Date }[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += CHUNK_DAYS * DAY_MS) {
    chunks.push({ from: new Date(start), to: new Date(Math.min(start + CHUNK_DAYS * DAY_MS, to.getTime())) });
  }
  return chunks;
}

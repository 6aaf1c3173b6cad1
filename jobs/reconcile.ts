/**
 * reconcile: fills the gaps that pushes left. A probe whose latest reading is older than STALE_AFTER_HOURS gets the
 * readings since then pulled from the historic-readings endpoint (source 'reconcile'), at most LOOKBACK_DAYS back
 * (older gaps are for `backfill`). Idempotent with push: what already landed is not stored again.
 * Default schedule: SCHEDULE_RECONCILE (hourly, at :15).
 */
import { z } from 'zod';
import { ApiError } from '../src/errors.js';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';
import { SkippedReadings } from '../src/readings/skipped.js';
import { fillWindow } from '../src/sync/historic.js';

const LOOKBACK_DAYS = 7;

export default defineJob({
  name: 'reconcile',
  payload: z.object({}).loose(),
  callsApi: true,
  schedule: { variable: 'SCHEDULE_RECONCILE', default: '15 * * * *' },

  async run(_payload, ctx) {
    const now = ctx.startedAt;
    const stale = await ctx.db.staleProbes({
      staleBefore: new Date(now.getTime() - ctx.config.staleAfterHours * 3_600_000),
      lookbackFrom: new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000),
    });
    let read = 0;
    let inserted = 0;
    let conflicts = 0;
    const failed: string[] = [];
    const skipped = new SkippedReadings();
    for (const probe of stale) {
      const window = { serial: probe.serial, probeId: probe.probeId, from: probe.gapFrom, to: now };
      try {
        const outcome = await fillWindow(ctx, window, 'reconcile');
        read += outcome.read;
        inserted += outcome.inserted;
        conflicts += outcome.conflicts;
        skipped.merge(outcome.skipped);
      } catch (err) {
        // one probe the API will not give (gone, not ours) must not keep the others' gaps open
        if (!(err instanceof ApiError) || err.retryable) throw err;
        failed.push(`${window.serial}: ${err.message}`);
        ctx.log.warn({ serial: window.serial, err }, 'gap of a quiet probe not filled');
      }
    }
    return {
      rowsRead: read,
      inserted,
      updated: 0,
      deleted: 0,
      conflicts,
      details: { staleProbes: stale.length, failed, readingsSkipped: skipped.summary() },
      summary: `${stale.length} quiet probes, ${read} readings read: ${describeCounts({ 'new readings': inserted, conflicts, skipped: skipped.count, 'probes failed': failed.length })}`,
    };
  },
});

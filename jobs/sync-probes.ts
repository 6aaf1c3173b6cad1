/**
 * sync-probes: every probe of the account (a reseller's customers' probes included) with its metadata, soil
 * profile and status. Pages are staged as they arrive and applied in one short transaction at the end: a new
 * probe_history version when a tracked field changed, the status time series, the readings of
 * status.last_readings (source 'status'), and probes missing from the list marked deleted.
 * Default schedule: SCHEDULE_PROBES (every 15 minutes).
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';
import { SkippedReadings } from '../src/readings/skipped.js';
import { probeStageRow, statusReadings } from '../src/sync/probe-rows.js';
import { readingRow } from '../src/warehouse/readings-store.js';

export default defineJob({
  name: 'sync-probes',
  payload: z.object({}).loose(),
  callsApi: true,
  schedule: { variable: 'SCHEDULE_PROBES', default: '*/15 * * * *' },
  sync: { target: 'probes', order: 4 }, // last in `sync all`: probes refer to parameters, locations and customers

  async run(_payload, ctx) {
    let read = 0;
    const skipped = new SkippedReadings();
    for await (const page of ctx.api.probes({ signal: ctx.signal })) {
      const readings = page.flatMap((element) => statusReadings(element, ctx.startedAt, skipped));
      await ctx.db.stage(
        'stage_probes',
        page.map((element) => probeStageRow(ctx.runId, element, ctx.config.timeZoneOverrides)),
      );
      await ctx.db.stage(
        'stage_readings',
        readings.map((r) => readingRow(ctx.runId, r)),
      );
      read += page.length;
    }
    const outcome = await ctx.db.applyProbeSnapshot({
      runId: ctx.runId,
      at: ctx.startedAt,
      complete: true,
      maxDeleteShare: ctx.config.syncMaxDeleteShare,
      changedBy: 'sync-probes',
    });
    if (outcome.deletionsRefused) ctx.log.warn({ reason: outcome.deletionsRefused }, 'probe deletions refused');
    if (skipped.count > 0) ctx.log.warn({ skipped: skipped.summary() }, 'status readings skipped');
    const { readings } = outcome;
    return {
      rowsRead: read,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deleted: outcome.deleted,
      conflicts: readings.conflicts,
      details: {
        newVersions: outcome.newVersions,
        restored: outcome.restored,
        deletionsRefused: outcome.deletionsRefused,
        readingsInserted: readings.inserted,
        statusReadingsSkipped: skipped.summary(), // { total, reasons: { reason: count } }
      },
      summary:
        `${read} probes read: ` +
        describeCounts({
          new: outcome.inserted,
          updated: outcome.updated,
          'new versions': outcome.newVersions,
          restored: outcome.restored,
          deleted: outcome.deleted,
          'new readings': readings.inserted,
          'reading conflicts': readings.conflicts,
        }) +
        (outcome.deletionsRefused ? ` (${outcome.deletionsRefused})` : ''),
    };
  },
});

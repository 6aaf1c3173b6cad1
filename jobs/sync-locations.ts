/**
 * sync-locations: the account's locations (fields), current state; a location missing from the list is marked
 * deleted, unless more than SYNC_MAX_DELETE_SHARE of them would be at once (an empty or truncated list deletes
 * nothing). Default schedule: SCHEDULE_LOCATIONS (hourly).
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job.js';
import { applyLocations } from '../src/warehouse/snapshots.js';

export default defineJob({
  name: 'sync-locations',
  payload: z.object({}).loose(),

  async run(_payload, ctx) {
    let read = 0;
    for await (const batch of ctx.api.locations({ signal: ctx.signal })) {
      const rows = batch.map(({ value: l, raw }) => [
        ctx.runId,
        l.id,
        l.name,
        l.customer_id,
        l.code,
        JSON.stringify(raw),
      ]);
      await ctx.db.stage('stage_locations', rows);
      read += batch.length;
    }
    const { deletionsRefused, ...counts } = await applyLocations(ctx.db, {
      runId: ctx.runId,
      at: ctx.startedAt,
      maxDeleteShare: ctx.config.syncMaxDeleteShare,
    });
    if (deletionsRefused) ctx.log.warn({ reason: deletionsRefused }, 'location deletions refused');
    return {
      rowsRead: read,
      ...counts,
      ...(deletionsRefused ? { details: { deletionsRefused } } : {}),
      summary: `${read} locations read: ${describeCounts({ new: counts.inserted, updated: counts.updated, deleted: counts.deleted })}${deletionsRefused ? `; ${deletionsRefused}` : ''}`,
    };
  },
});

/**
 * sync-locations: the account's locations (fields), current state; a location missing from the list is marked
 * deleted, unless more than SYNC_MAX_DELETE_SHARE of them would be at once (an empty or truncated list deletes
 * nothing). Default schedule: SCHEDULE_LOCATIONS (hourly).
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';

export default defineJob({
  name: 'sync-locations',
  payload: z.object({}).loose(),
  callsApi: true,
  schedule: { variable: 'SCHEDULE_LOCATIONS', default: '0 * * * *' },
  sync: { target: 'locations', order: 2 },

  async run(_payload, ctx) {
    let read = 0;
    for await (const batch of ctx.api.locations({ signal: ctx.signal })) {
      const rows = batch.map(({ value: l, raw }) => ({
        run_id: ctx.runId,
        id: l.id,
        name: l.name,
        customer_id: l.customer_id,
        code: l.code,
        raw: JSON.stringify(raw),
      }));
      await ctx.db.stage('stage_locations', rows);
      read += batch.length;
    }
    const { deletionsRefused, ...counts } = await ctx.db.applyLocations({
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

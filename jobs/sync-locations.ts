/**
 * sync-locations: the account's locations (fields), current state; a location missing from the list is marked
 * deleted. Default schedule: SCHEDULE_LOCATIONS (hourly).
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
      const rows = batch.map(({ value: l, raw }) => [ctx.runId, l.id, l.name, l.customer_id, l.code, JSON.stringify(raw)]);
      await ctx.db.stage('stage_locations', rows);
      read += batch.length;
    }
    const counts = await applyLocations(ctx.db, { runId: ctx.runId, at: ctx.startedAt });
    return {
      rowsRead: read,
      ...counts,
      summary: `${read} locations read: ${describeCounts({ new: counts.inserted, updated: counts.updated, deleted: counts.deleted })}`,
    };
  },
});

/**
 * sync-parameters: the centrally maintained parameter lists (GET /parameter, names in SENSOTERRA_LANGUAGE).
 * SOIL rows are the soil calibrations: soil_types, with every version in soil_type_history; the other types go
 * to parameters. Default schedule: SCHEDULE_PARAMETERS (daily, 03:00).
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';

export default defineJob({
  name: 'sync-parameters',
  payload: z.object({}).loose(),
  callsApi: true,
  schedule: { variable: 'SCHEDULE_PARAMETERS', default: '0 3 * * *' },
  sync: { target: 'parameters', order: 1 },

  async run(_payload, ctx) {
    let read = 0;
    for await (const batch of ctx.api.parameters({ signal: ctx.signal })) {
      const rows = batch.map(({ value: p, raw }) => ({
        run_id: ctx.runId,
        type: p.type.toUpperCase(),
        key: p.key,
        name: p.name,
        raw: JSON.stringify(raw),
      }));
      await ctx.db.stage('stage_parameters', rows);
      read += batch.length;
    }
    const outcome = await ctx.db.applyParameters({
      runId: ctx.runId,
      at: ctx.startedAt,
      language: ctx.config.api.language,
    });
    const soil = outcome.soilTypes;
    return {
      rowsRead: read,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deleted: outcome.deleted,
      details: { soilTypes: soil },
      summary:
        `${read} parameters read: ` +
        describeCounts({
          new: outcome.inserted,
          updated: outcome.updated,
          deleted: outcome.deleted,
          'new soil type versions': soil.newVersions,
        }),
    };
  },
});

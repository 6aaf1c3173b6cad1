/**
 * apply-probe-change: a change we made ourselves (`probe register|update|transfer`) lands in the warehouse at once,
 * as the API answered it, dated exactly when it was made (not to the next sync). One probe, so the snapshot is not
 * complete: nothing is marked deleted. Run by the commands, through the worker; not scheduled.
 */
import { z } from 'zod';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';
import { parseElement, probeSchema } from '../src/sensoterra/schemas.js';
import { probeStageRow } from '../src/sync/probe-rows.js';

const payload = z.object({
  probe: z.record(z.string(), z.unknown()), // the probe as the API answered the change
  at: z.iso.datetime({ offset: true }),
  changedBy: z.string().min(1),
});

export default defineJob({
  name: 'apply-probe-change',
  payload,
  callsApi: false,

  async run({ probe: raw, at, changedBy }, ctx) {
    const probe = parseElement(probeSchema, raw, 'the changed probe', '');
    await ctx.db.stage('stage_probes', [probeStageRow(ctx.runId, { value: probe, raw }, ctx.config.timeZoneOverrides)]);
    const outcome = await ctx.db.applyProbeSnapshot({
      runId: ctx.runId,
      at: new Date(at),
      complete: false,
      maxDeleteShare: 0,
      changedBy,
    });
    return {
      rowsRead: 1,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deleted: 0,
      details: { serial: probe.serial, newVersions: outcome.newVersions, at },
      summary: `probe ${probe.serial}: ${describeCounts({ new: outcome.inserted, updated: outcome.updated, 'new versions': outcome.newVersions })}, dated ${at}`,
    };
  },
});

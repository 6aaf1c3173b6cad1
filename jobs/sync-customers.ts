/**
 * sync-customers: a reseller's customers and which probe belongs to whom (GET /probe?customer=<id> for each).
 * A probe that moved to another customer gets a new probe_history version, dated to this sync.
 * An account that is not a reseller has no customers: the run says so and changes nothing.
 * Default schedule: SCHEDULE_CUSTOMERS (hourly, at :30).
 */
import { z } from 'zod';
import { ApiError, ErrorCodes } from '../src/errors.js';
import { defineJob, describeCounts } from '../src/job-runtime/job.js';
import { LOGIN_ENDPOINT } from '../src/sensoterra/endpoints.js';

export default defineJob({
  name: 'sync-customers',
  payload: z.object({}).loose(),
  callsApi: true,
  schedule: { variable: 'SCHEDULE_CUSTOMERS', default: '30 * * * *' },
  sync: { target: 'customers', order: 3 },

  async run(_payload, ctx) {
    const customerIds: number[] = [];
    try {
      for await (const batch of ctx.api.customers({ signal: ctx.signal })) {
        await ctx.db.stage(
          'stage_customers',
          batch.map(({ value: c, raw }) => ({
            run_id: ctx.runId,
            id: c.id,
            name: c.name,
            email: c.email,
            raw: JSON.stringify(raw),
          })),
        );
        customerIds.push(...batch.map((b) => b.value.id));
      }
    } catch (err) {
      // the list's own 404 or 403; the same from the login means a wrong SENSOTERRA_API_URL or account
      const notReseller =
        err instanceof ApiError &&
        err.endpoint !== LOGIN_ENDPOINT &&
        (err.status === 404 || err.code === ErrorCodes.API_FORBIDDEN);
      if (!notReseller) throw err;
      ctx.log.info({ err }, 'no customers: the account is not a reseller');
      return {
        rowsRead: 0,
        inserted: 0,
        updated: 0,
        deleted: 0,
        summary: 'the account is not a reseller: no customers to map',
      };
    }
    let mapped = 0;
    for (const customerId of customerIds) {
      for await (const page of ctx.api.probes({ customerId, signal: ctx.signal })) {
        await ctx.db.stage(
          'stage_customer_probes',
          page.map(({ value: p }) => ({
            run_id: ctx.runId,
            customer_id: customerId,
            serial: p.serial,
            probe_id: p.id,
          })),
        );
        mapped += page.length;
      }
    }
    const outcome = await ctx.db.applyCustomers({
      runId: ctx.runId,
      at: ctx.startedAt,
      maxDeleteShare: ctx.config.syncMaxDeleteShare,
    });
    if (outcome.deletionsRefused)
      ctx.log.warn(
        { reason: outcome.deletionsRefused },
        'customer deletions refused (and the probe mapping left as it was)',
      );
    return {
      rowsRead: customerIds.length + mapped,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deleted: outcome.deleted,
      details: {
        probesMapped: mapped,
        mappingsAdded: outcome.mappingsAdded,
        mappingsRemoved: outcome.mappingsRemoved,
        probesMoved: outcome.probesMoved,
        deletionsRefused: outcome.deletionsRefused,
      },
      summary:
        `${customerIds.length} customers, ${mapped} probe mappings read: ` +
        describeCounts({
          'new customers': outcome.inserted,
          'customers updated': outcome.updated,
          'customers deleted': outcome.deleted,
          'mappings added': outcome.mappingsAdded,
          'mappings removed': outcome.mappingsRemoved,
          'probes moved': outcome.probesMoved,
        }) +
        (outcome.deletionsRefused ? `; ${outcome.deletionsRefused} (probe mapping left as it was)` : ''),
    };
  },
});

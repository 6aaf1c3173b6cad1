/** Every job, by name (= its file name in jobs/). */
import type { JobDefinition } from './job.js';
import applyProbeChange from '../jobs/apply-probe-change.js';
import backfill from '../jobs/backfill.js';
import exportJob from '../jobs/export.js';
import reconcile from '../jobs/reconcile.js';
import syncCustomers from '../jobs/sync-customers.js';
import syncLocations from '../jobs/sync-locations.js';
import syncParameters from '../jobs/sync-parameters.js';
import syncProbes from '../jobs/sync-probes.js';

export const JOBS: Readonly<Record<string, JobDefinition>> = Object.freeze(
  Object.fromEntries(
    [syncParameters, syncLocations, syncProbes, syncCustomers, reconcile, backfill, exportJob, applyProbeChange].map(
      (job) => [job.name, job as JobDefinition],
    ),
  ),
);

/** What `sync <target>` runs, in this order for `all` (parameters and customers first: probes refer to them). */
export const SYNC_TARGETS = {
  parameters: ['sync-parameters'],
  locations: ['sync-locations'],
  probes: ['sync-probes'],
  customers: ['sync-customers'],
  all: ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'],
} as const;
export type SyncTarget = keyof typeof SYNC_TARGETS;

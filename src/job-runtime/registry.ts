/**
 * Every job, by name (= its file name in jobs/), and what is derived from their declarations: the targets `sync`
 * can name and the jobs that run on a schedule. Nothing here is declared twice: to add a job, write its file in
 * jobs/ and list it below (test/jobs.test.ts fails on a file in jobs/ that is not listed).
 */
import type { ScheduleVariable } from '../config.js';
import type { JobDefinition } from './job.js';
import applyProbeChange from '../../jobs/apply-probe-change.js';
import backfill from '../../jobs/backfill.js';
import exportJob from '../../jobs/export.js';
import reconcile from '../../jobs/reconcile.js';
import syncCustomers from '../../jobs/sync-customers.js';
import syncLocations from '../../jobs/sync-locations.js';
import syncParameters from '../../jobs/sync-parameters.js';
import syncProbes from '../../jobs/sync-probes.js';

/** In this order `sync`'s targets are listed in its usage. */
const ALL_JOBS: readonly JobDefinition[] = [
  syncParameters,
  syncLocations,
  syncProbes,
  syncCustomers,
  reconcile,
  backfill,
  exportJob,
  applyProbeChange,
] as JobDefinition[];

export const JOBS: Readonly<Record<string, JobDefinition>> = Object.freeze(
  Object.fromEntries(ALL_JOBS.map((job) => [job.name, job])),
);

export type SyncTarget = string;

/** What `sync <target>` runs; `all` runs every job a target names, in their declared order. */
export const SYNC_TARGETS: Readonly<Record<SyncTarget, readonly string[]>> = Object.freeze(syncTargets());

function syncTargets(): Record<SyncTarget, readonly string[]> {
  const named = ALL_JOBS.flatMap((job) => (job.sync ? [{ job: job.name, ...job.sync }] : []));
  const targets: Record<SyncTarget, readonly string[]> = Object.fromEntries(named.map((n) => [n.target, [n.job]]));
  targets.all = [...named].sort((a, b) => a.order - b.order).map((n) => n.job);
  return targets;
}

/** Every job with a default schedule, by name: the SCHEDULE_* variables loadConfig reads, and what start-up upserts. */
export const SCHEDULED_JOBS: Readonly<Record<string, ScheduleVariable>> = Object.freeze(
  Object.fromEntries(
    ALL_JOBS.flatMap((job) => (job.schedule ? [[job.name, { ...job.schedule, callsApi: job.callsApi }]] : [])),
  ),
);

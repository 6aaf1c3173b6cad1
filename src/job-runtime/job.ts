/**
 * What every job in jobs/ looks like: its declaration (a name = its file name; a payload schema, validated at run
 * time because a payload in Redis may come from an older deploy; whether it calls the Sensoterra API; its default
 * schedule; the `sync` target that names it) and `run(payload, ctx)`, whose dependencies come in through ctx.
 * Everything else about a job (the registry, `sync`'s targets, the schedules and their SCHEDULE_* variables) is
 * derived from these declarations in registry.ts: a job is declared in its own file and nowhere else.
 */
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SensoterraClient } from '../sensoterra/client.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface JobContext {
  readonly runId: string;
  readonly startedAt: Date; // changes a sync sees are dated to this
  readonly trigger: string; // schedule | command | retry
  readonly log: Logger;
  readonly db: Warehouse;
  readonly api: SensoterraClient; // created on first use: jobs that never call the API need no credentials
  readonly config: Config;
  readonly signal: AbortSignal;
  progress(done: number, total: number): void;
}

export interface JobResult {
  rowsRead: number;
  inserted: number;
  updated: number;
  deleted: number;
  conflicts?: number;
  details?: Record<string, unknown>;
  summary: string; // one line for a person: what changed
}

/** A job that runs on its own: the variable that sets its cron pattern (`off` switches it off), and the default. */
export interface JobSchedule {
  variable: `SCHEDULE_${string}`;
  default: string;
}

/** A job that `sync <target>` runs; `sync all` runs every such job, by `order` (a job first that others refer to). */
export interface JobSyncTarget {
  target: string;
  order: number;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  /** Calls the Sensoterra API: its schedule may not poll more often than Sensoterra asks (every 5 minutes). */
  callsApi: boolean;
  schedule?: JobSchedule;
  sync?: JobSyncTarget;
  run(payload: z.infer<S>, ctx: JobContext): Promise<JobResult>;
}

/** Identity, for type inference in job files. */
export function defineJob<S extends z.ZodType>(job: JobDefinition<S>): JobDefinition<S> {
  return job;
}

/** "3 new, 1 updated, 0 deleted"; parts with nothing to say are left out, "no change" when all are. */
export function describeCounts(parts: Record<string, number>): string {
  const said = Object.entries(parts)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}`);
  return said.length > 0 ? said.join(', ') : 'no change';
}

/**
 * Runs one job: validates its payload, records the run in sync_runs (started, then succeeded or failed with its
 * counts and error), logs with the run id, and drops whatever the run staged, whether it was applied or not.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { JobContext, JobResult } from './job.js';
import { JOBS } from './registry.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { redact } from '../secrets.js';
import type { SensoterraClient } from '../sensoterra/client.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface JobDeps {
  db: Warehouse;
  config: Config;
  log: Logger;
  api: () => SensoterraClient;
  /** "Now" for jobs (a run's start; what counts as stale); tests set it to the simulator's clock. */
  clock?: () => Date;
  /** Where runs, landed readings and API requests are counted (the worker's, served on METRICS_PORT). */
  metrics?: Metrics;
}

export interface RunReport extends JobResult {
  runId: string;
  job: string;
  status: 'succeeded' | 'failed';
  startedAt: string;
  durationMs: number;
  error?: string;
}

export interface RunOptions {
  trigger: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function runJob(name: string, payload: unknown, deps: JobDeps, opts: RunOptions): Promise<RunReport> {
  const job = JOBS[name];
  if (!job)
    throw new SyncError(
      ErrorCodes.NOT_FOUND,
      `no job named ${JSON.stringify(name)}: known jobs are ${Object.keys(JOBS).join(', ')}`,
    );
  const parsed = job.payload.safeParse(payload ?? {});
  if (!parsed.success) {
    throw new SyncError(
      ErrorCodes.PAYLOAD_INVALID,
      `${name}: invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  const runId = randomUUID();
  const startedAt = deps.clock?.() ?? new Date();
  const log = deps.log.child({ job: name, runId });
  await deps.db.startRun({ runId, job: name, trigger: opts.trigger, startedAt });
  const ctx = jobContext(deps, { runId, startedAt, log, ...opts });
  log.info({ trigger: opts.trigger }, 'job started');
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  try {
    const result = await job.run(parsed.data, ctx);
    await deps.db.refreshRollup();
    const report = await finish(deps.db, { runId, job: name, startedAt, status: 'succeeded', ...result });
    deps.metrics?.jobFinished(name, 'succeeded', seconds(), new Date());
    log.info(
      {
        ms: report.durationMs,
        read: result.rowsRead,
        inserted: result.inserted,
        updated: result.updated,
        deleted: result.deleted,
      },
      'job succeeded',
    );
    return report;
  } catch (err) {
    await finish(deps.db, {
      runId,
      job: name,
      startedAt,
      status: 'failed',
      rowsRead: 0,
      inserted: 0,
      updated: 0,
      deleted: 0,
      summary: '',
      error: redact(errorMessage(err)),
    }).catch((inner: unknown) => log.error({ err: inner }, 'could not record the failed run'));
    deps.metrics?.jobFinished(name, 'failed', seconds(), new Date());
    log.error({ err }, 'job failed');
    throw err;
  } finally {
    await deps.db.clearStaged(runId).catch((err: unknown) => log.warn({ err }, 'could not clear staged rows'));
  }
}

/** What a job's run gets: its run id and start, a logger bound to them, and the shared dependencies. */
export function jobContext(
  deps: JobDeps,
  run: RunOptions & { runId: string; startedAt: Date; log: Logger },
): JobContext {
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    trigger: run.trigger,
    log: run.log,
    db: deps.db,
    get api() {
      return deps.api();
    },
    config: deps.config,
    signal: run.signal ?? new AbortController().signal,
    progress: (done, total) => run.onProgress?.(done, total),
  };
}

async function finish(
  db: Warehouse,
  run: JobResult & { runId: string; job: string; startedAt: Date; status: RunReport['status']; error?: string },
): Promise<RunReport> {
  const finishedAt = new Date();
  await db.finishRun({
    runId: run.runId,
    status: run.status,
    finishedAt,
    rowsRead: run.rowsRead,
    inserted: run.inserted,
    updated: run.updated,
    deleted: run.deleted,
    conflicts: run.conflicts ?? 0,
    error: run.error ?? null,
    details: run.details,
  });
  return {
    ...run,
    startedAt: run.startedAt.toISOString(),
    durationMs: finishedAt.getTime() - run.startedAt.getTime(),
  };
}

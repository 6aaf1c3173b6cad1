/**
 * What the worker answers on the control channel, and what a command does itself when no worker runs: the same
 * functions either way, so the two paths cannot drift apart.
 */
import { z } from 'zod';
import { requireApiCredentials } from '../config.js';
import { ApiError, ErrorCodes, SyncError, errorMessage } from '../errors.js';
import { LOGIN_ENDPOINT } from '../sensoterra/endpoints.js';
import { SYNC_TARGETS, type SyncTarget } from '../job-runtime/registry.js';
import { runJob, type JobDeps, type RunReport } from '../job-runtime/runner.js';
import type { QueryResult } from '../warehouse/query/read-only.js';
import { warehouseStatus, type WarehouseStatus } from './status.js';

export type Handler = (payload: unknown, progress: (p: unknown) => void) => Promise<unknown>;

const syncPayload = z.object({ target: z.enum(Object.keys(SYNC_TARGETS) as [SyncTarget, ...SyncTarget[]]) });

/** Each job of a `sync`: its report, why it failed, or why it was not run (an earlier one failed as it would). */
export type SyncAnswer = (RunReport | { job: string; status: 'failed' | 'not run'; error: string })[];

const backfillPayload = z.object({ from: z.string(), to: z.string(), probe: z.string().optional() });
const queryPayload = z.object({ sql: z.string().min(1) });

export function controlHandlers(deps: JobDeps): Record<string, Handler> {
  return {
    status: (): Promise<WarehouseStatus> => warehouseStatus(deps.db),

    /** A change a command made at Sensoterra: into the warehouse at once, dated exactly. */
    'probe-changed': (payload): Promise<RunReport> =>
      runJob('apply-probe-change', payload, deps, { trigger: 'command' }),

    /** Publish now, as the scheduled export does. */
    export: (): Promise<RunReport> => runJob('export', {}, deps, { trigger: 'command' }),

    /** Read-only SQL on the live warehouse; timestamps travel as ISO-8601 text. */
    async query(payload): Promise<QueryResult> {
      const { sql } = parse(queryPayload, payload, 'query');
      const result = await deps.db.query(sql, {
        timeoutMs: deps.config.queryTimeoutMs,
        memoryMb: deps.config.queryMemoryMb,
      });
      return { columns: result.columns, rows: result.rows }; // already JSON-safe text and numbers (warehouse/query/values.ts)
    },

    /** Historic readings on demand; progress goes back to the command's progress bar. */
    async backfill(payload, progress): Promise<RunReport> {
      const request = parse(backfillPayload, payload, 'backfill');
      return runJob('backfill', request, deps, {
        trigger: 'command',
        onProgress: (done, total) => progress({ done, total }),
      });
    },

    /**
     * One pull (or all, in order) now; a failed one does not stop the others, unless they would fail the same way
     * (refused credentials, an API that cannot be reached): those are not run, and not tried against the API again.
     */
    async sync(payload): Promise<SyncAnswer> {
      const { target } = parse(syncPayload, payload, 'sync');
      requireApiCredentials(deps.config); // every pull needs them: said once, not once per job
      const answer: SyncAnswer = [];
      let stoppedBy: string | undefined;
      for (const job of SYNC_TARGETS[target] ?? []) {
        if (stoppedBy !== undefined) {
          answer.push({ job, status: 'not run', error: `not run: ${stoppedBy} failed, as this would` });
          continue;
        }
        try {
          answer.push(await runJob(job, {}, deps, { trigger: 'command' }));
        } catch (err) {
          answer.push({ job, status: 'failed', error: errorMessage(err) });
          if (failsEveryPull(err)) stoppedBy = job;
        }
      }
      return answer;
    },
  };
}

function parse<S extends z.ZodType>(schema: S, payload: unknown, kind: string): z.infer<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new SyncError(
    ErrorCodes.PAYLOAD_INVALID,
    `${kind}: ${result.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`,
  );
}

/**
 * An API failure every other pull would meet too: credentials refused, a login that failed (every pull logs in the
 * same way: a wrong SENSOTERRA_API_URL answers 404 there), or no answer from the API at all.
 */
function failsEveryPull(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return (
    err.code === ErrorCodes.API_AUTH ||
    err.endpoint === LOGIN_ENDPOINT ||
    (err.code === ErrorCodes.API_UNAVAILABLE && err.status === undefined)
  );
}

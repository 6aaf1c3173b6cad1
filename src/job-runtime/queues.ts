/** The BullMQ queues and Redis keys sensoterra-sync uses, all under QUEUE_PREFIX. */

export const QUEUES = {
  /** scheduled and retried pulls: sync-*, reconcile, export (concurrency 1) */
  jobs: 'jobs',
  /** batches of pushed readings, from receivers to the one writer (concurrency 1) */
  ingest: 'ingest',
  /** requests from commands (sync, query, status, export, backfill, ...) to the running worker */
  control: 'control',
} as const;

/** Set by a running worker every few seconds, with an expiry: its presence means "a worker holds the warehouse". */
export function heartbeatKey(prefix: string): string {
  return `${prefix}:worker:heartbeat`;
}

export const HEARTBEAT_INTERVAL_MS = 2_000;
export const HEARTBEAT_TTL_MS = 10_000;

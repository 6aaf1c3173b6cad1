/** `status [--format text|json]`: worker, queues, schedules with their next runs, last runs, lag, conflicts, sizes. */
import { ErrorCodes, redactUrl, SyncError, UsageError } from '../../errors.js';
import { viaWorkerOrLocally } from '../lazy.js';
import type { QueueStatus, WarehouseStatus } from '../../control/status.js';
import { formatRows } from '../../format/table.js';
import { stringOption, type Command } from '../context.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'worker, queues, schedules and their next runs, last runs, lag, conflicts, warehouse size',
  usage: 'status [--format text|json]',
  options: {
    format: { type: 'string', short: 'f', value: 'FORMAT', help: 'text (default) or json' },
  },
  async run(args, io) {
    const format = stringOption(args, 'format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format ${format}: expected text or json`);
    const config = io.config();
    const { queueStatus } = await import('../../control/status.js');
    const queues = await queueStatus(config);
    // a warehouse that is down (a full disk), or not there, is reported as such, with the queues, rather than
    // failing the command
    const warehouse = await viaWorkerOrLocally<WarehouseStatus>(
      config,
      io.log(),
      'status',
      {},
      { timeoutMs: 60_000 },
    ).catch((err: unknown) => {
      if (err instanceof SyncError && err.code === ErrorCodes.WAREHOUSE_DOWN) return { down: err.message };
      if (err instanceof SyncError && err.code === ErrorCodes.NOT_FOUND) return { missing: err.message };
      throw err;
    });
    if (format === 'json') return io.out(JSON.stringify({ ...queues, warehouse }, null, 2));
    await io.out(describe(queues, warehouse, redactUrl(config.redisUrl)));
  },
};

function describe(
  q: QueueStatus,
  w: WarehouseStatus | { down: string } | { missing: string },
  redisUrl: string,
): string {
  const head = [
    `worker     ${q.worker ? `running (pid ${q.worker.pid} on ${q.worker.host}), warehouse ${q.worker.warehouse}` : 'not running'}`,
    ...(q.worker?.writer.state === 'down'
      ? [`writer     DOWN since ${q.worker.writer.since}: ${q.worker.writer.reason} (pushes wait in Redis)`]
      : []),
    `redis      ${q.redis} at ${redisUrl}`,
    ...Object.entries(q.queues).map(
      ([name, c]) =>
        `queue      ${name.padEnd(8)} ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.failed} failed`,
    ),
    q.redis === 'up'
      ? `ingest     lag ${q.ingestLagS} s (oldest batch waiting for the writer)`
      : `ingest     lag unknown: Redis does not answer (check REDIS_URL)`,
  ];
  if ('down' in w) return [...head, `warehouse  ${w.down}`].join('\n');
  if ('missing' in w) return [...head, `warehouse  ${w.missing}`].join('\n');
  const s = w.sizes;
  const lines = [
    ...head,
    `warehouse  ${w.path} (${(w.fileBytes / 1_048_576).toFixed(1)} MB): ${s.probes} probes (${s.probes_deleted} deleted), ${s.probe_versions} probe versions, ${s.readings} readings`,
    `           newest reading ${show(s.newest_reading)}, newest push received ${show(s.newest_push)}`,
    `           ${s.conflicts} reading conflicts, ${s.rejected_pushes} rejected pushes kept, ${s.raw_pushes} raw pushes kept`,
    '',
    'schedules:',
    q.redis === 'up'
      ? formatRows(['job', 'pattern', 'tz', 'next'], q.schedules as unknown as Record<string, string>[], 'table')
      : 'unknown: they live in Redis, which does not answer',
    '',
    'last runs:',
    formatRows(
      [
        'job',
        'status',
        'finished_at',
        'rows_read',
        'rows_inserted',
        'rows_updated',
        'rows_deleted',
        'conflicts',
        'error',
      ],
      w.lastRuns,
      'table',
    ),
  ];
  return lines.join('\n');
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return value instanceof Date ? value.toISOString() : String(value);
}

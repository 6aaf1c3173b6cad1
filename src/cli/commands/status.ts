/** `status [--format text|json]`: worker, queues, schedules with their next runs, last runs, lag, conflicts, sizes. */
import { redactUrl, UsageError } from '../../errors.js';
import { viaWorkerOrLocally } from '../../control/local.js';
import { queueStatus, type QueueStatus, type WarehouseStatus } from '../../control/status.js';
import { formatRows } from '../../format/table.js';
import { stringOption, type Command } from '../context.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'worker, queues, schedules and their next runs, last runs, lag, conflicts, warehouse size',
  usage: 'status [--format text|json]',
  options: { format: { type: 'string', short: 'f' } },
  async run(args, io) {
    const format = stringOption(args, 'format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format ${format}: expected text or json`);
    const config = io.config();
    const queues = await queueStatus(config);
    const warehouse = await viaWorkerOrLocally<WarehouseStatus>(config, io.log(), 'status', {}, { timeoutMs: 60_000 });
    if (format === 'json') return void (await io.out(JSON.stringify({ ...queues, warehouse }, null, 2)));
    await io.out(describe(queues, warehouse, redactUrl(config.redisUrl)));
  },
};

function describe(q: QueueStatus, w: WarehouseStatus, redisUrl: string): string {
  const s = w.sizes;
  const lines = [
    `worker     ${q.worker ? `running (pid ${q.worker})` : 'not running'}`,
    `redis      ${q.redis} at ${redisUrl}`,
    ...Object.entries(q.queues).map(([name, c]) => `queue      ${name.padEnd(8)} ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.failed} failed`),
    `ingest     lag ${q.ingestLagS} s (oldest batch waiting for the writer)`,
    `warehouse  ${w.path} (${(w.fileBytes / 1_048_576).toFixed(1)} MB): ${s.probes} probes (${s.probes_deleted} deleted), ${s.probe_versions} probe versions, ${s.readings} readings`,
    `           newest reading ${show(s.newest_reading)}, newest push received ${show(s.newest_push)}`,
    `           ${s.conflicts} reading conflicts, ${s.rejected_pushes} rejected pushes kept, ${s.raw_pushes} raw pushes kept`,
    '',
    'schedules:',
    formatRows(['job', 'pattern', 'tz', 'next'], q.schedules as unknown as Record<string, string>[], 'table'),
    '',
    'last runs:',
    formatRows(['job', 'status', 'finished_at', 'rows_read', 'rows_inserted', 'rows_updated', 'rows_deleted', 'conflicts', 'error'], w.lastRuns, 'table'),
  ];
  return lines.join('\n');
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return value instanceof Date ? value.toISOString() : String(value);
}

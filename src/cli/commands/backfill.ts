/** `backfill --from DATE --to DATE [--probe SERIAL]`: historic readings, with a progress bar; resumable. */
import type { RunReport } from '../../job-runtime/runner.js';
import { viaWorkerOrLocally } from '../lazy.js';
import { UsageError } from '../../errors.js';
import { parseInstant } from '../../time.js';
import { ProgressBar } from '../progress.js';
import { stringOption, type Command } from '../context.js';

const BACKFILL_TIMEOUT_MS = 24 * 60 * 60_000;

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'pull historic readings for a date range (all probes, or one), with a progress bar; run again to resume',
  usage:
    'backfill --from DATE --to DATE [--probe SERIAL]   (DATE: 2024-07-01 or 2024-07-01T06:00:00Z; UTC without an offset)',
  options: {
    from: { type: 'string', value: 'DATE', help: 'the first instant to fetch (UTC without an offset)' },
    to: { type: 'string', value: 'DATE', help: 'the instant to fetch up to, not included' },
    probe: { type: 'string', value: 'SERIAL', help: 'only this probe (default: every probe in the warehouse)' },
  },
  async run(args, io) {
    const from = dateOption(stringOption(args, 'from'), 'from');
    const to = dateOption(stringOption(args, 'to'), 'to');
    if (from >= to) throw new UsageError(`--from ${from} must be before --to ${to}`);
    const probe = stringOption(args, 'probe');
    const bar = new ProgressBar('backfill');
    const report = await viaWorkerOrLocally<RunReport>(
      io.config(),
      io.log(),
      'backfill',
      { from, to, probe },
      {
        timeoutMs: BACKFILL_TIMEOUT_MS,
        onProgress: (p) => {
          const { done, total } = p as { done: number; total: number };
          bar.update(done, total);
        },
      },
    );
    await io.out(`backfill  ${report.status}  ${report.summary}  (${(report.durationMs / 1000).toFixed(1)} s)`);
  },
};

/** A day (UTC midnight) or a full ISO-8601 time (UTC without an offset, whatever the host's zone), as ISO-8601 in UTC. */
function dateOption(text: string | undefined, name: string): string {
  if (text === undefined) throw new UsageError(`backfill needs --${name} DATE (e.g. 2024-07-01)`);
  const at = parseInstant(text, { dateOnly: true });
  if (!(at instanceof Date))
    throw new UsageError(
      `--${name} ${text}: expected a date such as 2024-07-01 or 2024-07-01T06:00:00Z (${at.reason})`,
    );
  return at.toISOString();
}

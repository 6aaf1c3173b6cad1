/** A `sync`'s answer as a person reads it: one line per job, what changed or why it failed (`sync` and the demo). */
import type { SyncAnswer } from '../control/handlers.js';
import { redact } from '../secrets.js';

export function formatSyncAnswer(answer: SyncAnswer): string {
  const width = Math.max(...answer.map((r) => r.job.length));
  return answer
    .map((r) =>
      'error' in r && (r.status === 'failed' || r.status === 'not run')
        ? `${r.job.padEnd(width)}  ${r.status.padEnd(9)}  ${redact(String(r.error))}`
        : `${r.job.padEnd(width)}  ${r.status.padEnd(9)}  ${'summary' in r ? r.summary : ''}  (${(('durationMs' in r ? r.durationMs : 0) / 1000).toFixed(1)} s)`,
    )
    .join('\n');
}

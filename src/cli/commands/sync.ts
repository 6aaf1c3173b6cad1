/** `sync <parameters|locations|probes|customers|all>`: one pull now, waits for it, prints what changed. */
import type { SyncAnswer } from '../../control/handlers.js';
import { viaWorkerOrLocally } from '../lazy.js';
import { UsageError } from '../../errors.js';
import { formatSyncAnswer } from '../../format/sync-answer.js';
import { redact } from '../../secrets.js';
import { SYNC_TARGETS } from '../../job-runtime/registry.js';
import { oneLine, type Command } from '../context.js';

const TARGETS = Object.keys(SYNC_TARGETS);
const SYNC_TIMEOUT_MS = 2 * 60 * 60_000;

export const syncCommand: Command = {
  name: 'sync',
  summary: 'run one pull now (through the running worker if there is one), wait for it, print what changed',
  usage: `sync <${TARGETS.join('|')}>`,
  async run(args, io) {
    const [target, ...more] = args.positionals;
    if (target === undefined || more.length > 0) throw new UsageError(`sync needs one target: ${TARGETS.join(', ')}`);
    if (!TARGETS.includes(target)) {
      throw new UsageError(`sync: no target "${target}": expected one of ${TARGETS.join(', ')}`);
    }
    const answer = await viaWorkerOrLocally<SyncAnswer>(
      io.config(),
      io.log(),
      'sync',
      { target },
      { timeoutMs: SYNC_TIMEOUT_MS },
    );
    // what changed on stdout; what failed on stderr, a line each, with the pulls it kept from running
    const ran = answer.filter((r) => r.status !== 'failed' && r.status !== 'not run');
    if (ran.length > 0) await io.out(formatSyncAnswer(ran));
    const failed = answer.filter((r) => r.status === 'failed');
    const notRun = answer.filter((r) => r.status === 'not run').map((r) => r.job);
    // the last failure is the one that kept the rest from running (control/handlers.ts)
    const kept = notRun.length > 0 ? ` (not run, as they would fail the same way: ${notRun.join(', ')})` : '';
    failed.forEach((r, i) => {
      const error = 'error' in r ? oneLine(redact(String(r.error))) : '';
      io.err(`sensoterra-sync: ${r.job} failed: ${error}${i === failed.length - 1 ? kept : ''}`);
    });
    return ran.length === answer.length ? 0 : 1;
  },
};

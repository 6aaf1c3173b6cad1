/** `sync <parameters|locations|probes|customers|all>`: one pull now, waits for it, prints what changed. */
import type { SyncAnswer } from '../../control/handlers.js';
import { viaWorkerOrLocally } from '../lazy.js';
import { UsageError } from '../../errors.js';
import { formatSyncAnswer } from '../../format/sync-answer.js';
import { SYNC_TARGETS } from '../../job-runtime/registry.js';
import type { Command } from '../context.js';

const TARGETS = Object.keys(SYNC_TARGETS);
const SYNC_TIMEOUT_MS = 2 * 60 * 60_000;

export const syncCommand: Command = {
  name: 'sync',
  summary: 'run one pull now (through the running worker if there is one), wait for it, print what changed',
  usage: `sync <${TARGETS.join('|')}>`,
  async run(args, io) {
    const target = args.positionals[0];
    if (target === undefined || !TARGETS.includes(target) || args.positionals.length > 1) {
      throw new UsageError(`sync needs one target: ${TARGETS.join(', ')}`);
    }
    const answer = await viaWorkerOrLocally<SyncAnswer>(
      io.config(),
      io.log(),
      'sync',
      { target },
      { timeoutMs: SYNC_TIMEOUT_MS },
    );
    await io.out(formatSyncAnswer(answer));
    return answer.some((r) => r.status === 'failed') ? 1 : 0;
  },
};

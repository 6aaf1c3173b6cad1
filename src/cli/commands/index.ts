/** Every command, in the order --help lists them. */
import type { Command } from '../context.js';
import { backfillCommand } from './backfill.js';
import { customerCommand } from './customer.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { probeCommand } from './probe.js';
import { queryCommand } from './query.js';
import { replayCommand } from './replay.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';
import { tokenCommand } from './token.js';

export const COMMANDS: Command[] = [
  startCommand,
  syncCommand,
  backfillCommand,
  queryCommand,
  exportCommand,
  statusCommand,
  probeCommand,
  customerCommand,
  tokenCommand,
  replayCommand,
  simulateCommand,
  demoCommand,
];

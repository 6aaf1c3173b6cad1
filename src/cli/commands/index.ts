/** Every command, in the order --help lists them. */
import type { Command } from '../context.js';
import { backfillCommand } from './backfill.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { queryCommand } from './query.js';
import { replayCommand } from './replay.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';

export const COMMANDS: Command[] = [startCommand, syncCommand, backfillCommand, queryCommand, exportCommand, statusCommand, replayCommand, simulateCommand, demoCommand];

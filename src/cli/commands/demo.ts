/** `demo`: the main job on embedded defaults (npm run demo). */
import { runDemo } from '../../service/demo.js';
import type { Command } from '../context.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole pipeline on a bundled simulator, no account needed: syncs, pushes, export, answers',
  usage: 'demo',
  async run(_args, io) {
    await runDemo((text) => io.out(text));
  },
};

/** `demo`: the main job on embedded defaults (npm run demo). */
import type { Command } from '../context.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole pipeline on a bundled simulator, no account needed: syncs, pushes, export, answers',
  usage: 'demo',
  async run(_args, io) {
    const { runDemo } = await import('../../service/demo.js');
    await runDemo((text) => io.out(text));
  },
};

/**
 * A benchmark's steps, each in a child process of its own (so that its peak memory is its own): the child prints
 * "[progress] ..." lines on stderr and one JSON line of figures on stdout (child-steps.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Figures } from './child-steps.js';
import { OtherLoad } from './proc.js';
import type { BenchContext } from './report.js';

export type StepFigures = Figures & { wallSeconds: number; otherCores: number };

/**
 * Runs `script` with `args` in a child process; its "[progress]" lines on stderr go to the bench's progress
 * (prefixed with `label`), the rest is kept for an error. Also the cores other processes used meanwhile: the
 * machine's busy time less the bench's and Redis' (OtherLoad) and less the CPU the child reports for itself.
 */
export function runStep(
  step: { script: string; label: string; args: string[] },
  ctx: BenchContext,
): Promise<StepFigures> {
  const nodeArgs = ctx.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`];
  const other = new OtherLoad(ctx.systemPids);
  const started = performance.now();
  const name = step.args.join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, step.script, ...step.args], {
      signal: ctx.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const stderr: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.startsWith('[progress] ')) ctx.progress(`${step.label}: ${line.slice('[progress] '.length)}`);
      else stderr.push(line);
    });
    child.once('error', (err) => reject(new Error(`${name}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${name}: exited with ${code ?? signal}\n${stderr.slice(-30).join('\n')}`));
        return;
      }
      const figures = JSON.parse(stdout.trim().split('\n').pop()!) as Figures;
      const wallSeconds = (performance.now() - started) / 1_000;
      const cpu = Number(figures.cpuSeconds);
      resolve({ ...figures, wallSeconds, otherCores: Math.max(0, other.cores() - cpu / wallSeconds) });
    });
  });
}

/**
 * A change is shown before it is made, and made only with --yes or a "y" typed at a terminal. Without either, and
 * with no terminal to ask at (a script, a pipe), nothing is sent.
 */
import { createInterface } from 'node:readline/promises';

export type Change = [what: string, from: string, to: string];

/** Where a command speaks: its answer on stdout, a notice on stderr (a command's CommandIO is one). */
export interface Speaker {
  out(text: string): Promise<void>;
  err(text: string): void;
}

export function describeChanges(title: string, changes: Change[]): string {
  const width = Math.max(...changes.map(([what]) => what.length));
  return [title, ...changes.map(([what, from, to]) => `  ${what.padEnd(width)}  ${from} -> ${to}`)].join('\n');
}

export async function confirmed(io: Speaker, yes: boolean, plan: string): Promise<boolean> {
  await io.out(plan);
  if (yes) return true;
  if (!process.stdin.isTTY) {
    io.err('sensoterra-sync: nothing changed: add --yes to apply');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('Apply? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

export function showProfile(profile: { depth: number; soil: string }[] | null | undefined): string {
  return profile && profile.length > 0 ? profile.map((l) => `${l.depth} cm ${l.soil}`).join(', ') : '(none)';
}

export function show(value: unknown): string {
  return value === null || value === undefined ? '(none)' : String(value);
}

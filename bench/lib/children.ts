/**
 * Child Node processes for the benchmarks (the service, the no-op server). Every child is registered, so that the
 * bench can stop all of them at the end, on error, and on Ctrl-C: a benchmark must never leave a server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface StartOptions<T> {
  name: string;
  script: string;
  /** Run `script` as an executable (its `#!` line says how), not with this Node and `nodeArgs`. */
  executable?: boolean;
  args?: string[];
  /** The child's whole environment: nothing of the caller's shell leaks in (no stray QUEUE_PREFIX, no .env). */
  env: Record<string, string>;
  cwd?: string;
  nodeArgs?: string[];
  /** Looks at each output line (stdout and stderr); the child is ready when it returns a value. */
  ready: (line: string) => T | undefined;
  timeoutMs?: number;
}

export interface Child<T> {
  name: string;
  pid: number;
  value: T;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** The last lines the child wrote, to explain a failure. */
  tail(): string;
}

const running = new Set<ChildProcess>();
const TAIL_LINES = 30;

export async function startChild<T>(opts: StartOptions<T>): Promise<Child<T>> {
  const [command, args] = opts.executable
    ? [opts.script, opts.args ?? []]
    : [process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])]];
  const proc = spawn(command, args, {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  void exited.then(() => running.delete(proc));
  const lines: string[] = [];
  const tail = (): string => lines.join('\n');
  try {
    const value = await waitReady(proc, opts, lines, exited);
    return { name: opts.name, pid: proc.pid!, value, tail, stop: (graceMs) => stopProcess(proc, exited, graceMs) };
  } catch (err) {
    await stopProcess(proc, exited, 2_000);
    throw new Error(`${opts.name} did not start: ${(err as Error).message}\n${tail()}`);
  }
}

function waitReady<T>(
  proc: ChildProcess,
  opts: StartOptions<T>,
  lines: string[],
  exited: Promise<number | null>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${opts.timeoutMs ?? 30_000} ms`)),
      opts.timeoutMs ?? 30_000,
    );
    void exited.then((code) => reject(new Error(`exited with code ${code}`)));
    let found = false;
    const onLine = (line: string): void => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      const value = found ? undefined : opts.ready(line);
      if (value === undefined) return;
      found = true;
      clearTimeout(timer);
      resolve(value);
    };
    // both streams are read to the end, always: a child blocked on a full pipe would distort the figures
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
  });
}

async function stopProcess(
  proc: ChildProcess,
  exited: Promise<number | null>,
  graceMs = 20_000,
): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every child still running (used in the bench's `finally` and on signals). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...running].map((proc) => stopProcess(proc, new Promise((r) => proc.once('exit', (code) => r(code))), 5_000)),
  );
}

// Last resort: if the bench process exits abruptly, its children go with it.
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** The value of a pino JSON log line whose `msg` is `msg`, or undefined. */
export function logLine(line: string, msg: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    return entry.msg === msg ? entry : undefined;
  } catch {
    return undefined;
  }
}

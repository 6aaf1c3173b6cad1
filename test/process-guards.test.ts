/**
 * The last line of defence (src/service/process-guards.ts): an error that escapes every handler is a bug of ours. It is
 * logged loudly, with its stack; a rejection leaves the service running, an exception stops it and exits non-zero
 * for the supervisor to restart.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';

const SCRIPT = CLI.replace('src/cli/main.js', 'test/helpers/guarded-process.js');

function run(kind: string): Promise<{ code: number | null; stdout: string; logs: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, kind], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        logs: stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    );
  });
}

describe('an error that escapes every handler', () => {
  it('as a rejection: is logged as a bug with its stack, and the service goes on', async () => {
    const { code, stdout, logs } = await run('rejection');
    expect(stdout).toBe('still running\n');
    expect(code).toBe(0);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      level: 50,
      bug: true,
      msg: 'BUG: an unhandled promise rejection escaped a handler; the service goes on',
      err: { message: 'a rejection nobody handled' },
    });
    expect(String((logs[0]!.err as { stack: string }).stack)).toContain('guarded-process');
  });

  it('as an exception: is logged as a bug, the service is stopped, and the process exits 70', async () => {
    const { code, stdout, logs } = await run('exception');
    expect(stdout).toBe('stopped\n');
    expect(code).toBe(70);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      level: 60,
      bug: true,
      msg: 'BUG: an uncaught exception escaped a handler; stopping the service',
      err: { message: 'an exception nobody caught' },
    });
  });
});

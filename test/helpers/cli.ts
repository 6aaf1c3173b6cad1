/**
 * Runs the built command line (dist/) as a user would, with the environment given (and nothing else of ours):
 * directly (runCli), or as a command line typed into a shell in the project's root (runShell). Either way, nothing
 * it prints may show a configured secret. A command's rules are tested in the test's own process (runCommand: the
 * same code from its arguments to its exit code, without the seconds a new process costs); each command keeps one
 * run through runCli.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLogLevel } from '../../src/cli/context.js';
import { runCommandLine } from '../../src/cli/run.js';
import type { Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { loadConfig } from '../../src/service/load-config.js';

/** The project's root, where a user types `npx sensoterra-sync ...` (and where docs' relative paths start). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SECRET_VARIABLES = ['SENSOTERRA_PASSWORD', 'SENSOTERRA_TOKEN', 'PUSH_SECRET', 'PUSH_HMAC_SECRET'];

/** The secret values a command was given (long enough to search for: the redaction's own rule, src/secrets.ts). */
function secretsIn(env: Record<string, string>): string[] {
  const values = SECRET_VARIABLES.map((name) => env[name]);
  for (const name of ['REDIS_URL', 'SENSOTERRA_API_URL']) {
    try {
      values.push(decodeURIComponent(new URL(env[name] ?? '').password));
    } catch {
      // not a URL: nothing to look for
    }
  }
  return values.filter((value): value is string => value !== undefined && value.length >= 12);
}

export function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return run(process.execPath, [CLI, ...args], `sensoterra-sync ${args[0]}`, env, opts);
}

/** A command line as a user types it (`npx sensoterra-sync query "$(cat ...)"`), run by bash in the project's root. */
export function runShell(
  commandLine: string,
  env: Record<string, string>,
  opts: { timeoutMs?: number } = {},
): Promise<CliResult> {
  return run('bash', ['-c', commandLine], commandLine.slice(0, 80), env, { cwd: ROOT, ...opts });
}

/**
 * `sensoterra-sync <args...>` in this process, with `env` as its whole environment (no .env file): what it printed
 * and its exit code. Its log, when the command logs, is collected with stderr as JSON lines.
 */
export async function runCommand(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let config: Config | undefined;
  let log: Logger | undefined;
  let level = (c: Config): string => c.logLevel;
  const code = await runCommandLine(args, {
    config: () => (config ??= loadConfig(env)),
    log: () => (log ??= createLogger(level((config ??= loadConfig(env))), { write: (line) => (stderr += line) })),
    logFor(command, verbose) {
      level = (c) => commandLogLevel(c.logLevel, command.logsByDefault === true, verbose);
    },
    out: async (text) => void (stdout += text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void (stderr += text.endsWith('\n') ? text : `${text}\n`),
  });
  return { code, stdout, stderr };
}

function run(
  file: string,
  args: string[],
  what: string,
  env: Record<string, string>,
  opts: { cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      // every command the suite runs is checked: no configured secret in anything it printed
      const shown = secretsIn(env).find((secret) => stdout.includes(secret) || stderr.includes(secret));
      if (shown !== undefined)
        reject(new Error(`${what} printed a configured secret (${shown.slice(0, 3)}...): ${stderr.slice(0, 500)}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

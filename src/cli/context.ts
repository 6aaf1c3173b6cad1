/** What every command gets: parsed arguments, configuration (parsed once), a logger, and a way to print. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';

export interface Command {
  name: string;
  summary: string;
  usage: string; // shown by --help, after "sensoterra-sync "
  options?: ParseArgsConfig['options'];
  run(args: CommandArgs, io: CommandIO): Promise<number | void>; // exit code (0 when void)
}

export interface CommandArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface CommandIO {
  config(): Config; // parsed on first use: `--help` needs none
  log(): Logger;
  out(text: string): Promise<void>; // stdout, waiting for a pipe to take it
  err(text: string): void; // stderr, secrets redacted (main.ts)
}

export function parseCommandArgs(command: Command, argv: string[]): CommandArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...command.options }, allowPositionals: true, strict: true });
    return { values: values as CommandArgs['values'], positionals };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see: sensoterra-sync ${command.name} --help)`);
  }
}

export function createIO(): CommandIO {
  let config: Config | undefined;
  let log: Logger | undefined;
  return {
    config: () => (config ??= loadConfig()),
    log: () => (log ??= createLogger((config ??= loadConfig()).logLevel)),
    out: (text) =>
      new Promise((resolve, reject) => {
        process.stdout.write(text.endsWith('\n') ? text : `${text}\n`, (err) => (err ? reject(err) : resolve()));
      }),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function integerOption(args: CommandArgs, name: string, fallback: number, range: { min: number; max: number }): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} ${text}: expected a whole number from ${range.min} to ${range.max}`);
  }
  return value;
}

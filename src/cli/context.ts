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

/**
 * A command's options and positionals, in the order given. An argument is an option only if it looks like one
 * (looksLikeOption): anything else, even starting with `-` (SQL that opens with a `-- comment`, a negative
 * number), is a value, of the option before it or as a positional. An unknown option is a UsageError.
 */
export function parseCommandArgs(command: Command, argv: string[]): CommandArgs {
  const { args, restore } = hideValues(argv);
  try {
    const options = { help: { type: 'boolean', short: 'h' }, ...command.options } satisfies ParseArgsConfig['options'];
    const { values, positionals, tokens } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    refuseRepeated(tokens, options);
    return { values: restoreValues(values, restore), positionals: positionals.map(restore) };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see: sensoterra-sync ${command.name} --help)`);
  }
}

/** An option given twice is a mistake to point out, not one to settle by taking the last (unless it may repeat). */
function refuseRepeated(
  tokens: { kind: string; name?: string }[],
  options: NonNullable<ParseArgsConfig['options']>,
): void {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined || options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new Error(`--${token.name} is given twice: give it once`);
    seen.add(token.name);
  }
}

/**
 * `--name` or `--name=value` (name: letters, digits, dashes) or `-x...` (a short flag: a letter, no whitespace), on
 * one line: an argument of several lines is a value (SQL opening with `--author=...` then a newline, say).
 */
function looksLikeOption(arg: string): boolean {
  return !arg.includes('\n') && (/^--[A-Za-z0-9][A-Za-z0-9-]*(=.*)?$/.test(arg) || /^-[A-Za-z]\S*$/.test(arg));
}

/**
 * node's parseArgs reads every argument starting with `-` as an option. Before it sees them, the ones that only
 * start with a dash are swapped for stand-ins that cannot be typed (a NUL byte never appears in argv), and put
 * back after. Arguments after `--` are positionals already.
 */
function hideValues(argv: string[]): { args: string[]; restore: (arg: string) => string } {
  const hidden = new Map<string, string>();
  const end = argv.indexOf('--');
  const args = argv.map((arg, i) => {
    if ((end !== -1 && i >= end) || !arg.startsWith('-') || arg === '-' || looksLikeOption(arg)) return arg;
    const standIn = `\u0000${i}`;
    hidden.set(standIn, arg);
    return standIn;
  });
  return { args, restore: (arg) => hidden.get(arg) ?? arg };
}

function restoreValues(values: CommandArgs['values'], restore: (arg: string) => string): CommandArgs['values'] {
  const restored = (value: unknown): unknown =>
    typeof value === 'string' ? restore(value) : Array.isArray(value) ? value.map(restored) : value;
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, restored(value)]),
  ) as CommandArgs['values'];
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

export function integerOption(
  args: CommandArgs,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} ${text}: expected a whole number from ${range.min} to ${range.max}`);
  }
  return value;
}

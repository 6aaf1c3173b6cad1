/** What every command gets: parsed arguments, configuration (parsed once), a logger, and a way to print. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';
import { loadConfig } from '../service/load-config.js';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';

export interface Command {
  name: string;
  summary: string;
  usage: string; // shown by --help, after "sensoterra-sync "
  options?: Record<string, OptionSpec>;
  /** The service itself (start): logs at LOG_LEVEL. Every other command prints only its answer unless --verbose. */
  logsByDefault?: boolean;
  run(args: CommandArgs, io: CommandIO): Promise<number | void>; // exit code (0 when void)
}

/** One option: how node's parseArgs reads it, and its line in --help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  value?: string; // what a string option's value is, as --help shows it: DATE, FILE, ID
  help: string;
}

/** Options every command takes. */
const COMMON_OPTIONS: Record<string, OptionSpec> = {
  verbose: { type: 'boolean', short: 'v', help: 'log what happens on stderr, as JSON lines (LOG_LEVEL=debug)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** A command's options followed by the common ones, as --help lists them. */
export function commandOptions(command: Command): [string, OptionSpec][] {
  return Object.entries({ ...command.options, ...COMMON_OPTIONS });
}

/** `--format FORMAT`: an option as it is typed. */
function typed(name: string, spec: OptionSpec): string {
  return spec.type === 'string' ? `--${name} ${spec.value ?? 'VALUE'}` : `--${name}`;
}

/** `-f, --format FORMAT`: its line in --help, with its short form. */
function optionLabel(name: string, spec: OptionSpec): string {
  return spec.short ? `-${spec.short}, ${typed(name, spec)}` : `    ${typed(name, spec)}`;
}

/** The options part of a command's --help: one line each, what it is and what it does. */
export function optionsHelp(command: Command): string {
  const rows = commandOptions(command).map(([name, spec]) => [optionLabel(name, spec), spec.help] as const);
  const width = Math.max(...rows.map(([label]) => label.length));
  return ['options:', ...rows.map(([label, help]) => `  ${label.padEnd(width)}  ${help}`)].join('\n');
}

export interface CommandArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** A terminal for a whole command line: a command's IO, whose log level is set once the command is known. */
export type CommandLineIO = CommandIO & { logFor(command: Command, verbose: boolean): void };

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
  const specs = commandOptions(command);
  // what parseArgs reads of each option (it refuses keys it does not know, and `short: undefined`)
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, { type, short, multiple }] of specs) {
    options[name] = { type, ...(short === undefined ? {} : { short }), ...(multiple ? { multiple } : {}) };
  }
  try {
    const { values, positionals, tokens } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    refuseRepeated(tokens, options);
    return { values: restoreValues(values as CommandArgs['values'], restore), positionals: positionals.map(restore) };
  } catch (err) {
    throw new UsageError(`${command.name}: ${whatWasWrong(err, specs)} (see: sensoterra-sync ${command.name} --help)`);
  }
}

/** node's parseArgs messages, said for this command: the option as typed, and what it takes. */
function whatWasWrong(err: unknown, specs: [string, OptionSpec][]): string {
  const message = (err as Error).message.split('\n')[0]!;
  const code = (err as { code?: string }).code;
  const given = /'([^']+)'/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${given}; its options are ${specs.map(([name, spec]) => typed(name, spec)).join(', ')}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /--([A-Za-z0-9-]+)/.exec(message)?.[1] ?? given;
    const spec = specs.find(([n]) => n === name)?.[1];
    if (spec?.type === 'boolean') return `--${name} takes no value`;
    return `--${name} needs a value (${spec?.value ?? 'VALUE'})`;
  }
  return message;
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

/**
 * The real terminal. Logs go to stderr as JSON lines: for the service (start) at LOG_LEVEL; for every other command
 * only with --verbose, or with LOG_LEVEL set to debug or trace, so that by default a command prints its answer and,
 * on failure, one line.
 */
export function createIO(): CommandLineIO {
  let config: Config | undefined;
  let log: Logger | undefined;
  let level: (c: Config) => string = (c) => c.logLevel;
  return {
    config: () => (config ??= loadConfig()),
    log: () => {
      config ??= loadConfig();
      return (log ??= createLogger(level(config), undefined, config.logFormat));
    },
    logFor(command, verbose) {
      level = (c) => commandLogLevel(c.logLevel, command.logsByDefault === true, verbose);
    },
    out: (text) =>
      new Promise((resolve, reject) => {
        process.stdout.write(text.endsWith('\n') ? text : `${text}\n`, (err) => (err ? reject(err) : resolve()));
      }),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** The level a command logs at: see createIO. */
export function commandLogLevel(configured: string, logsByDefault: boolean, verbose: boolean): string {
  if (configured === 'trace') return 'trace';
  if (verbose) return 'debug';
  if (logsByDefault || configured === 'debug') return configured;
  return 'silent';
}

/** The longest error line a command prints: past it, the rest is left out and counted (the log has it whole). */
const MAX_LINE = 2_000;

/**
 * A message as the one line a command prints: its line breaks (an API's HTML error page, a value typed with a
 * newline) become spaces, and a very long one (an error quoting 1 MiB of SQL) is cut, saying how much was left out.
 */
export function oneLine(text: string): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ');
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE)}... (${line.length - MAX_LINE} more characters)`;
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

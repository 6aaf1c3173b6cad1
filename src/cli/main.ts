#!/usr/bin/env node
/**
 * sensoterra-sync's command line. Each command lives in commands/<name>.ts. Bad arguments and bad configuration
 * exit non-zero with one clear line per problem saying what to fix. Nothing on stderr shows a configured secret.
 */
import { ConfigError, SyncError, UsageError } from '../errors.js';
import { redactWrites } from '../secrets.js';
import { COMMANDS } from './commands/index.js';
import { createIO, optionsHelp, parseCommandArgs, type Command } from './context.js';

const EXIT_USAGE = 2;
const EXIT_FAILED = 1;

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'sensoterra-sync: Sensoterra soil-moisture probe data into a DuckDB warehouse',
    '',
    'usage: sensoterra-sync <command> [options]   (every command has --help)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables (and a .env file); see the README.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [`usage: sensoterra-sync ${command.usage}`, '', command.summary, '', optionsHelp(command)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const io = createIO();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await io.out(help());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command)
      throw new UsageError(`unknown command "${name}": try one of ${COMMANDS.map((c) => c.name).join(', ')}`);
    const args = parseCommandArgs(command, rest);
    io.logFor(command, args.values.verbose === true);
    if (args.values.help) {
      await io.out(commandHelp(command));
      return 0;
    }
    return (await command.run(args, io)) ?? 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) io.err(`sensoterra-sync: configuration: ${problem}`);
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      io.err(`sensoterra-sync: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof SyncError) {
      io.err(`sensoterra-sync: ${err.message} [${err.code}]`);
      return EXIT_FAILED;
    }
    io.err(`sensoterra-sync: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT_FAILED;
  }
}

// error lines, and whatever a library prints there, without the secret values configuration holds (secrets.ts)
redactWrites(process.stderr);
process.exitCode = await main(process.argv.slice(2));
// Everything a command opens it closes; should a library still hold a handle, the command ends all the same.
setTimeout(() => process.exit(), 5_000).unref();

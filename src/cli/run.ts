/**
 * One command line, from its arguments to its exit code, on the terminal it is given: main.ts runs it on the real
 * one; tests run it in their own process on one that collects what it prints (a spawn costs seconds here, so each
 * command has one end-to-end run and its rules are tested this way). Bad arguments and bad configuration exit 2
 * with one clear line per problem saying what to fix; a failure exits 1.
 */
import { ConfigError, ErrorCodes, SyncError, UsageError } from '../errors.js';
import { COMMANDS } from './commands/index.js';
import { oneLine, optionsHelp, parseCommandArgs, type Command, type CommandLineIO } from './context.js';

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

/** Runs `sensoterra-sync <argv...>` on `io`; resolves to its exit code and never throws. */
export async function runCommandLine(argv: string[], io: CommandLineIO): Promise<number> {
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
      for (const problem of err.problems) io.err(`sensoterra-sync: configuration: ${oneLine(problem)}`);
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      io.err(`sensoterra-sync: ${oneLine(err.message)}`);
      return EXIT_USAGE;
    }
    if (err instanceof SyncError) {
      io.err(`sensoterra-sync: ${oneLine(err.message)} [${err.code}]`);
      // a setting to change (a port taken, say) is a mistake in how the command was run, as a bad option is
      return err.code === ErrorCodes.USAGE || err.code === ErrorCodes.CONFIG_INVALID ? EXIT_USAGE : EXIT_FAILED;
    }
    io.err(`sensoterra-sync: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT_FAILED;
  }
}

#!/usr/bin/env node
/**
 * sensoterra-sync's command line. Each command lives in commands/<name>.ts; run.ts takes a command line to its exit
 * code. Nothing on stderr shows a configured secret.
 */
import { redactWrites } from '../secrets.js';
import { createIO } from './context.js';
import { runCommandLine } from './run.js';

// error lines, and whatever a library prints there, without the secret values configuration holds (secrets.ts)
redactWrites(process.stderr);
process.exitCode = await runCommandLine(process.argv.slice(2), createIO());
// Everything a command opens it closes; should a library still hold a handle, the command ends all the same.
setTimeout(() => process.exit(), 5_000).unref();

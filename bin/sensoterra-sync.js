#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
/**
 * `npx sensoterra-sync`: the command line's entry point, run with the settings that keep the long-running service
 * small, as the Docker image sets them (BENCHMARKS.md, sustained-load): two malloc arenas, and a 4 MB young
 * generation per semi-space (`env -S`: GNU coreutils 8.30+, macOS, FreeBSD).
 *
 * It is committed, not built, so that it exists before the first build: npx links a project's own command once,
 * into its cache, and a command that was missing then stays missing for that checkout ("sh: 1: sensoterra-sync: not
 * found", even after a build). When there is no build yet this builds first (`npm run build`, its output kept off
 * stdout), then runs the command line (dist/src/cli/main.js).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = new URL('../dist/src/cli/main.js', import.meta.url);

if (!existsSync(main)) {
  process.stderr.write('sensoterra-sync: no build yet: building it first (npm run build)\n');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0 || !existsSync(main)) {
    process.stderr.write(`sensoterra-sync: the build failed: run \`npm ci && npm run build\` in ${root}, then again\n`);
    process.exit(1);
  }
}
await import(main.href);

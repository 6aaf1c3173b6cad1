/**
 * Before any test file:
 * - the build in dist/ is what the sources say. Tests start the command line and readers from dist/ in processes
 *   of their own, so a stale build would test old code without a word. When a source (src/, jobs/, bench/, test/)
 *   has no output in dist/ or one older than itself, or a configuration changed since, this builds once (`npm run
 *   build`), and a build that fails stops the run with the compiler's output. `.ci/run` builds first, so there it
 *   only checks.
 * - a warehouse with every migration applied, made once per run (again before a rerun in watch mode): the test
 *   stacks and pull benches start from a copy of it (helpers/config.ts, `testPlace(env, { warehouse: 'migrated' })`)
 *   instead of migrating their own. Removed after the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../src/logger.js';
import { Warehouse } from '../src/warehouse/warehouse.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A closed warehouse file with every migration applied, for tests to copy (helpers/config.ts). */
    migratedWarehouse: string;
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['src', 'jobs', 'bench', 'test'];
const CONFIGS = ['tsconfig.json', 'package-lock.json', 'vitest.config.ts'];

/** Every TypeScript file under `dir` (the build compiles each to dist/<same path>.js). */
function sourcesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const modified = (path: string): number => (existsSync(path) ? statSync(path).mtimeMs : 0);

/**
 * Why dist/ is not what the sources say, or undefined when it is: each source must have its own output, written
 * after it (a missing one counts: a shipped build, a renamed file), and no configuration may be newer than the
 * oldest output.
 */
export function staleBecause(root = ROOT): string | undefined {
  if (!existsSync(join(root, 'dist'))) return 'dist/ holds no build';
  const changed = new Set<string>();
  let oldestOutput = Infinity;
  for (const dir of SOURCES) {
    for (const source of sourcesUnder(join(root, dir))) {
      const output = modified(join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js')));
      oldestOutput = Math.min(oldestOutput, output);
      if (output < modified(source)) changed.add(dir);
    }
  }
  for (const file of CONFIGS) if (modified(join(root, file)) > oldestOutput) changed.add(file);
  return changed.size > 0 ? `${[...changed].join(', ')} changed since the last build` : undefined;
}

function build(): void {
  const reason = staleBecause();
  if (reason === undefined) return;
  console.log(`building dist/ before the tests: ${reason}`);
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`the build failed, so no test would run what the sources say:\n${build.stdout}${build.stderr}`);
  }
}

/** A closed warehouse with every migration applied, whole in its one file, in a folder of its own. */
async function migratedWarehouse(): Promise<{ dir: string; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-sync-migrated-'));
  const path = join(dir, 'warehouse.duckdb');
  await (await Warehouse.open(path, { memoryLimit: '256MB', threads: 1 }, createLogger('silent'))).close();
  if (existsSync(`${path}.wal`)) throw new Error(`the migrated warehouse ${path} was closed with a WAL beside it`);
  return { dir, path };
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  // vitest runs a global setup for every project of the run and for the root one, whose provided values every
  // project reads: once is enough
  if (!project.isRootProject()) return undefined;
  build();
  let made = await migratedWarehouse();
  project.provide('migratedWarehouse', made.path);
  // in watch mode a rerun may follow an edited migration: a copy of the old template would then be refused
  project.onTestsRerun(async () => {
    rmSync(made.dir, { recursive: true, force: true });
    made = await migratedWarehouse();
    project.provide('migratedWarehouse', made.path);
  });
  return () => rmSync(made.dir, { recursive: true, force: true });
}

/**
 * The DuckDB engines the export is read with (test/engines/package.json), installed from npm by the test that
 * needs them rather than by `npm ci`: they are seven engines, some 700 MB, that nothing but that test uses, and
 * their platform packages are not all on every registry (a lock file listing them breaks `npm ci` there). They go
 * to node_modules/.cache/, once: a later run finds them installed. When they cannot be installed (no registry),
 * the caller is told why; under CI=true that is a failure, not a skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './cli.js';

const MANIFEST = join(ROOT, 'test/engines/package.json');
const ENGINES_DIR = join(ROOT, 'node_modules/.cache/sensoterra-sync-engines');

/** Installs the engines unless the same list is installed already; the reason when that cannot be done. */
export function installEngines(): { installed: true } | { unavailable: string } {
  const wanted = readFileSync(MANIFEST, 'utf8');
  const manifest = join(ENGINES_DIR, 'package.json');
  const aliases = Object.keys((JSON.parse(wanted) as { dependencies: Record<string, string> }).dependencies);
  const present =
    existsSync(manifest) &&
    readFileSync(manifest, 'utf8') === wanted &&
    aliases.every((alias) => existsSync(join(ENGINES_DIR, 'node_modules', alias, 'package.json')));
  if (present) return { installed: true };
  mkdirSync(ENGINES_DIR, { recursive: true });
  writeFileSync(manifest, wanted);
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts'], {
    cwd: ENGINES_DIR,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (npm.status === 0) return { installed: true };
  writeFileSync(manifest, ''); // not installed: the next run tries again
  return {
    unavailable: `npm install of the DuckDB engines in ${ENGINES_DIR} failed: ${(npm.stderr || npm.error?.message || '').trim().split('\n').slice(-3).join(' ')}`,
  };
}

/** The file a reader loads for an engine: the package's main module, or a file inside it. */
export function engineModule(alias: string, file?: string): string {
  return createRequire(join(ENGINES_DIR, 'package.json')).resolve(file === undefined ? alias : `${alias}/${file}`);
}

/**
 * Before any test file: the build in dist/ is what the sources say. Tests start the command line and readers from
 * dist/ in processes of their own, so a stale build would test old code without a word. When any source (src/,
 * jobs/, bench/, test/, a tsconfig) is newer than everything in dist/, or dist/ is missing, this builds once, and a
 * build that fails stops the run with the compiler's output. `.ci/run` builds first, so there it only checks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['src', 'jobs', 'bench', 'test'];
const CONFIGS = ['tsconfig.json', 'package-lock.json'];

/** The newest modification time of a file under `dir` whose name passes `keep` (0 when there is none). */
function newest(dir: string, keep: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && keep(entry.name)) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Which inputs are newer than the build, or undefined when it is up to date. */
export function staleBecause(root = ROOT): string | undefined {
  const built = newest(join(root, 'dist'), (name) => name.endsWith('.js'));
  if (built === 0) return 'dist/ holds no build';
  const changed = [
    ...SOURCES.filter((dir) => newest(join(root, dir), (name) => name.endsWith('.ts')) > built),
    ...CONFIGS.filter((file) => existsSync(join(root, file)) && statSync(join(root, file)).mtimeMs > built),
  ];
  return changed.length > 0 ? `${changed.join(', ')} changed since the last build` : undefined;
}

export default function setup(): void {
  const reason = staleBecause();
  if (reason === undefined) return;
  console.log(`building dist/ before the tests: ${reason}`);
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`the build failed, so no test would run what the sources say:\n${build.stdout}${build.stderr}`);
  }
}

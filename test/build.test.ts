/**
 * The builds: what is shipped (tsconfig.build.json, the Docker image's) holds the service and its jobs and nothing
 * of the tests or benchmarks, and starts; and a build older than its sources is never what the tests run
 * (global-setup.ts rebuilds it first).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { staleBecause } from './global-setup.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the shipped build', () => {
  it('holds src/ and jobs/ only, and its command line starts', () => {
    // inside the project, so that the build finds node_modules and sql/ as an installed one does
    const out = mkdtempSync(join(ROOT, '.ship-build-'));
    made.push(out);
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out],
      { encoding: 'utf8' },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['jobs', 'src']);
    const help = spawnSync(process.execPath, [join(out, 'src/cli/main.js'), '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^sensoterra-sync: /);
  });
});

describe('`npx sensoterra-sync` before the first build', () => {
  /**
   * A project of its own (a fresh npx cache entry, keyed by its path) with our committed entry point and a build
   * that writes a command line printing its arguments: what npx does with a checkout that was never built.
   */
  function unbuiltProject(build: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'npx-first-'));
    made.push(dir);
    const name = `npx-first-${randomBytes(4).toString('hex')}`;
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(ROOT, 'bin/sensoterra-sync.js'), join(dir, 'bin', `${name}.js`));
    chmodSync(join(dir, 'bin', `${name}.js`), 0o755);
    const pkg = { name, version: '1.0.0', type: 'module', bin: { [name]: `bin/${name}.js` }, scripts: { build } };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    return dir;
  }
  const npx = (dir: string, ...args: string[]) =>
    spawnSync('npx', [basename(readdirSync(join(dir, 'bin'))[0]!, '.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, npm_config_yes: 'true', npm_config_update_notifier: 'false' },
    });
  const writesMain =
    "node -e \"const f=require('node:fs');f.mkdirSync('dist/src/cli',{recursive:true});" +
    "f.writeFileSync('dist/src/cli/main.js','console.log(\\'ran\\', ...process.argv.slice(2))')\"";

  it('builds first, saying so on stderr only, runs the command, and works every time after', () => {
    const dir = unbuiltProject(writesMain);
    const first = npx(dir, 'status', '--format', 'json');
    expect(first.stderr).toBe('sensoterra-sync: no build yet: building it first (npm run build)\n');
    expect(first.stdout).toBe('ran status --format json\n');
    expect(first.status).toBe(0);
    const again = npx(dir, 'query', 'SELECT 1');
    expect([again.stdout, again.stderr, again.status]).toEqual(['ran query SELECT 1\n', '', 0]);
  });

  it('runs the command line with the settings that keep the service small: two malloc arenas, a 4 MB semi-space', () => {
    const printsRuntime =
      "node -e \"const f=require('node:fs');f.mkdirSync('dist/src/cli',{recursive:true});" +
      "f.writeFileSync('dist/src/cli/main.js','console.log(process.env.MALLOC_ARENA_MAX, process.execArgv.join(\\' \\'))')\"";
    const dir = unbuiltProject(printsRuntime);
    expect(npx(dir, 'start').stdout).toBe('2 --max-semi-space-size=4\n');
  });

  it('says in one line what to run when the build fails', () => {
    const dir = unbuiltProject('node -e "process.exit(3)"');
    const first = npx(dir, '--help');
    expect(first.stderr.split('\n').at(-2)).toBe(
      `sensoterra-sync: the build failed: run \`npm ci && npm run build\` in ${dir}/, then again`,
    );
    expect(first.status).toBe(1);
  });
});

describe('a build older than its sources', () => {
  /** A project folder with one source and one built file, each last changed at the time given (seconds). */
  function project(sourceAt: number, builtAt: number): string {
    const root = mkdtempSync(join(tmpdir(), 'sensoterra-build-'));
    made.push(root);
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dist/src'), { recursive: true });
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'dist/src/a.js'), 'export const a = 1;\n');
    utimesSync(join(root, 'src/a.ts'), sourceAt, sourceAt);
    utimesSync(join(root, 'dist/src/a.js'), builtAt, builtAt);
    return root;
  }

  it('is stale, naming what changed; one newer than them is not', () => {
    expect(staleBecause(project(2_000, 1_000))).toBe('src changed since the last build');
    expect(staleBecause(project(1_000, 2_000))).toBeUndefined();
  });

  it('is stale when one source has no output of its own, however new the others are (a shipped build, a new file)', () => {
    const root = project(1_000, 2_000);
    writeFileSync(join(root, 'src/b.ts'), 'export const b = 1;\n');
    utimesSync(join(root, 'src/b.ts'), 500, 500);
    expect(staleBecause(root)).toBe('src changed since the last build');
  });

  it('is missing when dist/ holds nothing built', () => {
    const root = project(1_000, 2_000);
    rmSync(join(root, 'dist'), { recursive: true });
    expect(staleBecause(root)).toBe('dist/ holds no build');
  });
});

/**
 * The builds: what is shipped (tsconfig.build.json, the Docker image's) holds the service and its jobs and nothing
 * of the tests or benchmarks, and starts; and a build older than its sources is never what the tests run
 * (global-setup.ts rebuilds it first).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('the development build', () => {
  it('makes the command line executable, as `npx sensoterra-sync` runs it', () => {
    // its owner may run it: what npx needs (npx itself sets the mode to what the umask allows, 0700 under umask 077)
    expect(statSync(join(ROOT, 'dist/src/cli/main.js')).mode & 0o100).toBe(0o100);
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

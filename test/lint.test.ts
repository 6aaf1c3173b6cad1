/**
 * The lint set-up (`npm run lint`: oxlint with the type-aware rules of oxlint-tsgolint, .oxlintrc.json, then oxfmt's
 * format check, .oxfmtrc.json) catches what it is there for. Each case writes a small module into a fresh folder
 * inside the project, with a tsconfig.json that extends the project's (so the file is linted with our compiler
 * options and our lint config), lints it, and removes it. The folder starts with a dot at the project root: no tsconfig include, vitest include or build input
 * sees it, so a build or test run beside this one is not disturbed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OXLINT = join(ROOT, 'node_modules/oxlint/bin/oxlint');
const OXFMT = join(ROOT, 'node_modules/oxfmt/bin/oxfmt');

let fixture: string | undefined;
afterEach(() => {
  if (fixture) rmSync(fixture, { recursive: true, force: true });
  fixture = undefined;
});

/** A fresh fixture folder holding `files`, linted under the project's compiler options. */
function writeFixture(files: Record<string, string>): string {
  fixture = mkdtempSync(join(ROOT, '.lint-fixture-'));
  writeFileSync(join(fixture, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts'] }));
  // imported, so that the promise's type comes from another module: only a type-aware linter knows it
  writeFileSync(
    join(fixture, 'later.ts'),
    'export async function later(): Promise<number> {\n  return Promise.resolve(1);\n}\n',
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(fixture, name), text);
  return fixture;
}

/** Lints one file as `npm run lint` does (the project's config), and gives the exit code and each finding. */
function lint(file: string): { status: number | null; findings: string[]; output: string } {
  const run = spawnSync(
    process.execPath,
    [OXLINT, '-c', join(ROOT, '.oxlintrc.json'), '--format', 'unix', relative(ROOT, file)],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const output = run.stdout + run.stderr;
  // unix format: path:line:column: message [Error/plugin(rule)]
  const findings = [...output.matchAll(/^(.+?):(\d+):\d+: .*\[(?:Error|Warning)\/(.+)\]$/gm)].map(
    ([, path, line, rule]) => `${path!.split('/').pop()}:${line} ${rule}`,
  );
  return { status: run.status, findings, output };
}

describe('npm run lint', () => {
  it('fails on a floating promise, naming no-floating-promises, and passes once it is awaited', () => {
    const dir = writeFixture({
      'bad.ts': "import { later } from './later.js';\n\nexport function run(): void {\n  later();\n}\n",
      'good.ts':
        "import { later } from './later.js';\n\nexport async function run(): Promise<void> {\n  await later();\n}\n",
    });
    const bad = lint(join(dir, 'bad.ts'));
    expect(bad.status, bad.output).toBe(1);
    expect(bad.findings, bad.output).toEqual(['bad.ts:4 typescript(no-floating-promises)']);
    const good = lint(join(dir, 'good.ts'));
    expect(good.status, good.output).toBe(0);
    expect(good.findings, good.output).toEqual([]);
  });

  it('fails on a switch that misses a member of a union, naming switch-exhaustiveness-check', () => {
    const body = (cases: string): string =>
      `export function size(unit: 'B' | 'KB' | 'MB'): number {\n  switch (unit) {\n${cases}  }\n}\n`;
    const dir = writeFixture({
      'bad.ts': body("    case 'B':\n      return 1;\n    case 'KB':\n      return 1024;\n"),
      'good.ts': body(
        "    case 'B':\n      return 1;\n    case 'KB':\n      return 1024;\n    case 'MB':\n      return 1_048_576;\n",
      ),
    });
    const bad = lint(join(dir, 'bad.ts'));
    expect(bad.status, bad.output).toBe(1);
    expect(bad.findings, bad.output).toEqual(['bad.ts:2 typescript(switch-exhaustiveness-check)']);
    const good = lint(join(dir, 'good.ts'));
    expect(good.status, good.output).toBe(0);
  });

  it('fails on a file that is not formatted, naming it, and passes once `npm run format` has rewritten it', () => {
    const dir = writeFixture({ 'messy.ts': 'export const answer   =  {a:1,b:"two"}\n' });
    const check = (): { status: number | null; output: string } => {
      const run = spawnSync(
        process.execPath,
        [OXFMT, '-c', join(ROOT, '.oxfmtrc.json'), '--check', relative(ROOT, join(dir, 'messy.ts'))],
        { cwd: ROOT, encoding: 'utf8' },
      );
      return { status: run.status, output: run.stdout + run.stderr };
    };
    const before = check();
    expect(before.status, before.output).toBe(1);
    expect(before.output).toContain('messy.ts');
    const format = spawnSync(
      process.execPath,
      [OXFMT, '-c', join(ROOT, '.oxfmtrc.json'), relative(ROOT, join(dir, 'messy.ts'))],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(format.status, format.stdout + format.stderr).toBe(0);
    expect(readFileSync(join(dir, 'messy.ts'), 'utf8')).toBe("export const answer = { a: 1, b: 'two' };\n");
    const after = check();
    expect(after.status, after.output).toBe(0);
  });
});

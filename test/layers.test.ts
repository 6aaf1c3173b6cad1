/**
 * The layers of the code, top to bottom, as the README's "How it is built" lists them: a module may import modules
 * of its own layer or of a layer below it, never one above. Reading a push from its arrival (src/receiver/) to its
 * reading being queryable (src/warehouse/) therefore never needs a look back up the list, and jobs/ and the rest
 * of src/ cannot import each other both ways (the job runtime's registry and runner sit above jobs/, the contract
 * a job implements, src/job-runtime/job.ts, below).
 *
 * Type-only imports count too: `import type` is erased from the build, so it cannot make an ESM cycle, but it is a
 * dependency of the code all the same (a change to the type changes its importers), and an upward one is where a
 * cycle starts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Top to bottom. An entry is a folder (ending in /) or a file; a module belongs to its longest matching entry. */
const LAYERS: readonly (readonly string[])[] = [
  ['src/cli/'],
  ['src/service/'],
  ['src/ui/'],
  ['src/format/', 'src/manage/'],
  ['src/receiver/'],
  ['src/control/'],
  ['src/ingest/'],
  ['src/job-runtime/'],
  ['jobs/'],
  ['src/sync/'],
  ['src/job-runtime/job.ts'],
  ['src/export/'],
  ['src/warehouse/'],
  ['src/sensoterra/', 'src/simulator/', 'src/dev/'],
  ['src/metrics/'],
  ['src/config.ts'],
  ['src/push/', 'src/readings/'],
  [
    'src/errors.ts',
    'src/logger.ts',
    'src/secrets.ts',
    'src/time.ts',
    'src/paths.ts',
    'src/redis.ts',
    'src/http-server.ts',
    'src/native-memory.ts',
    'src/job-runtime/queues.ts',
    'src/job-runtime/schedule-check.ts',
  ],
];

/** Every .ts file under the folder, as a path from the project root. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/**
 * The relative specifiers a module imports: static imports and re-exports (type-only ones included, over several
 * lines too) and dynamic `import('...')`. An import clause holds no quote, semicolon, parenthesis or `=`, which
 * keeps a match from running past its own statement.
 */
function importsOf(source: string): string[] {
  const statics = source.matchAll(/^(?:import|export)\s+(?:[^;'"()=]*?\s+from\s+)?['"]([^'"]+)['"]/gm);
  const dynamics = source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g);
  return [...statics, ...dynamics].map((m) => m[1]!).filter((specifier) => specifier.startsWith('.'));
}

/** The project path an import resolves to (`../x.js` is compiled from `../x.ts`). */
function resolved(file: string, specifier: string): string {
  return relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts');
}

function layerOf(file: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach((entries, layer) => {
    for (const entry of entries) {
      const matches = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (matches && entry.length > (best?.length ?? -1)) best = { layer, length: entry.length };
    }
  });
  return best?.layer;
}

const MODULES = [...sourcesUnder('src'), ...sourcesUnder('jobs')].sort();

describe('layers: no import points back up the list', () => {
  it('every module of src/ and jobs/ belongs to a layer', () => {
    expect(MODULES.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it('every import goes to the same layer or one below', () => {
    const upward: string[] = [];
    for (const file of MODULES) {
      for (const specifier of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
        const target = resolved(file, specifier);
        const [from, to] = [layerOf(file), layerOf(target)];
        if (from !== undefined && to !== undefined && to < from) upward.push(`${file} imports ${specifier}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the README lists these layers, in this order', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## How it is built');
    const section = readme.slice(start, readme.indexOf('\n### ', start));
    const listed = [...section.matchAll(/^\d+\. ([^—]+?) — /gm)].map((m) =>
      [...m[1]!.matchAll(/`([^`]+)`/g)].map((path) => path[1]!),
    );
    expect(listed).toEqual(LAYERS);
  });

  it('finds an import however it is written', () => {
    const source = [
      "import { a } from '../a.js';",
      "import type {\n  B,\n  C,\n} from './b.js';",
      "export * from '../c.js';",
      "import './d.js';",
      "const e = await import('../e.js');",
      "import { z } from 'zod';",
      "export const f = 'g';",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(['../a.js', '../c.js', '../e.js', './b.js', './d.js']);
  });
});

/**
 * A job is declared in its own file in jobs/, and only there: the registry, `sync`'s targets, the schedules and
 * their SCHEDULE_* variables are derived from the declarations. These are the promises that derivation keeps:
 * every file is a registered job named after its file, and what comes out is what interface.md documents.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JOBS, SCHEDULED_JOBS, SYNC_TARGETS } from '../src/job-runtime/registry.js';
import { loadConfig } from '../src/service/load-config.js';

const JOBS_DIR = fileURLToPath(new URL('../jobs/', import.meta.url));

describe('jobs: declared in their files', () => {
  it('every file in jobs/ is a registered job, named after its file', async () => {
    const files = readdirSync(JOBS_DIR).filter((name) => name.endsWith('.ts'));
    for (const file of files) {
      const job = ((await import(pathToFileURL(join(JOBS_DIR, file)).href)) as { default: { name: string } }).default;
      expect(job.name, `jobs/${file}`).toBe(file.replace(/\.ts$/, ''));
      expect(JOBS[job.name], `jobs/${file} is not in src/job-runtime/registry.ts`).toBe(job);
    }
    expect(Object.keys(JOBS).sort()).toEqual(files.map((file) => file.replace(/\.ts$/, '')).sort());
  });

  it('the schedules are the variables and default patterns interface.md documents', () => {
    expect(SCHEDULED_JOBS).toEqual({
      'sync-parameters': { variable: 'SCHEDULE_PARAMETERS', default: '0 3 * * *', callsApi: true },
      'sync-locations': { variable: 'SCHEDULE_LOCATIONS', default: '0 * * * *', callsApi: true },
      'sync-probes': { variable: 'SCHEDULE_PROBES', default: '*/15 * * * *', callsApi: true },
      'sync-customers': { variable: 'SCHEDULE_CUSTOMERS', default: '30 * * * *', callsApi: true },
      reconcile: { variable: 'SCHEDULE_RECONCILE', default: '15 * * * *', callsApi: true },
      export: { variable: 'SCHEDULE_EXPORT', default: '*/10 * * * *', callsApi: false },
    });
  });

  it('a declared schedule variable is read by loadConfig, and `off` switches its job off', () => {
    const config = loadConfig({ SCHEDULE_PROBES: '*/20 * * * *', SCHEDULE_EXPORT: 'off' });
    expect(config.schedules.patterns['sync-probes']).toBe('*/20 * * * *');
    expect(config.schedules.patterns.export).toBeNull();
    expect(Object.keys(config.schedules.patterns).sort()).toEqual(Object.keys(SCHEDULED_JOBS).sort());
  });

  it('sync names the targets interface.md documents; `all` pulls what probes refer to before the probes', () => {
    expect(Object.keys(SYNC_TARGETS)).toEqual(['parameters', 'locations', 'probes', 'customers', 'all']);
    expect(SYNC_TARGETS).toEqual({
      parameters: ['sync-parameters'],
      locations: ['sync-locations'],
      probes: ['sync-probes'],
      customers: ['sync-customers'],
      all: ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'],
    });
  });
});

import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Files whose outcome could depend on the host's time zone: they run in Australia/Adelaide (+09:30, +10:30 in
 * summer: a half-hour offset with daylight saving, far from UTC), every other file in UTC. A time read in the host's
 * zone instead of UTC shows up there as a failure (their expectations are written in UTC, where such a mistake is
 * invisible: Adelaide is the stricter of the two). They ran in both zones before (issue 14), at a quarter of the
 * suite's CPU. Child processes the tests start inherit the zone.
 */
const TIME_SENSITIVE = [
  'test/time.test.ts',
  'test/time-paths.test.ts',
  'test/push-format.test.ts',
  'test/push-receiver.test.ts',
  'test/push-ingest.test.ts',
  'test/sync-probes.test.ts',
  'test/gaps.test.ts',
  'test/views.test.ts',
  'test/examples.test.ts',
  'test/query-types.test.ts',
  'test/export.test.ts',
  'test/export-parquet.test.ts',
  'test/export-incremental.test.ts',
  'test/export-engines.test.ts',
  'test/simulator.test.ts',
];

/**
 * The `unit` project: files whose tests run in the test's own process, on real DuckDB files, Redis and the
 * simulator, but start no other process and no whole service (`npm run test:unit`, seconds). Everything else is
 * `e2e`: the command line run from dist/, the service as a whole, a private redis-server, crashes and restarts. A
 * new file is e2e until it is listed here.
 */
const UNIT = [
  'test/client.test.ts',
  'test/days.test.ts',
  'test/errors.test.ts',
  'test/export-parquet.test.ts',
  'test/history-property.test.ts',
  'test/jobs.test.ts',
  'test/layers.test.ts',
  'test/migrations.test.ts',
  'test/push-format.test.ts',
  'test/push-fuzz.test.ts',
  'test/push-receiver.test.ts',
  'test/simulator-client-compat.test.ts',
  'test/simulator.test.ts',
  'test/stage-columns.test.ts',
  'test/sync-catalogs.test.ts',
  'test/sync-faults.test.ts',
  'test/sync-probes.test.ts',
  'test/time.test.ts',
];

const zoneSensitive = (file: string): boolean => TIME_SENSITIVE.includes(file);

/**
 * How many files run at a time, and when. Much of an e2e file's time is spent waiting (a process starting, a lock
 * expiring, Redis), so more of them run at a time than there are cores; each one more costs CPU of its own (its
 * worker process, tests polling for longer while they share the cores). On this 2-core machine, from a fresh clone
 * (no durations cached, as in CI): 3 at a time took 157 s, 4 took 140-147 s, 5 took 138-143 s for the whole suite
 * (issue 14). A unit file mostly computes: 3 at a time took 19.4 s and 19.6 s, 2 took 20.8 s and 20.5 s, 4 took
 * 22.6 s and 20.0 s (each worker process it starts is a second of CPU). vitest runs projects of one `groupOrder` side
 * by side only when they share their number of workers, so the unit files run first, then the e2e files: the whole
 * suite took 116 s and 119 s so, against 115 s and 115 s with four at a time throughout; `npm run test:unit` 18.7 s
 * and 16.7 s. No test may depend on the machine's speed, so a busier machine must not fail one.
 */
const UNIT_FILES = { groupOrder: 0, maxWorkers: 3 };
const E2E_FILES = { groupOrder: 1, maxWorkers: 4 };

/** A project of the files in `include` but those in `exclude`, and never a zone-sensitive one outside Adelaide. */
function project(
  name: string,
  include: string[],
  exclude: string[],
  zone: 'UTC' | 'Australia/Adelaide',
  run: { groupOrder: number; maxWorkers: number },
): TestProjectInlineConfiguration {
  const zoned = zone === 'UTC' ? TIME_SENSITIVE : [];
  return {
    extends: true,
    test: {
      name,
      include,
      exclude: [...configDefaults.exclude, ...exclude, ...zoned],
      env: { TZ: zone },
      maxWorkers: run.maxWorkers,
      sequence: { groupOrder: run.groupOrder },
    },
  };
}

export default defineConfig({
  test: {
    // builds dist/ first when the sources are newer (the CLI tests run it): never a stale build under test; and
    // migrates the warehouse the test stacks start from a copy of
    globalSetup: ['test/global-setup.ts'],
    // after each test file: fails it if it left a Redis connection, DuckDB file, server or child process open.
    // 'stack' (vitest's default, named because the check relies on it) runs that afterAll after the file's own.
    setupFiles: ['test/each-file.ts', 'test/leak-check.ts'],
    sequence: { hooks: 'stack' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // each project's number of files at a time: UNIT_FILES and E2E_FILES above
    pool: 'forks',
    // a worker process runs file after file, each file's own module graph imported once per worker rather than once
    // per file: 333 s instead of 395 s for the whole suite, and 15% less CPU, on a 2-core machine (issue 14). What
    // src/ remembers per process (the secrets to redact) test/each-file.ts resets before each file; no test mocks a
    // module, fakes a timer or the clock, or sets process.env (.oxlintrc.json's override for test/ refuses vi.mock,
    // vi.useFakeTimers, vi.setSystemTime, vi.stubEnv and the like); each file gets its own warehouse, queue prefix
    // and servers, and the leak check still runs after each file. A worker serves one project only, so every file
    // in an Adelaide worker imports its modules in Adelaide.
    isolate: false,
    // an unhandled rejection or uncaught exception anywhere in a test file fails the run (vitest's default, kept)
    dangerouslyIgnoreUnhandledErrors: false,
    // `unit` and `e2e` in UTC, and each one's zone-sensitive files in Adelaide (`--project 'unit*'` runs both units)
    projects: [
      project('unit', UNIT, [], 'UTC', UNIT_FILES),
      project('unit-adelaide', UNIT.filter(zoneSensitive), [], 'Australia/Adelaide', UNIT_FILES),
      project('e2e', ['test/**/*.test.ts'], UNIT, 'UTC', E2E_FILES),
      project(
        'e2e-adelaide',
        TIME_SENSITIVE.filter((f) => !UNIT.includes(f)),
        [],
        'Australia/Adelaide',
        E2E_FILES,
      ),
    ],
  },
});

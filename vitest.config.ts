import { defineConfig } from 'vitest/config';

/**
 * Files whose outcome could depend on the host's time zone: they run twice, in UTC and in Australia/Adelaide
 * (+09:30, +10:30 in summer: a half-hour offset with daylight saving, far from UTC). A time read in the host's zone
 * instead of UTC shows up there as a failure. Child processes the tests start inherit the zone.
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
  'test/simulator.test.ts',
];

export default defineConfig({
  test: {
    // builds dist/ first when the sources are newer (the CLI tests run it): never a stale build under test
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // test files share a 2-core machine with DuckDB and Redis: a few at a time keeps timings sane
    maxWorkers: 2,
    pool: 'forks',
    // an unhandled rejection or uncaught exception anywhere in a test file fails the run (vitest's default, kept)
    dangerouslyIgnoreUnhandledErrors: false,
    projects: [
      { extends: true, test: { name: 'utc', include: ['test/**/*.test.ts'], env: { TZ: 'UTC' } } },
      { extends: true, test: { name: 'adelaide', include: TIME_SENSITIVE, env: { TZ: 'Australia/Adelaide' } } },
    ],
  },
});

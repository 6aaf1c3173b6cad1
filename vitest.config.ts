import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // test files share a 2-core machine with DuckDB and Redis: a few at a time keeps timings sane
    maxWorkers: 2,
    pool: 'forks',
  },
});

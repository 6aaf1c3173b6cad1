/**
 * Runs around every test file (vitest `setupFiles`): what is open when the file starts is the baseline; after the
 * file's own hooks have run, a Redis connection, DuckDB file, server, TCP connection or child process that is still
 * open fails the file, naming it and the code that created it. vitest.config.ts sets `sequence.hooks: 'stack'`, so
 * this afterAll, registered before the file's, runs after them.
 */
import { afterAll } from 'vitest';
import { expectNoLeaks, openResources, recordOrigins } from './helpers/leaks.js';

recordOrigins();
// taken before the test file is imported: a file that opens something at its top level is held to it too
const baseline = openResources();

afterAll(async () => {
  await expectNoLeaks(baseline);
});

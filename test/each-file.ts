/**
 * Runs before every test file (vitest `setupFiles`, ahead of leak-check.ts): what a process of its own per file gave
 * for free, now that a worker runs file after file (vitest.config.ts, `isolate: false`). The secrets an earlier
 * file's configurations named are forgotten: its PUSH_SECRET=short must not turn this file's "cut short" into
 * "cut [redacted]".
 */
import { forgetSecrets } from '../src/secrets.js';

forgetSecrets();

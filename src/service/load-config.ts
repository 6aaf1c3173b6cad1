/**
 * The configuration a run of sensoterra-sync starts with: src/config.ts's variables, plus the schedule variable of
 * every job that declares one in jobs/ (SCHEDULE_PROBES, ...). It lives here, above the jobs, because src/config.ts
 * sits below them: a job reads the Config, so config.ts cannot import the jobs without a cycle.
 */
import { environment, parseConfig, type Config } from '../config.js';
import { SCHEDULED_JOBS } from '../job-runtime/registry.js';

/** Parses and validates the environment (and `.env`); throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = environment()): Config {
  return parseConfig(env, SCHEDULED_JOBS);
}

/**
 * Job schedules, upserted idempotently by the worker at start-up from one place (the SCHEDULE_* patterns and
 * SCHEDULE_TZ in config; each job declares its variable and default pattern in jobs/), as BullMQ job schedulers.
 * A schedule no longer configured (switched off, or a job that no longer exists) is removed. A watchdog notices a
 * schedule whose next run is in the past.
 */
import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** Retries of a scheduled run that failed for a reason retrying can cure (5xx, 429, ...). */
const SCHEDULED_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 60_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 1_000 },
} as const;

/** A schedule is overdue when its next run is this far in the past. */
const OVERDUE_MS = 2 * 60_000;

export interface ScheduleState {
  job: string;
  pattern: string;
  tz: string;
  next: string | null;
}

export async function upsertSchedules(queue: Queue, config: Config, log: Logger): Promise<ScheduleState[]> {
  const wanted = new Map<string, string>();
  for (const [job, pattern] of Object.entries(config.schedules.patterns))
    if (pattern !== null) wanted.set(job, pattern);
  for (const existing of await queue.getJobSchedulers()) {
    const id = existing.id ?? existing.key;
    if (!wanted.has(id)) {
      await queue.removeJobScheduler(id);
      log.info({ job: id }, 'schedule removed: no longer configured');
    }
  }
  for (const [job, pattern] of wanted) {
    await queue.upsertJobScheduler(
      job,
      { pattern, tz: config.schedules.tz },
      { name: job, data: {}, opts: SCHEDULED_JOB_OPTIONS },
    );
  }
  const states = await scheduleStates(queue);
  log.info({ schedules: states.map((s) => `${s.job} "${s.pattern}" next ${s.next}`) }, 'schedules upserted');
  return states;
}

export async function scheduleStates(queue: Queue): Promise<ScheduleState[]> {
  return (await queue.getJobSchedulers()).map((s) => ({
    job: s.id ?? s.key,
    pattern: s.pattern ?? `every ${s.every} ms`,
    tz: s.tz ?? 'UTC',
    next: s.next ? new Date(s.next).toISOString() : null,
  }));
}

/** Logs (and repairs, by upserting again) every schedule whose next run is overdue. */
export async function checkSchedules(queue: Queue, config: Config, log: Logger, now = Date.now()): Promise<string[]> {
  const overdue = (await scheduleStates(queue)).filter((s) => s.next !== null && Date.parse(s.next) < now - OVERDUE_MS);
  for (const s of overdue) log.warn({ job: s.job, next: s.next }, 'schedule overdue: its next run is in the past');
  if (overdue.length > 0) await upsertSchedules(queue, config, log);
  return overdue.map((s) => s.job);
}

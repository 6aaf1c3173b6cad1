/**
 * The last line of defence of a long-running process. Every request and job handler answers its own errors; an
 * error that still escapes one is a bug of ours, and is logged loudly as such, once, with its stack:
 * - an unhandled promise rejection is logged and the process goes on (the request or job it belonged to has
 *   already been answered or will be retried: nothing acknowledged depends on it);
 * - an uncaught exception leaves the process in an unknown state: it is logged, the service is stopped as
 *   gracefully as it can be within a few seconds, and the process exits non-zero for its supervisor to restart.
 */
import type { Logger } from '../logger.js';

const STOP_GRACE_MS = 10_000;

export function installProcessGuards(log: Logger, stop: () => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason, bug: true }, 'BUG: an unhandled promise rejection escaped a handler; the service goes on');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err, bug: true }, 'BUG: an uncaught exception escaped a handler; stopping the service');
    setTimeout(() => process.exit(70), STOP_GRACE_MS).unref();
    stop().then(
      () => process.exit(70),
      () => process.exit(70),
    );
  });
}

/**
 * A process with the service's process guards installed, that lets one error escape on purpose, so that a test can
 * see what the guards make of it. Usage: node guarded-process.js rejection|exception
 * Prints "stopped" when the guards stop the "service", "still running" if it goes on.
 */
import { createLogger } from '../../src/logger.js';
import { installProcessGuards } from '../../src/service/process-guards.js';

const log = createLogger('info');
installProcessGuards(log, async () => {
  console.log('stopped');
});

if (process.argv[2] === 'rejection') {
  void Promise.reject(new Error('a rejection nobody handled'));
  setTimeout(() => {
    console.log('still running');
    process.exit(0);
  }, 200);
} else {
  setTimeout(() => {
    throw new Error('an exception nobody caught');
  }, 10);
  setTimeout(() => console.log('still running'), 5_000).unref();
}

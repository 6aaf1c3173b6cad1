/** `start [--role all|receiver|worker]`: the long-running service, until SIGTERM or SIGINT. */
import { UsageError, type SyncError } from '../../errors.js';
import { ROLES, type Role } from '../../service/roles.js';
import { stringOption, type Command } from '../context.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the service: schedules, pulls, push receiver, writer, publisher (--role picks a part)',
  usage: `start [--role ${ROLES.join('|')}]`,
  options: {
    role: { type: 'string', value: 'ROLE', help: `which part to run: ${ROLES.join(', ')} (default all)` },
  },
  logsByDefault: true,
  async run(args, io) {
    const role = (stringOption(args, 'role') ?? 'all') as Role;
    if (!ROLES.includes(role)) throw new UsageError(`--role ${role}: expected one of ${ROLES.join(', ')}`);
    const [{ startService }, { installProcessGuards }] = await Promise.all([
      import('../../service/service.js'),
      import('../../service/process-guards.js'),
    ]);
    let gaveWay: SyncError | undefined;
    let stopForConflict: (() => void) | undefined;
    const service = await startService(io.config(), io.log(), role, {
      onWorkerGaveWay: (err) => {
        gaveWay = err;
        stopForConflict?.();
      },
    });
    installProcessGuards(io.log(), () => service.stop());
    await new Promise<void>((resolve) => {
      const stop = (why: string, signal?: NodeJS.Signals): void => {
        io.log().info({ why }, 'stopping');
        // a second signal, or a stop that hangs, ends the process anyway
        setTimeout(() => process.exit(1), 30_000).unref();
        if (signal) process.once(signal, () => process.exit(1));
        void service.stop().then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM', 'SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT', 'SIGINT'));
      stopForConflict = () => stop('another worker holds this queue prefix');
      if (gaveWay) stopForConflict();
    });
    // the whole service goes: a supervisor sees the exit and the reason, rather than a receiver without its worker
    if (gaveWay) throw gaveWay;
  },
};

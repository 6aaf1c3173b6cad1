/**
 * `simulate`: only the bundled Sensoterra simulator (API + optional push sender), for trying things by hand.
 * Prints the settings that point sensoterra-sync at it.
 */
import type { Simulator } from '../../simulator/index.js';
import { uplinksFor, type Uplink } from '../../simulator/uplinks.js';
import { integerOption, stringOption, type Command } from '../context.js';
import { errorMessage } from '../../errors.js';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run only the Sensoterra simulator (fake API, and a push sender with --push-to) for trying things by hand',
  usage:
    'simulate [--port 8081] [--host 127.0.0.1] [--seed 1] [--probes 12] [--customers 3] [--push-to URL --push-secret S] [--backlog-hours 24]',
  options: {
    port: { type: 'string', value: 'PORT', help: 'the port the fake API listens on (default 8081; 0 picks one)' },
    host: { type: 'string', value: 'HOST', help: 'the address it listens on (default 127.0.0.1)' },
    seed: {
      type: 'string',
      value: 'N',
      help: 'the seed of the generated account (default 1: the same account each time)',
    },
    probes: { type: 'string', value: 'N', help: 'how many probes it has (default 12)' },
    customers: { type: 'string', value: 'N', help: 'how many customers they belong to (default 3)' },
    'push-to': { type: 'string', value: 'URL', help: "push each probe's readings to this receiver as they happen" },
    'push-secret': {
      type: 'string',
      value: 'SECRET',
      help: 'the Authorization header those pushes carry (PUSH_SECRET)',
    },
    'backlog-hours': { type: 'string', value: 'N', help: 'push the readings of the last N hours first (default 24)' },
  },
  async run(args, io) {
    const { DEFAULT_EMAIL, DEFAULT_PASSWORD, Simulator, generateAccount } = await import('../../simulator/index.js');
    const seed = integerOption(args, 'seed', 1, { min: 0, max: 2 ** 31 });
    const account = generateAccount({
      seed,
      probes: integerOption(args, 'probes', 12, { min: 3, max: 100_000 }),
      customers: integerOption(args, 'customers', 3, { min: 1, max: 10_000 }),
    });
    const sim = await Simulator.start({
      host: stringOption(args, 'host') ?? '127.0.0.1',
      port: integerOption(args, 'port', 8081, { min: 0, max: 65_535 }),
      account,
      seed,
    });
    await io.out(
      [
        `Sensoterra simulator: ${account.probes.length} probes, ${account.customers.length} customers`,
        `  SENSOTERRA_API_URL=${sim.url}`,
        `  SENSOTERRA_EMAIL=${DEFAULT_EMAIL}`,
        `  SENSOTERRA_PASSWORD=${DEFAULT_PASSWORD}`,
        `control: ${new URL('/_sim/state', sim.url).toString()} (POST /_sim/faults, /_sim/change, /_sim/expire-keys)`,
        'Ctrl-C stops it.',
      ].join('\n'),
    );
    const abort = new AbortController();
    const pushTo = stringOption(args, 'push-to');
    if (pushTo !== undefined) {
      pushLive(
        sim,
        pushTo,
        stringOption(args, 'push-secret'),
        integerOption(args, 'backlog-hours', 24, { min: 0, max: 24 * 365 }),
        abort.signal,
        io,
      ).catch((err: unknown) => io.err(`pushing stopped: ${errorMessage(err)}`));
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    abort.abort();
    await sim.close();
  },
};

/** Pushes the backlog, then every new measurement slot as simulated time reaches it. */
async function pushLive(
  sim: Simulator,
  url: string,
  secret: string | undefined,
  backlogHours: number,
  signal: AbortSignal,
  io: Parameters<Command['run']>[1],
): Promise<void> {
  const { sendPushes } = await import('../../simulator/index.js');
  let from = new Date(Date.now() - backlogHours * 3_600_000);
  while (!signal.aborted) {
    const to = new Date();
    const result = await sendPushes(liveUplinks(sim, from, to), {
      url,
      secret,
      uplinksPerRequest: 10,
      signal,
    }).catch((err: Error) => {
      io.err(`push to ${url} failed: ${err.message}`);
      return undefined;
    });
    if (result && result.readings > 0)
      io.err(`pushed ${result.readings} readings in ${result.requests} requests: ${JSON.stringify(result.statuses)}`);
    from = to;
    await new Promise((r) => setTimeout(r, 60_000));
  }
}

/**
 * What the simulator pushes for [from, to): its account's uplinks, with the values its API answers (the same seed:
 * with another, `--seed 7` would push values its API contradicts, and every pull would find conflicts).
 */
export function liveUplinks(sim: Simulator, from: Date, to: Date): Generator<Uplink> {
  return uplinksFor(sim.account, { from, to, seed: sim.seed });
}

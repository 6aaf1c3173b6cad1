/**
 * `probe register|update|transfer`: change probes at Sensoterra without the web monitor. Inputs are checked first,
 * the change is shown and needs --yes (or a "y" at a terminal), and the warehouse shows the new probe version at
 * once, dated when the change was made.
 */
import { sensoterraClient, viaWorkerOrLocally } from '../lazy.js';
import type { SyncAnswer } from '../../control/handlers.js';
import { UsageError } from '../../errors.js';
import type { RunReport } from '../../job-runtime/runner.js';
import {
  checkCustomer,
  checkLocation,
  checkSerialFormat,
  checkSoilKeys,
  findProbe,
  parseCoordinates,
  parseId,
  parseSoilProfile,
  requireProbe,
} from '../../manage/checks.js';
import { confirmed, describeChanges, show, showProfile, type Change } from '../../manage/confirm.js';
import { redact } from '../../secrets.js';
import type { SensoterraClient } from '../../sensoterra/client.js';
import type { ProbeChanges } from '../../sensoterra/management.js';
import { stringOption, type Command, type CommandArgs, type CommandIO } from '../context.js';

const SUBCOMMANDS = ['register', 'update', 'transfer'] as const;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'register a probe, change its name, location or soil calibration, or move it to another customer',
  usage: [
    'probe register SERIAL [--name NAME] [--customer ID] [--location ID] [--lat LAT --lon LON] [--soil DEPTH=SOIL ...] [--yes]',
    '       probe update SERIAL [--name NAME] [--location ID] [--lat LAT --lon LON] [--soil DEPTH=SOIL ...] [--yes]',
    '       probe transfer SERIAL --to-customer ID [--keep-data] [--yes]',
    '',
    '--soil gives the whole new profile, one layer per --soil (depth in cm, a SOIL key of GET /parameter).',
    'Write a negative coordinate with "=": --lon=-74.006.',
  ].join('\n'),
  options: {
    name: { type: 'string', value: 'NAME', help: "the probe's name" },
    customer: { type: 'string', value: 'ID', help: 'the customer it belongs to (register)' },
    location: { type: 'string', value: 'ID', help: 'the location (field) it stands in' },
    lat: { type: 'string', value: 'LAT', help: 'latitude in degrees, with --lon' },
    lon: { type: 'string', value: 'LON', help: 'longitude in degrees, with --lat (a negative one as --lon=-74.006)' },
    soil: {
      type: 'string',
      multiple: true,
      value: 'DEPTH=SOIL',
      help: 'one layer of the new soil profile; repeat per depth',
    },
    'to-customer': { type: 'string', value: 'ID', help: 'the customer to move it to (transfer)' },
    'keep-data': { type: 'boolean', help: 'its sensor data moves with it (transfer)' },
    yes: { type: 'boolean', short: 'y', help: 'do it without asking first' },
  },
  async run(args, io) {
    const [sub, serialArg, ...rest] = args.positionals;
    if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number]) || rest.length > 0) {
      throw new UsageError(
        `probe needs a subcommand and a serial: ${SUBCOMMANDS.map((s) => `probe ${s} SERIAL`).join(', ')}`,
      );
    }
    const serial = checkSerialFormat(serialArg);
    const changes = requestedChanges(args);
    const api = await sensoterraClient(io.config(), io.log());
    try {
      if (sub === 'transfer') return await transfer(api, serial, args, io);
      await checkAgainstAccount(api, changes);
      if (sub === 'register') return await register(api, serial, changes, args, io);
      return await update(api, serial, changes, args, io);
    } finally {
      await api.close();
    }
  },
};

/** The changes the options ask for, as far as they can be checked without asking anyone. */
function requestedChanges(args: CommandArgs): ProbeChanges {
  const changes: ProbeChanges = {};
  const name = stringOption(args, 'name');
  if (name !== undefined && name.trim() === '') throw new UsageError('--name must not be empty');
  if (name !== undefined) changes.name = name.trim();
  Object.assign(changes, parseCoordinates(stringOption(args, 'lat'), stringOption(args, 'lon')));
  const location = parseId(stringOption(args, 'location'), '--location');
  if (location !== undefined) changes.location_id = location;
  const soil = args.values.soil as string[] | undefined;
  if (soil !== undefined) changes.soil_profile = parseSoilProfile(soil);
  return changes;
}

/** The rest, against the account as it is now: the soil keys of the parameter list, the location. */
async function checkAgainstAccount(api: SensoterraClient, changes: ProbeChanges): Promise<void> {
  if (changes.location_id != null) await checkLocation(api, changes.location_id);
  if (changes.soil_profile !== undefined) await checkSoilKeys(api, changes.soil_profile);
}

async function register(
  api: SensoterraClient,
  serial: string,
  changes: ProbeChanges,
  args: CommandArgs,
  io: CommandIO,
): Promise<number> {
  if (await findProbe(api, serial)) throw new UsageError(`probe ${serial} is already in the account: use probe update`);
  const customer = parseId(stringOption(args, 'customer'), '--customer');
  if (customer !== undefined) await checkCustomer(api, customer);
  const lines: Change[] = Object.entries({ customer_id: customer, ...changes })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, '(new)', k === 'soil_profile' ? showProfile(v as never) : show(v)]);
  if (!(await confirmed(io, args.values.yes === true, describeChanges(`register probe ${serial}:`, lines)))) return 1;
  const probe = await api.management.registerProbe({
    serial,
    ...changes,
    ...(customer === undefined ? {} : { customer_id: customer }),
  });
  return recordChange(io, probe.raw, 'probe register');
}

async function update(
  api: SensoterraClient,
  serial: string,
  changes: ProbeChanges,
  args: CommandArgs,
  io: CommandIO,
): Promise<number> {
  const { value: current } = await requireProbe(api, serial);
  const before: Record<string, string> = {
    name: show(current.name ?? current.serial),
    latitude: show(current.latitude),
    longitude: show(current.longitude),
    location_id: show(current.location_id),
    soil_profile: showProfile(current.soil_profile),
  };
  const lines: Change[] = Object.entries(changes)
    .map(([k, v]): Change => [k, before[k]!, k === 'soil_profile' ? showProfile(v as never) : show(v)])
    .filter(([, from, to]) => from !== to);
  if (lines.length === 0) {
    await io.out(`probe ${serial}: nothing to change`);
    return 0;
  }
  if (
    !(await confirmed(
      io,
      args.values.yes === true,
      describeChanges(`update probe ${serial} (${before.name}, id ${current.id}):`, lines),
    ))
  )
    return 1;
  const probe = await api.management.updateProbe(current.id, changes);
  return recordChange(io, probe.raw, 'probe update');
}

async function transfer(api: SensoterraClient, serial: string, args: CommandArgs, io: CommandIO): Promise<number> {
  const to = parseId(stringOption(args, 'to-customer'), '--to-customer');
  if (to === undefined) throw new UsageError('probe transfer needs --to-customer ID');
  const { value: current } = await requireProbe(api, serial);
  await checkCustomer(api, to);
  if (current.customer_id === to) {
    await io.out(`probe ${serial} already belongs to customer ${to}: nothing to change`);
    return 0;
  }
  const keep = args.values['keep-data'] === true;
  const plan = describeChanges(`transfer probe ${serial} (${current.name ?? serial}, id ${current.id}):`, [
    ['customer_id', show(current.customer_id), String(to)],
    ['sensor data', '', keep ? 'kept' : 'not kept (add --keep-data to keep it)'],
  ]);
  if (!(await confirmed(io, args.values.yes === true, plan))) return 1;
  await api.management.transferProbe(current.id, to, keep);
  const at = new Date();
  const moved = await requireProbe(api, serial);
  const code = await recordChange(io, moved.raw, 'probe transfer', at);
  const mapping = await viaWorkerOrLocally<SyncAnswer>(
    io.config(),
    io.log(),
    'sync',
    { target: 'customers' },
    { timeoutMs: 10 * 60_000 },
  );
  await io.out(`customer mapping: ${mapping.map((r) => ('summary' in r ? r.summary : redact(r.error))).join('; ')}`);
  return code;
}

/** Lands the probe as the API answered the change, dated when it was made. */
async function recordChange(io: CommandIO, probe: unknown, changedBy: string, at = new Date()): Promise<number> {
  const raw = probe as { serial?: string };
  const report = await viaWorkerOrLocally<RunReport>(
    io.config(),
    io.log(),
    'probe-changed',
    { probe: raw, at: at.toISOString(), changedBy },
    { timeoutMs: 60_000 },
  );
  await io.out(`done at ${at.toISOString()}; warehouse: ${report.summary}`);
  return 0;
}

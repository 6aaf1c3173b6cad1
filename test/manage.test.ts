/**
 * Managing probes and accounts from the command line, against the simulator: inputs checked before anything is
 * sent, the change shown and applied only with --yes, and the warehouse showing the new version at once, dated
 * when the change was made.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runJob } from '../src/job-runtime/runner.js';
import { runCli, runCommand } from './helpers/cli.js';
import { startStack, type Stack } from './helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  for (const job of ['sync-parameters', 'sync-locations', 'sync-customers', 'sync-probes'])
    await runJob(job, {}, stack.worker.deps, { trigger: 'command' });
});
afterAll(async () => stack?.stop());
beforeEach(() => stack.sim.clearRequests());

// in this process; each command (probe, customer, token) also runs once as a user runs it: endToEnd
const cli = (...args: string[]) => runCommand(args, stack.place.env);
const endToEnd = (...args: string[]) => runCli(args, stack.place.env);
const changesSent = (): string[] =>
  stack.sim.requests
    .filter((r) => r.method !== 'GET' && r.path !== '/customer/auth')
    .map((r) => `${r.method} ${r.path}`);
/** The time a command printed as the moment its change was made. */
const doneAt = (stdout: string): Date => new Date(/done at (\S+);/.exec(stdout)![1]!);

describe('probe update', () => {
  it('renames a probe: shows the change, applies it with --yes, and the warehouse has the new version from that moment', async () => {
    const result = await cli('probe', 'update', '24000092104', '--name', 'North 1 (by the oak)', '--yes');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'update probe 24000092104 (North 1, id 49205):\n  name  North 1 -> North 1 (by the oak)\n',
    );
    expect(changesSent()).toEqual(['PUT /probe/49205']);
    const at = doneAt(result.stdout);
    expect(
      await stack.rows(
        "SELECT name, valid_from, valid_to, changed_by FROM probe_history WHERE serial = '24000092104' ORDER BY valid_from",
      ),
    ).toEqual([
      { name: 'North 1', valid_from: '-infinity', valid_to: at, changed_by: 'sync-probes' },
      { name: 'North 1 (by the oak)', valid_from: at, valid_to: 'infinity', changed_by: 'probe update' },
    ]);
  });

  it('re-calibrates the soil per depth', async () => {
    const result = await cli('probe', 'update', '24000092105', '--soil', '0=LOAM', '--soil', '20=CLAY', '--yes');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('soil_profile  0 cm LOAM -> 0 cm LOAM, 20 cm CLAY');
    expect(
      await stack.rows("SELECT soil_profile FROM probe_history WHERE serial = '24000092105' AND valid_to = 'infinity'"),
    ).toEqual([{ soil_profile: '[{"depth":0,"soil":"LOAM"},{"depth":20,"soil":"CLAY"}]' }]);
  });

  it('moves a probe, and its local days follow it', async () => {
    const result = await cli(
      'probe',
      'update',
      '24000092106',
      '--lat',
      '40.7128',
      '--lon=-74.006',
      '--location',
      '12',
      '--yes',
    );
    expect(result.code).toBe(0);
    expect(
      await stack.rows("SELECT latitude, longitude, location_id, time_zone FROM probes WHERE serial = '24000092106'"),
    ).toEqual([{ latitude: 40.7128, longitude: -74.006, location_id: 12, time_zone: 'America/New_York' }]);
  });

  const refused: [string, string[], RegExp][] = [
    ['an unknown soil', ['--soil', '0=MOONDUST'], /unknown soil MOONDUST: the current soil types are CLAY, LOAM, SAND/],
    ['a latitude out of range', ['--lat', '95', '--lon', '4.9'], /--lat 95: expected a latitude from -90 to 90/],
    ['a latitude without a longitude', ['--lat', '52.3'], /--lat and --lon go together/],
    ['an unknown location', ['--location', '999'], /unknown location 999/],
    ['a soil layer given twice', ['--soil', '0=CLAY', '--soil', '0=SAND'], /--soil: a depth appears twice/],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what} before sending anything`, async () => {
      const result = await cli('probe', 'update', '24000092104', ...options, '--yes');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(changesSent()).toEqual([]);
    });
  }

  it('refuses an unknown serial, and one that is not a serial at all', async () => {
    expect((await cli('probe', 'update', '24000000000', '--name', 'x', '--yes')).stderr).toMatch(
      /unknown serial 24000000000: no such probe in the account/,
    );
    expect((await cli('probe', 'update', 'north-1', '--name', 'x', '--yes')).stderr).toMatch(
      /serial north-1: expected the probe's 11-digit serial/,
    );
    expect(changesSent()).toEqual([]);
  });

  it('changes nothing without --yes when there is no terminal to ask at', async () => {
    const result = await endToEnd('probe', 'update', '24000092104', '--name', 'Not applied');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('name  North 1 (by the oak) -> Not applied');
    expect(result.stderr.trim()).toBe('sensoterra-sync: nothing changed: add --yes to apply');
    expect(changesSent()).toEqual([]);
  });
});

describe('probe transfer', () => {
  it("moves a probe to another customer: a new version with the customer, and the reseller's mapping follows", async () => {
    const result = await cli('probe', 'transfer', '24000092105', '--to-customer', '40', '--keep-data', '--yes');
    expect(result.code).toBe(0);
    expect(changesSent()).toEqual(['PUT /probe/49206/transfer']);
    const at = doneAt(result.stdout);
    expect(
      await stack.rows(
        "SELECT customer_id, valid_from FROM probe_history WHERE serial = '24000092105' AND valid_to = 'infinity'",
      ),
    ).toEqual([{ customer_id: 40, valid_from: at }]);
    expect(await stack.rows("SELECT customer_id FROM customer_probes WHERE serial = '24000092105'")).toEqual([
      { customer_id: 40 },
    ]);
  });

  it('refuses an unknown customer', async () => {
    const result = await cli('probe', 'transfer', '24000092104', '--to-customer', '999', '--yes');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown customer 999: not one of the reseller's customers/);
    expect(changesSent()).toEqual([]);
  });
});

describe('probe register', () => {
  it('registers a new serial, which is in the warehouse at once', async () => {
    const result = await cli(
      'probe',
      'register',
      '24000012345',
      '--name',
      'Orchard 7',
      '--customer',
      '39',
      '--soil',
      '0=SAND',
      '--yes',
    );
    expect(result.code).toBe(0);
    expect(changesSent()).toEqual(['POST /probe']);
    expect(
      await stack.rows(
        "SELECT name, customer_id, soil_profile, valid_from, changed_by FROM probe_history WHERE serial = '24000012345'",
      ),
    ).toEqual([
      {
        name: 'Orchard 7',
        customer_id: 39,
        soil_profile: '[{"depth":0,"soil":"SAND"}]',
        valid_from: '-infinity',
        changed_by: 'probe register',
      },
    ]);
  });

  it('refuses a serial that is already registered', async () => {
    const result = await cli('probe', 'register', '24000092104', '--yes');
    expect(result.stderr).toMatch(/probe 24000092104 is already in the account: use probe update/);
    expect(changesSent()).toEqual([]);
  });
});

describe('customer create', () => {
  it("creates a customer under the reseller; the warehouse's customers table has it", async () => {
    const result = await endToEnd(
      'customer',
      'create',
      '--name',
      'Polder Farms',
      '--email',
      'info@polder.example',
      '--yes',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/customer \d+ created/);
    expect(await stack.rows("SELECT name, email FROM customers WHERE name = 'Polder Farms'")).toEqual([
      { name: 'Polder Farms', email: 'info@polder.example' },
    ]);
  });

  it('refuses an e-mail address in use, and one that is not an address', async () => {
    expect(
      (await cli('customer', 'create', '--name', 'Again', '--email', 'office@greenacres.example', '--yes')).stderr,
    ).toMatch(/customer 39 \(Green Acres\) already has the e-mail address/);
    expect((await cli('customer', 'create', '--name', 'Again', '--email', 'not-an-address', '--yes')).stderr).toMatch(
      /--email not-an-address: expected an e-mail address/,
    );
    expect(changesSent()).toEqual([]);
  });
});

describe('token create, and what a read-only token may do', () => {
  it('prints a READONLY token, which can read but whose refusal of a change says it is read-only', async () => {
    const created = await endToEnd(
      'token',
      'create',
      '--tag',
      'warehouse',
      '--scope',
      'READONLY',
      '--expires',
      '2030-01-01',
      '--yes',
    );
    expect(created.code).toBe(0);
    const token = created.stdout.trim().split('\n').pop()!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const env = { ...stack.place.env, SENSOTERRA_TOKEN: token, SENSOTERRA_EMAIL: '', SENSOTERRA_PASSWORD: '' };
    const refused = await runCommand(
      ['probe', 'update', '24000092104', '--name', 'With a read-only token', '--yes'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /PUT \/probe\/49205: 403 .*READONLY.*: SENSOTERRA_TOKEN is a read-only token: changes need a token with write scope/,
    );
    expect(refused.stderr).not.toMatch(/expired/);
  });

  it('refuses an expiry in the past', async () => {
    const result = await cli('token', 'create', '--tag', 'old', '--expires', '2020-01-01', '--yes');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--expires 2020-01-01: the date has passed/);
  });
});

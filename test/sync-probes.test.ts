/**
 * sync-probes: what a user relies on when probes are pulled into the warehouse on a schedule.
 * The account is the hand-written one in helpers/account.ts; the expected values below are written out by hand.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runJob } from '../src/job-runtime/runner.js';
import { probeSchema } from '../src/sensoterra/schemas.js';
import { Simulator } from '../src/simulator/index.js';
import { probeStageRow } from '../src/sync/probe-rows.js';
import { NOW, smallAccount } from './helpers/account.js';
import { pullBench, tablesSnapshot, type PullBench } from './helpers/pulls.js';

let sim: Simulator;
let bench: PullBench;

beforeEach(async () => {
  sim = await Simulator.start({ account: smallAccount(), now: NOW });
  bench = await pullBench(sim);
});

afterEach(async () => {
  await bench.close();
  await sim.close();
});

const PROBE_COLUMNS =
  'serial, probe_id, name, location_id, latitude, longitude, customer_id, soil_profile, battery, rssi, connectivity, deleted_at';

describe('sync-probes', () => {
  it('lands every probe the account has, with its metadata, soil profile and status', async () => {
    const report = await bench.run('sync-probes');

    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 3, inserted: 3, updated: 0, deleted: 0 });
    expect(await bench.rows(`SELECT ${PROBE_COLUMNS} FROM probes ORDER BY serial`)).toEqual([
      {
        serial: '24000092104',
        probe_id: 49205,
        name: 'North 1',
        location_id: 12,
        latitude: 52.356,
        longitude: 4.955,
        customer_id: 39,
        soil_profile: '[{"depth":0,"soil":"CLAY"},{"depth":30,"soil":"SAND"}]',
        battery: 'NORMAL',
        rssi: -97,
        connectivity: 'GOOD',
        deleted_at: null,
      },
      {
        serial: '24000092105',
        probe_id: 49206,
        name: 'North 2',
        location_id: 12,
        latitude: 52.357,
        longitude: 4.956,
        customer_id: 39,
        soil_profile: '[{"depth":0,"soil":"LOAM"}]',
        battery: 'NORMAL',
        rssi: -101,
        connectivity: 'GOOD',
        deleted_at: null,
      },
      {
        // no name given: the name defaults to the serial
        serial: '24000092106',
        probe_id: 49207,
        name: '24000092106',
        location_id: 13,
        latitude: null,
        longitude: null,
        customer_id: 40,
        soil_profile: '[{"depth":0,"soil":"SAND"}]',
        battery: 'FAIR',
        rssi: -110,
        connectivity: 'POOR',
        deleted_at: null,
      },
    ]);
  });

  it('opens one history version per probe, valid from -infinity to infinity', async () => {
    await bench.run('sync-probes');
    expect(
      await bench.rows(
        'SELECT serial, name, customer_id, valid_from, valid_to, changed_by FROM probe_history ORDER BY serial',
      ),
    ).toEqual([
      {
        serial: '24000092104',
        name: 'North 1',
        customer_id: 39,
        valid_from: '-infinity',
        valid_to: 'infinity',
        changed_by: 'sync-probes',
      },
      {
        serial: '24000092105',
        name: 'North 2',
        customer_id: 39,
        valid_from: '-infinity',
        valid_to: 'infinity',
        changed_by: 'sync-probes',
      },
      {
        serial: '24000092106',
        name: '24000092106',
        customer_id: 40,
        valid_from: '-infinity',
        valid_to: 'infinity',
        changed_by: 'sync-probes',
      },
    ]);
  });

  it("stores the status's last readings as readings (source 'status'), numeric strings as numbers, a null timestamp as last_update", async () => {
    await bench.run('sync-probes');
    const served = (await (
      await fetch(`${sim.url}/probe`, { headers: { api_key: await login(sim) } })
    ).json()) as ServedProbe[];
    const expected = served.flatMap((p) =>
      p.status.last_readings.map((r) => ({
        serial: p.serial,
        type: r.type,
        depth_cm: r.depth ?? null,
        ts: new Date(r.timestamp ?? p.status.last_update),
        value: Number(r.value),
        source: 'status',
      })),
    );
    // North 1: 4 depths + temperature; North 2 and the third probe: 1 depth + temperature
    expect(expected).toHaveLength(9);
    const stored = await bench.rows(
      'SELECT serial, type, depth_cm, ts, value, source FROM readings ORDER BY serial, type, depth_cm NULLS LAST',
    );
    expect(stored).toEqual(expect.arrayContaining(expected));
    expect(stored).toHaveLength(9);
    expect(new Set(stored.map((r) => r.type))).toEqual(new Set(['MOISTURE', 'SI', 'TEMPERATURE']));
  });

  it('records the run in sync_runs', async () => {
    const report = await bench.run('sync-probes');
    expect(
      await bench.rows(
        'SELECT run_id, job, trigger, status, rows_read, rows_inserted, rows_updated, rows_deleted, error FROM sync_runs',
      ),
    ).toEqual([
      {
        run_id: report.runId,
        job: 'sync-probes',
        trigger: 'command',
        status: 'succeeded',
        rows_read: 3,
        rows_inserted: 3,
        rows_updated: 0,
        rows_deleted: 0,
        error: null,
      },
    ]);
  });

  it('run again, leaves every table exactly as it was and counts nothing inserted or updated', async () => {
    await bench.run('sync-probes');
    const before = await tablesSnapshot(bench);
    const again = await bench.run('sync-probes');
    expect(again).toMatchObject({
      status: 'succeeded',
      rowsRead: 3,
      inserted: 0,
      updated: 0,
      deleted: 0,
      summary: '3 probes read: no change',
    });
    expect(await tablesSnapshot(bench)).toEqual(before);
  });

  it('gives a renamed probe and a re-calibrated probe a second history version, and a battery change none', async () => {
    const first = await bench.run('sync-probes');
    sim.renameProbe('24000092104', 'North 1 (by the oak)');
    sim.recalibrateProbe('24000092105', [{ depth: 0, soil: 'CLAY' }]);
    sim.setStatus('24000092106', { battery: 'POOR' });
    const second = await bench.run('sync-probes');

    expect(second).toMatchObject({ inserted: 0, updated: 3, details: { newVersions: 2 } });
    const history = await bench.rows(
      'SELECT serial, name, soil_profile, valid_from, valid_to FROM probe_history ORDER BY serial, valid_from',
    );
    const changedAt = new Date(second.startedAt);
    expect(history).toEqual([
      {
        serial: '24000092104',
        name: 'North 1',
        soil_profile: '[{"depth":0,"soil":"CLAY"},{"depth":30,"soil":"SAND"}]',
        valid_from: '-infinity',
        valid_to: changedAt,
      },
      {
        serial: '24000092104',
        name: 'North 1 (by the oak)',
        soil_profile: '[{"depth":0,"soil":"CLAY"},{"depth":30,"soil":"SAND"}]',
        valid_from: changedAt,
        valid_to: 'infinity',
      },
      {
        serial: '24000092105',
        name: 'North 2',
        soil_profile: '[{"depth":0,"soil":"LOAM"}]',
        valid_from: '-infinity',
        valid_to: changedAt,
      },
      {
        serial: '24000092105',
        name: 'North 2',
        soil_profile: '[{"depth":0,"soil":"CLAY"}]',
        valid_from: changedAt,
        valid_to: 'infinity',
      },
      {
        serial: '24000092106',
        name: '24000092106',
        soil_profile: '[{"depth":0,"soil":"SAND"}]',
        valid_from: '-infinity',
        valid_to: 'infinity',
      },
    ]);
    expect(first.startedAt < second.startedAt).toBe(true);
    // the battery change is status: the current row and the status series show it
    expect(await bench.rows("SELECT battery FROM probes WHERE serial = '24000092106'")).toEqual([{ battery: 'POOR' }]);
    // and each probe's JSON as received is the latest one
    expect(
      await bench.rows(
        "SELECT serial, raw->>'$.name' AS name, raw->>'$.status.battery' AS battery FROM probes ORDER BY serial",
      ),
    ).toEqual([
      { serial: '24000092104', name: 'North 1 (by the oak)', battery: 'NORMAL' },
      { serial: '24000092105', name: 'North 2', battery: 'NORMAL' },
      { serial: '24000092106', name: '24000092106', battery: 'POOR' },
    ]);
    expect(await bench.rows("SELECT battery FROM probe_status WHERE serial = '24000092106' ORDER BY battery")).toEqual([
      { battery: 'FAIR' },
      { battery: 'POOR' },
    ]);
  });

  it('marks a removed probe deleted, keeps it, and brings it back when it returns', async () => {
    await bench.run('sync-probes');
    sim.removeProbe('24000092106');
    const removed = await bench.run('sync-probes');
    expect(removed).toMatchObject({ rowsRead: 2, deleted: 1 });
    const [gone] = await bench.rows("SELECT deleted_at FROM probes WHERE serial = '24000092106'");
    expect(gone!.deleted_at).toEqual(new Date(removed.startedAt));

    sim.restoreProbe('24000092106');
    const restored = await bench.run('sync-probes');
    expect(restored).toMatchObject({ rowsRead: 3, inserted: 0, deleted: 0, details: { restored: 1, newVersions: 0 } });
    expect(await bench.rows("SELECT deleted_at FROM probes WHERE serial = '24000092106'")).toEqual([
      { deleted_at: null },
    ]);
    expect(await bench.rows("SELECT count(*) AS versions FROM probe_history WHERE serial = '24000092106'")).toEqual([
      { versions: 1 },
    ]);
  });

  it('deletes nothing, and says so, when a snapshot would remove more than SYNC_MAX_DELETE_SHARE of the probes', async () => {
    await bench.run('sync-probes');
    sim.removeProbe('24000092105');
    sim.removeProbe('24000092106');
    const report = await bench.run('sync-probes');
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 1, deleted: 0 });
    expect(report.summary).toContain(
      '2 of 3 probes are missing from the snapshot, more than SYNC_MAX_DELETE_SHARE=0.5: none marked deleted',
    );
    expect(await bench.rows('SELECT count(*) AS deleted FROM probes WHERE deleted_at IS NOT NULL')).toEqual([
      { deleted: 0 },
    ]);
  });

  it('never lets a sync that began before a change undo it, or overlap its history', async () => {
    await bench.run('sync-probes');
    const changedAt = new Date();
    sim.renameProbe('24000092104', 'Renamed by a command');
    const probe = (
      (await (await fetch(`${sim.url}/probe`, { headers: { api_key: await login(sim) } })).json()) as {
        serial: string;
      }[]
    ).find((p) => p.serial === '24000092104');
    await runJob('apply-probe-change', { probe, at: changedAt.toISOString(), changedBy: 'probe update' }, bench.deps, {
      trigger: 'command',
    });
    // a sync that started a minute earlier read the old name, and finishes only now
    sim.renameProbe('24000092104', 'North 1');
    const late = await runJob(
      'sync-probes',
      {},
      { ...bench.deps, clock: () => new Date(changedAt.getTime() - 60_000) },
      { trigger: 'schedule' },
    );
    expect(late).toMatchObject({ status: 'succeeded', details: { newVersions: 0 } });
    expect(
      await bench.rows(
        "SELECT name, valid_from, valid_to FROM probe_history WHERE serial = '24000092104' ORDER BY valid_from",
      ),
    ).toEqual([
      { name: 'North 1', valid_from: '-infinity', valid_to: changedAt },
      { name: 'Renamed by a command', valid_from: changedAt, valid_to: 'infinity' },
    ]);
    expect(await bench.rows("SELECT name, deleted_at FROM probes WHERE serial = '24000092104'")).toEqual([
      { name: 'Renamed by a command', deleted_at: null },
    ]);
  });

  it('keeps one version for two changes at the same instant (the later one), each version with an id of its own', async () => {
    await bench.run('sync-probes');
    const at = new Date();
    const probe = async (): Promise<unknown> =>
      (
        (await (await fetch(`${sim.url}/probe`, { headers: { api_key: await login(sim) } })).json()) as {
          serial: string;
        }[]
      ).find((p) => p.serial === '24000092104');
    sim.renameProbe('24000092104', 'First name at that instant');
    await runJob(
      'apply-probe-change',
      { probe: await probe(), at: at.toISOString(), changedBy: 'probe update' },
      bench.deps,
      { trigger: 'command' },
    );
    const [first] = await bench.rows(
      "SELECT version_id FROM probe_history WHERE serial = '24000092104' AND is_current",
    );
    sim.renameProbe('24000092104', 'Second name at that instant');
    await runJob(
      'apply-probe-change',
      { probe: await probe(), at: at.toISOString(), changedBy: 'probe update' },
      bench.deps,
      { trigger: 'command' },
    );
    expect(
      await bench.rows(
        "SELECT name, valid_from, valid_to, is_current FROM probe_history WHERE serial = '24000092104' ORDER BY valid_from",
      ),
    ).toEqual([
      { name: 'North 1', valid_from: '-infinity', valid_to: at, is_current: false },
      { name: 'Second name at that instant', valid_from: at, valid_to: 'infinity', is_current: true },
    ]);
    expect(
      await bench.rows('SELECT count(*) AS versions, count(DISTINCT version_id) AS ids FROM probe_history'),
    ).toEqual([{ versions: 4, ids: 4 }]);
    // the replaced version's id is not given again: an export taken between the two changes named another version
    const [second] = await bench.rows(
      "SELECT version_id FROM probe_history WHERE serial = '24000092104' AND is_current",
    );
    expect(Number(second!.version_id)).toBeGreaterThan(Number(first!.version_id));
  });

  it('applies a snapshot of more probes than a piece takes whole: each probe once, with its own JSON; again, no change', async () => {
    // a pull applies desired_probes APPLY_PIECE_ROWS (10,000) rows at a time; here 4 at a time: pieces of 4, 4 and 2
    const serial = (i: number): string => `2500000${String(i).padStart(4, '0')}`;
    const snapshot = (name: (i: number) => string) =>
      Array.from({ length: 10 }, (_, i) => {
        const raw = {
          id: 60_000 + i,
          serial: serial(i),
          name: name(i),
          customer_id: 39,
          latitude: null,
          longitude: null,
          interval: 60,
          soil_profile: [{ depth: 0, soil: 'CLAY' }],
        };
        return { value: probeSchema.parse(raw), raw };
      });
    const apply = async (runId: string, probes: ReturnType<typeof snapshot>) => {
      await bench.db.stage(
        'stage_probes',
        probes.map((p) => probeStageRow(runId, p, { serials: {}, locations: {} })),
      );
      const outcome = await bench.db.applyProbeSnapshot({
        runId,
        at: NOW,
        complete: true,
        maxDeleteShare: 0,
        changedBy: 'sync-probes',
        pieceRows: 4,
      });
      await bench.db.clearStaged(runId);
      return outcome;
    };
    const stored = () =>
      bench.rows(
        "SELECT serial, name, raw->>'$.serial' AS raw_serial, raw->>'$.name' AS raw_name FROM probes ORDER BY serial",
      );
    const expected = (name: string) =>
      Array.from({ length: 10 }, (_, i) => ({
        serial: serial(i),
        name: `${name} ${i}`,
        raw_serial: serial(i),
        raw_name: `${name} ${i}`,
      }));

    expect(
      await apply(
        'first',
        snapshot((i) => `Field ${i}`),
      ),
    ).toMatchObject({ inserted: 10, updated: 0 });
    expect(await stored()).toEqual(expected('Field'));
    expect(
      await apply(
        'again',
        snapshot((i) => `Field ${i}`),
      ),
    ).toMatchObject({ inserted: 0, updated: 0 });
    // renamed, in every piece: each probe updated once, with its new JSON, and a second version
    expect(
      await apply(
        'renamed',
        snapshot((i) => `Renamed ${i}`),
      ),
    ).toMatchObject({
      inserted: 0,
      updated: 10,
      newVersions: 10,
    });
    expect(await stored()).toEqual(expected('Renamed'));
    expect(await bench.rows('SELECT count(*) AS versions FROM probe_history')).toEqual([{ versions: 20 }]);
  });

  it('picks up a probe added to the account', async () => {
    await bench.run('sync-probes');
    sim.addProbe({
      id: 49300,
      serial: '24000099999',
      name: 'New one',
      customer_id: 40,
      location_id: 13,
      soil_profile: [{ depth: 0, soil: 'CLAY' }],
      kind: 'MOISTURE',
      depths: [10],
    });
    const report = await bench.run('sync-probes');
    expect(report).toMatchObject({ rowsRead: 4, inserted: 1, updated: 0 });
    expect(await bench.rows("SELECT name, valid_from FROM probe_history WHERE serial = '24000099999'")).toEqual([
      { name: 'New one', valid_from: '-infinity' },
    ]);
  });
});

interface ServedProbe {
  serial: string;
  status: {
    last_update: string;
    last_readings: { type: string; depth?: number; value: number | string; timestamp: string | null }[];
  };
}

async function login(s: Simulator): Promise<string> {
  const res = await fetch(`${s.url}/customer/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: s.account.account.email, password: s.account.account.password }),
  });
  return ((await res.json()) as { api_key: string }).api_key;
}

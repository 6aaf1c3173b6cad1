/**
 * sync-parameters, sync-locations and sync-customers: soil calibrations (with history), other parameter lists,
 * locations, a reseller's customers and which probe belongs to whom.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { pullBench, tablesSnapshot, type PullBench } from './helpers/pulls.js';
import { runSql } from './helpers/warehouse.js';

let sim: Simulator;
let bench: PullBench;

async function setUp(env: Record<string, string> = {}): Promise<void> {
  sim = await Simulator.start({ account: smallAccount(), now: NOW });
  bench = await pullBench(sim, env);
}

afterEach(async () => {
  await bench.close();
  await sim.close();
});

describe('sync-parameters', () => {
  it('puts SOIL parameters in soil_types and the other lists in parameters', async () => {
    await setUp();
    const report = await bench.run('sync-parameters');
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 4, inserted: 4, updated: 0, deleted: 0 });
    expect(await bench.rows('SELECT key, name, language, deleted_at FROM soil_types ORDER BY key')).toEqual([
      { key: 'CLAY', name: 'Clay', language: 'en', deleted_at: null },
      { key: 'LOAM', name: 'Loam', language: 'en', deleted_at: null },
      { key: 'SAND', name: 'Sand', language: 'en', deleted_at: null },
    ]);
    expect(await bench.rows('SELECT type, key, name FROM parameters')).toEqual([
      { type: 'CROP', key: 'CORN', name: 'Corn' },
    ]);
  });

  it('asks for names in SENSOTERRA_LANGUAGE', async () => {
    await setUp({ SENSOTERRA_LANGUAGE: 'nl' });
    await bench.run('sync-parameters');
    expect(await bench.rows('SELECT key, name, language FROM soil_types ORDER BY key')).toEqual([
      { key: 'CLAY', name: 'Klei', language: 'nl' },
      { key: 'LOAM', name: 'Leem', language: 'nl' },
      { key: 'SAND', name: 'Zand', language: 'nl' },
    ]);
  });

  it('keeps every version of a soil type, and marks one that disappears as deleted', async () => {
    await setUp();
    await bench.run('sync-parameters');
    sim.renameParameter('SAND', 'Sand (coarse)');
    sim.addParameter({ key: 'PEAT', type: 'SOIL', name: 'Peat' });
    sim.removeParameter('CORN');
    const second = await bench.run('sync-parameters');
    expect(second).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    const changedAt = new Date(second.startedAt);
    expect(
      await bench.rows(
        "SELECT name, valid_from, valid_to FROM soil_type_history WHERE key IN ('SAND', 'PEAT') ORDER BY key DESC, valid_from",
      ),
    ).toEqual([
      { name: 'Sand', valid_from: '-infinity', valid_to: changedAt },
      { name: 'Sand (coarse)', valid_from: changedAt, valid_to: 'infinity' },
      { name: 'Peat', valid_from: '-infinity', valid_to: 'infinity' },
    ]);
    expect(await bench.rows('SELECT key, deleted_at FROM parameters')).toEqual([
      { key: 'CORN', deleted_at: changedAt },
    ]);
  });

  it('changes nothing when run again', async () => {
    await setUp();
    await bench.run('sync-parameters');
    const before = await tablesSnapshot(bench);
    expect(await bench.run('sync-parameters')).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect(await tablesSnapshot(bench)).toEqual(before);
  });
});

describe('sync-locations', () => {
  it('lands the locations, and changes nothing when run again', async () => {
    await setUp();
    expect(await bench.run('sync-locations')).toMatchObject({ rowsRead: 2, inserted: 2 });
    expect(await bench.rows('SELECT id, name, customer_id, code, deleted_at FROM locations ORDER BY id')).toEqual([
      { id: 12, name: 'North field', customer_id: 39, code: 'N', deleted_at: null },
      { id: 13, name: 'South field', customer_id: 40, code: null, deleted_at: null },
    ]);
    const before = await tablesSnapshot(bench);
    expect(await bench.run('sync-locations')).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect(await tablesSnapshot(bench)).toEqual(before);
  });
});

describe('sync-locations, given an empty list', () => {
  it('deletes nothing, and says so, when more than SYNC_MAX_DELETE_SHARE of the locations would go at once', async () => {
    await setUp();
    await bench.run('sync-locations');
    sim.addFault({ kind: 'status', status: 200, body: '[]', when: { path: '/location' } });
    const report = await bench.run('sync-locations');
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 0, deleted: 0 });
    expect(report.summary).toBe(
      '0 locations read: no change; 2 of 2 locations are missing from the snapshot, more than SYNC_MAX_DELETE_SHARE=0.5: none marked deleted',
    );
    expect(await bench.rows('SELECT count(*) AS deleted FROM locations WHERE deleted_at IS NOT NULL')).toEqual([
      { deleted: 0 },
    ]);
  });
});

describe('sync-customers, given an empty list', () => {
  it('deletes no customer and takes no probe away from one', async () => {
    await setUp();
    await bench.run('sync-customers');
    await bench.run('sync-probes');
    const before = await bench.rows('SELECT customer_id, serial FROM customer_probes ORDER BY serial');
    sim.addFault({ kind: 'status', status: 200, body: '[]', when: { path: '/customer' } });
    const report = await bench.run('sync-customers');
    expect(report).toMatchObject({ status: 'succeeded', deleted: 0, details: { mappingsRemoved: 0, probesMoved: 0 } });
    expect(report.summary).toContain(
      '2 of 2 customers are missing from the snapshot, more than SYNC_MAX_DELETE_SHARE=0.5: none marked deleted (probe mapping left as it was)',
    );
    expect(await bench.rows('SELECT count(*) AS deleted FROM customers WHERE deleted_at IS NOT NULL')).toEqual([
      { deleted: 0 },
    ]);
    expect(await bench.rows('SELECT customer_id, serial FROM customer_probes ORDER BY serial')).toEqual(before);
    expect(await bench.rows('SELECT count(*) AS versions FROM probe_history')).toEqual([{ versions: 3 }]);
  });
});

describe('sync-customers', () => {
  it("lands a reseller's customers and which probe belongs to whom", async () => {
    await setUp();
    const report = await bench.run('sync-customers');
    expect(report).toMatchObject({ status: 'succeeded', inserted: 2, details: { probesMapped: 3 } });
    expect(await bench.rows('SELECT id, name, email FROM customers ORDER BY id')).toEqual([
      { id: 39, name: 'Green Acres', email: 'office@greenacres.example' },
      { id: 40, name: 'Hill Farm', email: 'hill@hillfarm.example' },
    ]);
    expect(await bench.rows('SELECT customer_id, serial, probe_id FROM customer_probes ORDER BY serial')).toEqual([
      { customer_id: 39, serial: '24000092104', probe_id: 49205 },
      { customer_id: 39, serial: '24000092105', probe_id: 49206 },
      { customer_id: 40, serial: '24000092106', probe_id: 49207 },
    ]);
  });

  it('follows a probe moved to another customer: a new mapping and a new probe version', async () => {
    await setUp();
    await bench.run('sync-customers');
    await bench.run('sync-probes');
    sim.transferProbe('24000092105', 40);
    const customers = await bench.run('sync-customers');
    const probes = await bench.run('sync-probes');
    expect(customers).toMatchObject({ details: { mappingsAdded: 1, mappingsRemoved: 1 } });
    expect(await bench.rows("SELECT customer_id FROM customer_probes WHERE serial = '24000092105'")).toEqual([
      { customer_id: 40 },
    ]);
    expect(probes).toMatchObject({ details: { newVersions: 1 } });
    expect(
      await bench.rows(
        "SELECT customer_id, valid_to FROM probe_history WHERE serial = '24000092105' ORDER BY valid_from",
      ),
    ).toEqual([
      { customer_id: 39, valid_to: new Date(probes.startedAt) },
      { customer_id: 40, valid_to: 'infinity' },
    ]);
  });

  it('moves a probe the API lists with "customer_id": null to the customer the reseller maps it to', async () => {
    await setUp();
    await bench.run('sync-customers');
    await bench.run('sync-probes');
    // the API names no customer of the probe's own as a JSON null, not by leaving the key out
    await runSql(
      bench.db,
      `UPDATE probes SET raw = CAST(regexp_replace(CAST(raw AS VARCHAR), '"customer_id":\\s*\\d+', '"customer_id":null') AS JSON)
       WHERE serial = '24000092105'`,
    );
    expect(await bench.rows("SELECT raw->'$.customer_id' AS own FROM probes WHERE serial = '24000092105'")).toEqual([
      { own: 'null' },
    ]);
    sim.transferProbe('24000092105', 40);
    const customers = await bench.run('sync-customers');
    expect(customers).toMatchObject({ details: { probesMoved: 1 } });
    expect(await bench.rows("SELECT customer_id FROM probes WHERE serial = '24000092105'")).toEqual([
      { customer_id: 40 },
    ]);
  });

  it('says so, and changes nothing, for an account that is not a reseller', async () => {
    await setUp();
    sim.addFault({
      kind: 'status',
      status: 404,
      body: '{"message":"not a reseller"}',
      times: 1,
      when: { method: 'GET', path: '/customer' },
    });
    expect(await bench.run('sync-customers')).toMatchObject({
      status: 'succeeded',
      inserted: 0,
      summary: 'the account is not a reseller: no customers to map',
    });
    expect(await bench.rows('SELECT count(*) AS n FROM customers')).toEqual([{ n: 0 }]);
  });

  it('changes nothing when run again', async () => {
    await setUp();
    await bench.run('sync-customers');
    const before = await tablesSnapshot(bench);
    expect(await bench.run('sync-customers')).toMatchObject({
      inserted: 0,
      updated: 0,
      deleted: 0,
      details: { mappingsAdded: 0, mappingsRemoved: 0 },
    });
    expect(await tablesSnapshot(bench)).toEqual(before);
  });
});

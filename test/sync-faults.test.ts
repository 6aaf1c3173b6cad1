/**
 * Pulls against an API that misbehaves in the middle of paging: the run still ends with the right counts, or
 * fails whole and leaves the warehouse as it was.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator, type Fault } from '../src/simulator/index.js';
import { NOW, smallAccount } from './helpers/account.js';
import { pullBench, tablesSnapshot, type PullBench } from './helpers/pulls.js';

let sim: Simulator;
let bench: PullBench;

beforeEach(async () => {
  sim = await Simulator.start({ account: smallAccount(), now: NOW });
  // one probe per page: page two (skip=1) is "the middle of paging"
  bench = await pullBench(sim, {}, { pageSize: 1 });
});

afterEach(async () => {
  await bench.close();
  await sim.close();
});

const MIDDLE_PAGE = { method: 'GET', path: '/probe', minSkip: 1 };

function probeRequests(): { query: Record<string, string>; status: number }[] {
  return sim.requests.filter((r) => r.method === 'GET' && r.path === '/probe');
}

describe('a pull in the middle of trouble', () => {
  const recoverable: [string, Fault][] = [
    ['a 429 with Retry-After', { kind: 'status', status: 429, retryAfterS: 1, times: 1, when: MIDDLE_PAGE }],
    ['two 503s', { kind: 'status', status: 503, times: 2, when: MIDDLE_PAGE }],
    ['a malformed body', { kind: 'malformed', times: 1, when: MIDDLE_PAGE }],
    ['a reset connection', { kind: 'reset', times: 1, when: MIDDLE_PAGE }],
  ];

  for (const [what, fault] of recoverable) {
    it(`still lands all 3 probes after ${what}`, async () => {
      sim.addFault(fault);
      const report = await bench.run('sync-probes');
      expect(report).toMatchObject({ status: 'succeeded', rowsRead: 3, inserted: 3, updated: 0, deleted: 0 });
      expect(await bench.rows('SELECT count(*) AS n FROM probes')).toEqual([{ n: 3 }]);
      // four pages of one (the last one empty); the middle one asked for twice
      const skips = probeRequests().map((r) => r.query.skip);
      expect([...new Set(skips)]).toEqual(['0', '1', '2', '3']);
      expect(skips.filter((s) => s === '1')).toHaveLength(fault.kind === 'status' && fault.status === 503 ? 3 : 2);
    });
  }

  it('gives up on an answer slower than SENSOTERRA_TIMEOUT_MS and asks again', async () => {
    const impatient = await pullBench(sim, { SENSOTERRA_TIMEOUT_MS: '300' }, { pageSize: 1 });
    try {
      sim.addFault({ kind: 'slow', delayMs: 2_000, times: 1, when: MIDDLE_PAGE });
      expect(await impatient.run('sync-probes')).toMatchObject({ status: 'succeeded', rowsRead: 3, inserted: 3 });
      expect(probeRequests().filter((r) => r.query.skip === '1').length).toBeGreaterThanOrEqual(2);
    } finally {
      await impatient.close();
    }
  });

  it('logs in again once when the key expires in the middle of paging', async () => {
    await bench.run('sync-probes'); // logged in, key in hand
    sim.clearRequests();
    sim.expireKeys();
    const report = await bench.run('sync-probes');
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 3, inserted: 0, updated: 0 });
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(0, 3)).toEqual([
      'GET /probe 403',
      'POST /customer/auth 200',
      'GET /probe 200',
    ]);
  });

  it('fails with the server message on 401, without retrying', async () => {
    sim.addFault({
      kind: 'status',
      status: 401,
      body: '{"message":"Invalid api_key"}',
      times: 1,
      when: { path: '/probe' },
    });
    await expect(bench.run('sync-probes')).rejects.toThrow('GET /probe: 401 Invalid api_key');
    expect(probeRequests()).toHaveLength(1);
  });

  it("fails at the login with the server's own answer to a wrong password, asking once and nothing else", async () => {
    const wrong = await pullBench(sim, { SENSOTERRA_PASSWORD: 'not-the-password' }, { pageSize: 1 });
    try {
      sim.clearRequests();
      await expect(wrong.run('sync-probes')).rejects.toThrow(
        'POST /customer/auth: 401 invalid email or password: check SENSOTERRA_EMAIL/SENSOTERRA_PASSWORD or SENSOTERRA_TOKEN',
      );
      expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /customer/auth 401']);
    } finally {
      await wrong.close();
    }
  });

  it('fails with the 404 a wrong SENSOTERRA_API_URL path gets, asking once', async () => {
    const astray = await pullBench(sim, { SENSOTERRA_API_URL: `${sim.url}/not-the-api` }, { pageSize: 1 });
    try {
      sim.clearRequests();
      const failure = astray.run('sync-probes');
      await expect(failure).rejects.toThrow(
        'POST /customer/auth: 404 no route POST /not-the-api/customer/auth: check SENSOTERRA_API_URL (the default is https://monitor.sensoterra.com/api/v3)',
      );
      expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        'POST /not-the-api/customer/auth 404',
      ]);
    } finally {
      await astray.close();
    }
  });

  it('fails sync-customers on a 404 at the login, rather than taking the account for one that is no reseller', async () => {
    const astray = await pullBench(sim, { SENSOTERRA_API_URL: `${sim.url}/not-the-api` }, { pageSize: 1 });
    try {
      await expect(astray.run('sync-customers')).rejects.toThrow(
        /^POST \/customer\/auth: 404 .*check SENSOTERRA_API_URL/,
      );
    } finally {
      await astray.close();
    }
  });

  it('names the host that refused the connection, and what to check', async () => {
    const port = await closedPort();
    const nobody = await pullBench(sim, { SENSOTERRA_API_URL: `http://127.0.0.1:${port}` }, { pageSize: 1 });
    try {
      await expect(nobody.run('sync-probes')).rejects.toThrow(
        `POST /customer/auth: 127.0.0.1:${port} refused the connection (ECONNREFUSED): check SENSOTERRA_API_URL, or whether the API is up`,
      );
    } finally {
      await nobody.close();
    }
  });

  it('names a host name that does not exist, without asking again', async () => {
    const nowhere = await pullBench(
      sim,
      { SENSOTERRA_API_URL: 'http://sensoterra-sync-test.invalid' },
      {
        pageSize: 1,
        retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, // a retry would outlast the test
      },
    );
    try {
      await expect(nowhere.run('sync-probes')).rejects.toThrow(
        'POST /customer/auth: sensoterra-sync-test.invalid is not a known host name (ENOTFOUND): check SENSOTERRA_API_URL',
      );
    } finally {
      await nowhere.close();
    }
  });

  it('reads the whole list from a server that ignores limit, in one request', async () => {
    sim.ignoreLimit = true;
    const report = await bench.run('sync-probes');
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 3, inserted: 3 });
    expect(probeRequests().map((r) => r.query.limit)).toEqual(['1']);
  });

  it('leaves every table as it was, and records the failure, when a pull fails half-way', async () => {
    await bench.run('sync-probes');
    const before = await tablesSnapshot(bench);
    sim.renameProbe('24000092104', 'Renamed while failing');
    sim.removeProbe('24000092106');
    sim.addFault({
      kind: 'status',
      status: 500,
      body: '{"message":"database on fire"}',
      times: 100,
      when: MIDDLE_PAGE,
    });

    await expect(bench.run('sync-probes')).rejects.toThrow('GET /probe: 500 database on fire');

    expect(await tablesSnapshot(bench)).toEqual(before);
    const runs = await bench.rows('SELECT status, error FROM sync_runs ORDER BY started_at');
    expect(runs).toEqual([
      { status: 'succeeded', error: null },
      { status: 'failed', error: 'GET /probe: 500 database on fire' },
    ]);
    expect(await bench.rows('SELECT count(*) AS staged FROM stage_probes')).toEqual([{ staged: 0 }]);
  });

  it('names the endpoint and the field when an answer breaks the contract', async () => {
    sim.addFault({
      kind: 'status',
      status: 200,
      body: '[{"id": 1, "serial": "24000000001", "status": {"rssi": "weak"}}]',
      times: 1,
      when: { path: '/probe' },
    });
    await expect(bench.run('sync-probes')).rejects.toThrow(
      'GET /probe: field "[0].status.rssi" must be a number or a numeric string',
    );
  });
});

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

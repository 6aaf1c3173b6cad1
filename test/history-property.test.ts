/**
 * Probe history without ambiguity, as a property: whatever sequence of changes lands (seen by syncs or made by
 * commands, some at the same instant, some out of order), every probe's versions cover -infinity to infinity with
 * no gap and no overlap, exactly one is current (the last), every version has an id of its own, the current state
 * agrees with the current version, and a reading joins exactly one version. `npm run fuzz` runs it longer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { probeSchema } from '../src/sensoterra/schemas.js';
import { probeStageRow } from '../src/sync/probe-rows.js';
import { ts } from '../src/warehouse/duckdb.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { runs } from './helpers/push-arbitraries.js';
import { readRows, runSql } from './helpers/warehouse.js';

const BASE = Date.UTC(2024, 6, 1, 12);
const MINUTE = 60_000;
let dir: string;
let db: Warehouse;
let trial = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sensoterra-history-'));
  db = await Warehouse.open(
    join(dir, 'warehouse.duckdb'),
    { memoryLimit: '512MB', threads: 1 },
    createLogger('silent'),
  );
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One change to one probe: what the API said of it, and when the change counts from. */
const change = fc.record({
  probe: fc.integer({ min: 0, max: 1 }),
  by: fc.constantFrom('sync-probes', 'probe update'),
  minute: fc.integer({ min: 0, max: 4 }), // few instants: many changes share one, and arrive out of order
  name: fc.constantFrom('North 1', 'North 2', 'Oak'),
  customer: fc.constantFrom(39, 40),
  place: fc.constantFrom<[number, number] | null>(null, [52.09, 5.12], [-33.87, 151.2]),
  soil: fc.constantFrom('CLAY', 'SAND'),
  interval: fc.constantFrom(15, 60),
});
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

async function apply(serial: string, c: Change, step: number): Promise<void> {
  const runId = `trial-${trial}-${step}`;
  const raw = {
    id: 49_000 + Number(serial.slice(-1)),
    serial,
    name: c.name,
    customer_id: c.customer,
    latitude: c.place?.[0] ?? null,
    longitude: c.place?.[1] ?? null,
    interval: c.interval,
    soil_profile: [{ depth: 0, soil: c.soil }],
  };
  const probe = probeSchema.parse(raw);
  await db.stage('stage_probes', [probeStageRow(runId, { value: probe, raw }, { serials: {}, locations: {} })]);
  await db.applyProbeSnapshot({
    runId,
    at: new Date(BASE + c.minute * MINUTE),
    complete: false,
    maxDeleteShare: 0,
    changedBy: c.by,
  });
  await db.clearStaged(runId);
}

const instant = (v: unknown): number =>
  v === '-infinity' ? -Infinity : v === 'infinity' ? Infinity : (v as Date).getTime();

describe('probe history, whatever changes land in whatever order', () => {
  it('covers all time with no gap and no overlap, one current version, an id per version, one version per reading', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 12 }), async (changes) => {
        trial++;
        const serials = [`T${trial}-0`, `T${trial}-1`];
        for (const [step, c] of changes.entries()) await apply(serials[c.probe]!, c, step);
        const touched = [...new Set(changes.map((c) => serials[c.probe]!))];

        for (const serial of touched) {
          const versions = await readRows(
            db,
            'SELECT version_id, valid_from, valid_to, is_current, name FROM probe_history WHERE serial = $serial ORDER BY valid_from',
            { serial },
          );
          expect(instant(versions[0]!.valid_from)).toBe(-Infinity);
          expect(instant(versions.at(-1)!.valid_to)).toBe(Infinity);
          for (const [i, v] of versions.entries()) {
            expect(instant(v.valid_from)).toBeLessThan(instant(v.valid_to)); // no empty [T, T)
            if (i > 0) expect(instant(v.valid_from)).toBe(instant(versions[i - 1]!.valid_to)); // no gap, no overlap
            expect(v.is_current).toBe(i === versions.length - 1);
          }
          const [current] = await readRows(db, 'SELECT name FROM probes WHERE serial = $serial', { serial });
          expect(current!.name).toBe(versions.at(-1)!.name);
        }
        const [ids] = await readRows(
          db,
          'SELECT count(*) AS versions, count(DISTINCT version_id) AS ids FROM probe_history',
        );
        expect(ids!.ids).toBe(ids!.versions);

        // a reading at each instant a change counted from, and between: each joins exactly one version
        for (const serial of touched) {
          for (let minute = -1; minute <= 5; minute++) {
            await runSql(
              db,
              "INSERT INTO readings (serial, type, depth_cm, ts, value, source, received_at) VALUES ($serial, 'MOISTURE', 10, $ts, 20, 'push', $ts)",
              { serial, ts: ts(new Date(BASE + minute * MINUTE)) },
            );
          }
        }
        const [joined] = await readRows(
          db,
          `SELECT count(*) AS readings, count(DISTINCT (serial, ts)) AS distinct_readings, count(probe_version_id) AS with_version
           FROM readings_enriched WHERE serial IN (${touched.map((s) => `'${s}'`).join(', ')})`,
        );
        expect(joined).toEqual({
          readings: touched.length * 7,
          distinct_readings: touched.length * 7,
          with_version: touched.length * 7,
        });
      }),
      { numRuns: runs(12) },
    );
  }, 120_000);
});

/**
 * A reader of the published export in a process of its own, as a BI tool or a notebook would be: it resolves
 * EXPORT_DIR/current once per read, checks the snapshot and the Parquet files against the version's manifest,
 * and prints one JSON line per read ({ ok, start, end, version, readings } or { ok: false, error }).
 * Usage: node export-reader.js EXPORT_DIR SECONDS
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [exportDir, seconds] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;

async function readOnce(): Promise<Record<string, unknown>> {
  const start = Date.now();
  const dir = realpathSync(join(exportDir!, 'current'));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: string; tables: Record<string, number> };
  const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'), { access_mode: 'READ_ONLY', threads: '1' });
  const c = await instance.connect();
  try {
    const count = async (sql: string): Promise<number> => Number((await c.runAndReadAll(sql)).getRowObjectsJS()[0]!.n);
    const inSnapshot = await count('SELECT count(*) AS n FROM readings');
    const inParquet = await count(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'parquet/readings/**/*.parquet')}')`);
    const daily = await count('SELECT count(*) AS n FROM readings_daily');
    const expected = manifest.tables.readings;
    if (inSnapshot !== expected || inParquet !== expected || daily !== manifest.tables.daily_rollup) {
      return { ok: false, error: `version ${manifest.version}: manifest ${expected}, snapshot ${inSnapshot}, parquet ${inParquet}, daily ${daily}` };
    }
    return { ok: true, start, end: Date.now(), version: manifest.version, readings: expected };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

while (Date.now() < until) {
  try {
    console.log(JSON.stringify(await readOnce()));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: (err as Error).message }));
  }
}

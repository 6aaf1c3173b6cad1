/**
 * A reader of the published export in a process of its own, as a BI tool or a notebook would be. It works in
 * lockstep with the test, so that what it proves does not depend on the machine's speed: for each line "open" on
 * stdin it resolves EXPORT_DIR/current, reads the manifest, opens the snapshot and prints {"opened": version};
 * the test then publishes (switching `current` under the open reader) and sends "finish"; the reader counts the
 * snapshot and the Parquet files against the manifest and prints one JSON line ({ ok, version, readings } or
 * { ok: false, error }). A line "quit" ends it.
 * Usage: node export-reader.js EXPORT_DIR
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

const [exportDir] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function nextLine(): Promise<string> {
  const next = await lines.next();
  return next.done ? 'quit' : next.value.trim();
}

interface Opened {
  dir: string;
  manifest: { version: string; tables: Record<string, number> };
  instance: DuckDBInstance;
  c: DuckDBConnection;
}

async function open(): Promise<Opened> {
  const dir = realpathSync(join(exportDir!, 'current'));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Opened['manifest'];
  const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'), {
    access_mode: 'READ_ONLY',
    threads: '1',
  });
  return { dir, manifest, instance, c: await instance.connect() };
}

async function finish({ dir, manifest, c }: Opened): Promise<Record<string, unknown>> {
  const count = async (sql: string): Promise<number> => Number((await c.runAndReadAll(sql)).getRowObjectsJS()[0]!.n);
  const inSnapshot = await count('SELECT count(*) AS n FROM readings');
  const inParquet = await count(
    `SELECT count(*) AS n FROM read_parquet('${join(dir, 'parquet/readings/**/*.parquet')}')`,
  );
  const daily = await count('SELECT count(*) AS n FROM readings_daily');
  const expected = manifest.tables.readings;
  if (inSnapshot !== expected || inParquet !== expected || daily !== manifest.tables.daily_rollup) {
    return {
      ok: false,
      error: `version ${manifest.version}: manifest ${expected}, snapshot ${inSnapshot}, parquet ${inParquet}, daily ${daily}`,
    };
  }
  return { ok: true, version: manifest.version, readings: expected };
}

for (let command = await nextLine(); command !== 'quit'; command = await nextLine()) {
  let opened: Opened | undefined;
  try {
    opened = await open();
    console.log(JSON.stringify({ opened: opened.manifest.version }));
    if ((await nextLine()) !== 'finish') break;
    console.log(JSON.stringify(await finish(opened)));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: (err as Error).message }));
  } finally {
    opened?.c.closeSync();
    opened?.instance.closeSync();
  }
}

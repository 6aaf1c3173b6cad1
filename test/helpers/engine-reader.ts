/**
 * Opens a published snapshot with one DuckDB engine, as a BI tool built on that engine would, and prints one JSON
 * line saying what it read: the engine's version, the extensions it had loaded, and for every table and view of the
 * snapshot its row count and a digest of its rows (every column as text, instants as microseconds since the epoch so
 * that no time zone enters; rows sorted), or the error it met. Each SQL file given after the snapshot is run as a
 * query too, and reported by row count. And, as a notebook does it, the snapshot attached under a name of its own
 * in an in-memory database, each view counted through that name (`exported.readings_daily`) without a `USE`.
 *
 * Two kinds of engine, each from npm (helpers/engines.ts installs them):
 * - `node-api`: a release of @duckdb/node-api, given as its main module, opened read-only with extension
 *   autoloading and autoinstalling off;
 * - `wasm`: a build of @duckdb/duckdb-wasm, given as its dist/duckdb-node-blocking.cjs, run in Node. It has no json
 *   or icu extension built in and, with autoloading off and no network, can load none: the reader a locked-down BI
 *   driver is. The snapshot is handed to it as a file buffer.
 *
 * Usage: node engine-reader.js node-api|wasm MODULE SNAPSHOT [SQL_FILE...]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ObjectRead {
  rows: number;
  digest: string;
}

export interface EngineReport {
  engine: string; // version() as the engine says it
  extensions: string[]; // loaded ones
  objects: Record<string, ObjectRead | { error: string }>; // every table and view of the snapshot
  queries: Record<string, { rows: number } | { error: string }>; // the SQL files, by file name
  attached: Record<string, { rows: number } | { error: string }>; // every view, through `exported.<view>`
}

/** One way to run a query that answers rows of plain values (numbers, strings, booleans). */
type Ask = (sql: string) => Promise<Record<string, unknown>[]>;

const requireHere = createRequire(import.meta.url);

const NO_AUTOLOADING = { autoload_known_extensions: 'false', autoinstall_known_extensions: 'false' };

interface Opened {
  ask: Ask; // in the snapshot, as the database in use
  attached: Ask; // in a database of its own, the snapshot attached as `exported`
}

/** Opens the snapshot with a release of @duckdb/node-api: as the database itself, and attached in another. */
async function openNodeApi(module: string, file: string): Promise<Opened> {
  const api = (await import(pathToFileURL(module).href)) as {
    DuckDBInstance: {
      create(
        path: string,
        options: Record<string, string>,
      ): Promise<{
        connect(): Promise<{ runAndReadAll(sql: string): Promise<{ getRowObjects(): Record<string, unknown>[] }> }>;
      }>;
    };
  };
  const connect = async (path: string, options: Record<string, string>): Promise<Ask> => {
    const connection = await (await api.DuckDBInstance.create(path, { ...options, ...NO_AUTOLOADING })).connect();
    return async (sql) => (await connection.runAndReadAll(sql)).getRowObjects();
  };
  const ask = await connect(file, { access_mode: 'READ_ONLY' });
  const attached = await connect(':memory:', {});
  await attached(`ATTACH '${file.replaceAll("'", "''")}' AS exported (READ_ONLY)`);
  return { ask, attached };
}

interface WasmModule {
  createDuckDB(bundles: object, logger: object, runtime: object): Promise<WasmDb>;
  VoidLogger: new () => object;
  NODE_RUNTIME: object;
}
interface WasmDb {
  instantiate(progress: () => void): Promise<void>;
  open(config: { path: string }): void;
  registerFileBuffer(name: string, buffer: Uint8Array): void;
  connect(): { query(sql: string): { toArray(): { toJSON(): Record<string, unknown> }[] } };
}

/** Opens the snapshot with a build of @duckdb/duckdb-wasm, its blocking Node API: attached, then in use. */
async function openWasm(module: string, file: string): Promise<Opened> {
  const duckdb = requireHere(module) as WasmModule;
  const dist = dirname(module);
  const bundles = {
    mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: join(dist, 'duckdb-node-mvp.worker.cjs') },
    eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: join(dist, 'duckdb-node-eh.worker.cjs') },
  };
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate(() => undefined);
  db.open({ path: ':memory:' });
  // two connections: `USE` is a connection's own, so one reads through `exported.` and the other in it
  const connect = (): Ask => {
    const connection = db.connect();
    return async (sql) =>
      connection
        .query(sql)
        .toArray()
        .map((row) => row.toJSON());
  };
  const attached = connect();
  await attached('SET autoload_known_extensions = false'); // settings of the database: both connections
  await attached('SET autoinstall_known_extensions = false');
  db.registerFileBuffer('snapshot.duckdb', new Uint8Array(readFileSync(file)));
  await attached("ATTACH 'snapshot.duckdb' AS exported (READ_ONLY)");
  const ask = connect();
  await ask('USE exported');
  return { ask, attached };
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Every table and view of the snapshot with its columns and their types. */
async function objectsOf(ask: Ask): Promise<Map<string, { column: string; type: string }[]>> {
  const columns = await ask(`
    SELECT table_name, column_name, data_type FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
    ORDER BY table_name, column_index`);
  const objects = new Map<string, { column: string; type: string }[]>();
  for (const row of columns) {
    const name = String(row.table_name);
    objects.set(name, [...(objects.get(name) ?? []), { column: String(row.column_name), type: String(row.data_type) }]);
  }
  return objects;
}

/** Row count and a digest of the rows: every column as text, instants as epoch microseconds, rows sorted. */
async function read(ask: Ask, table: string, columns: { column: string; type: string }[]): Promise<ObjectRead> {
  const text = columns.map(({ column, type }) => {
    const value = type === 'TIMESTAMP WITH TIME ZONE' ? `epoch_us(${quote(column)})` : quote(column);
    return `coalesce(CAST(${value} AS VARCHAR), '<null>')`;
  });
  const [row] = await ask(`
    SELECT CAST(count(*) AS INTEGER) AS n, md5(coalesce(string_agg(line, chr(10) ORDER BY line), '')) AS digest
    FROM (SELECT concat_ws(chr(9), ${text.join(', ')}) AS line FROM ${quote(table)})`);
  return { rows: Number(row!.n), digest: String(row!.digest) };
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

async function main(): Promise<void> {
  const [kind, module, file, ...sqlFiles] = process.argv.slice(2);
  if ((kind !== 'node-api' && kind !== 'wasm') || !module || !file)
    throw new Error('usage: engine-reader node-api|wasm MODULE SNAPSHOT [SQL_FILE...]');
  const { ask, attached } = kind === 'wasm' ? await openWasm(module, file) : await openNodeApi(module, file);
  const views = await attached(
    "SELECT view_name FROM duckdb_views() WHERE database_name = 'exported' AND NOT internal ORDER BY 1",
  );
  const throughName: EngineReport['attached'] = {};
  for (const { view_name: view } of views) {
    throughName[String(view)] = await attached(
      `SELECT CAST(count(*) AS INTEGER) AS n FROM exported.${quote(String(view))}`,
    ).then(
      ([row]) => ({ rows: Number(row!.n) }),
      (err: unknown) => ({ error: message(err) }),
    );
  }
  const [version] = await ask('SELECT version() AS v');
  const loaded = await ask('SELECT extension_name FROM duckdb_extensions() WHERE loaded ORDER BY 1');
  const report: EngineReport = {
    engine: String(version!.v),
    extensions: loaded.map((r) => String(r.extension_name)),
    objects: {},
    queries: {},
    attached: throughName,
  };
  for (const [table, columns] of await objectsOf(ask)) {
    report.objects[table] = await read(ask, table, columns).catch((err: unknown) => ({ error: message(err) }));
  }
  for (const sqlFile of sqlFiles) {
    const sql = readFileSync(sqlFile, 'utf8');
    report.queries[basename(sqlFile)] = await ask(sql).then(
      (rows) => ({ rows: rows.length }),
      (err: unknown) => ({ error: message(err) }),
    );
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
// a wasm build keeps its runtime alive; the report is out
process.exit(0);

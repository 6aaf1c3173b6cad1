/**
 * The views agronomists and BI tools query, one readable file each in sql/views/. They are created again every
 * time the warehouse opens (and in every published snapshot), so the files are the truth; this list gives the
 * order, for views built on others.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, sqlFile, type Splices } from './sql-files.js';

export const VIEWS = [
  'probe_soil_layers',
  'soil_thresholds',
  'readings_enriched',
  'readings_daily',
  'probe_latest',
  'probe_health',
] as const;
export type ViewName = (typeof VIEWS)[number];

/**
 * Views that need an extension to compute (probe_soil_layers reads the soil profile with the json extension's
 * from_json). A published snapshot holds their rows as a table instead, so that a reader without extensions (an
 * offline BI driver, duckdb-wasm) reads them, and every view built on them. The other views are written with core
 * functions only.
 */
export const MATERIALIZED_IN_SNAPSHOT: readonly ViewName[] = ['probe_soil_layers'];

/** What the views' files splice, as views: probe_health finds each probe's last reading among all readings. */
const AS_VIEWS: Partial<Record<ViewName, Splices>> = { probe_health: { latest_readings: ident('readings') } };

/** Creates (or replaces) every view in the connection's current database, but those named in `except`. */
export async function createViews(connection: DuckDBConnection, except: readonly ViewName[] = []): Promise<void> {
  for (const view of VIEWS) if (!except.includes(view)) await connection.run(sqlFile(`views/${view}`, AS_VIEWS[view]));
}

/**
 * A view's query without the CREATE VIEW around it, its file's splices filled by `splices`: for a publish that
 * computes the view's rows from what it has just written (probe_health from the probe_latest file).
 */
export function viewQuery(view: ViewName, splices: Splices): string {
  const create = new RegExp(`^CREATE OR REPLACE VIEW ${view} AS$`, 'm');
  const text = sqlFile(`views/${view}`, splices);
  if (!create.test(text)) throw new Error(`sql/views/${view}.sql: expected a line "CREATE OR REPLACE VIEW ${view} AS"`);
  return text.replace(create, '');
}

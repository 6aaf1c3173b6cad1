/**
 * The views agronomists and BI tools query, one readable file each in sql/views/. They are created again every
 * time the warehouse opens (and in every published snapshot), so the files are the truth; this list gives the
 * order, for views built on others.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlFile } from './sql-files.js';

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

/** Creates (or replaces) every view in the connection's current database, but those named in `except`. */
export async function createViews(connection: DuckDBConnection, except: readonly ViewName[] = []): Promise<void> {
  for (const view of VIEWS) if (!except.includes(view)) await connection.run(sqlFile(`views/${view}`));
}

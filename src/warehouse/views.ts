/**
 * The views agronomists and BI tools query, one readable file each in sql/views/. They are created again every
 * time the warehouse opens (and in every published snapshot), so the files are the truth; this list gives the
 * order, for views built on others.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlFile } from './sql-files.js';

export const VIEWS = ['probe_soil_layers', 'soil_thresholds', 'readings_enriched', 'readings_daily', 'probe_latest', 'probe_health'] as const;

/** Creates (or replaces) every view in the connection's current database. */
export async function createViews(connection: DuckDBConnection): Promise<void> {
  for (const view of VIEWS) await connection.run(sqlFile(`views/${view}`));
}

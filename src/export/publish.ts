/**
 * Publishing for BI: the warehouse writes a read-only DuckDB snapshot and Parquet per table into a new version's
 * folder (Warehouse.writeExport, src/warehouse/export.ts), this adds the manifest, and the version is then
 * switched to (versions.ts), so a reader never sees a half-written export.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_EXPORT_FILE_MODE, DEFAULT_PARQUET_COMPRESSION, type ParquetCompression } from '../config.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { STORAGE_VERSION } from '../warehouse/export.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { applyMode, newVersionName, partialDir, prune, switchTo } from './versions.js';

export interface PublishReport {
  version: string;
  path: string; // the version's folder; EXPORT_DIR/current points at it
  tables: Record<string, number>; // rows per table or view
  ms: number;
  pruned: string[];
}

/** How the files are written; each defaults to its variable's default. */
export interface PublishOptions {
  fileMode?: number; // EXPORT_FILE_MODE
  parquetCompression?: ParquetCompression; // EXPORT_PARQUET_COMPRESSION
}

let publishing: Promise<unknown> = Promise.resolve();

/** One publish at a time per process (a scheduled export and an `export` command may meet). */
export function publish(
  db: Warehouse,
  exportDir: string,
  keepVersions: number,
  log: Logger,
  options: PublishOptions = {},
): Promise<PublishReport> {
  const settled = {
    fileMode: options.fileMode ?? DEFAULT_EXPORT_FILE_MODE,
    parquetCompression: options.parquetCompression ?? DEFAULT_PARQUET_COMPRESSION,
  };
  const run = publishing.then(() => publishNow(db, exportDir, keepVersions, log, settled));
  publishing = run.catch(() => undefined);
  return run;
}

async function publishNow(
  db: Warehouse,
  exportDir: string,
  keepVersions: number,
  log: Logger,
  { fileMode, parquetCompression }: Required<PublishOptions>,
): Promise<PublishReport> {
  const started = Date.now();
  const version = newVersionName(new Date(), exportDir);
  const dir = versionFolder(exportDir, version);
  let tables: Record<string, number>;
  try {
    tables = await db.writeExport(dir, parquetCompression);
    const manifest = {
      version,
      published_at: new Date().toISOString(),
      storage_version: STORAGE_VERSION,
      parquet_compression: parquetCompression,
      tables,
    };
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (err) {
    // a full disk, or anything else: the previous version stays current, and no partial files stay behind
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  applyMode(exportDir, dir, fileMode); // EXPORT_FILE_MODE, before anyone can be pointed at it
  const path = switchTo(exportDir, version);
  const pruned = prune(exportDir, keepVersions);
  const report = { version, path, tables, ms: Date.now() - started, pruned };
  log.info({ version, ms: report.ms, readings: report.tables.readings, pruned: pruned.length }, 'export published');
  return report;
}

/**
 * The new version's folder, made empty. EXPORT_DIR must be a folder this process can write (made when missing): a
 * file there, or a path it cannot make, is a setting to fix, said in one line, not a crash to report.
 */
function versionFolder(exportDir: string, version: string): string {
  let found;
  try {
    found = statSync(exportDir, { throwIfNoEntry: false });
  } catch (cause) {
    throw unusableExportDir(exportDir, errorMessage(cause), cause);
  }
  if (found !== undefined && !found.isDirectory()) throw unusableExportDir(exportDir, 'it is not a folder');
  try {
    return partialDir(exportDir, version);
  } catch (cause) {
    throw unusableExportDir(exportDir, errorMessage(cause), cause);
  }
}

function unusableExportDir(exportDir: string, why: string, cause?: unknown): SyncError {
  return new SyncError(
    ErrorCodes.CONFIG_INVALID,
    `EXPORT_DIR=${exportDir} cannot be used (${why}): set EXPORT_DIR to a folder this process can write (it is made when missing)`,
    { cause },
  );
}

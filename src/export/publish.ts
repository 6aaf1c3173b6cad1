/**
 * Publishing for BI: the warehouse writes a read-only DuckDB snapshot and Parquet per table into a new version's
 * folder (Warehouse.writeExport, src/warehouse/export.ts), this adds the manifest, and the version is then
 * switched to (versions.ts), so a reader never sees a half-written export.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  DEFAULT_EXPORT_FILE_MODE,
  DEFAULT_PARQUET_COMPRESSION,
  type BucketConfig,
  type ParquetCompression,
} from '../config.js';
import { publishToBucket, type BucketReport } from './bucket.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  STORAGE_VERSION,
  type ExportFingerprints,
  type ExportOutcome,
  type PreviousExport,
} from '../warehouse/export.js';
import { DAY_KEY } from '../warehouse/days.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { applyMode, currentVersion, newVersionName, partialDir, prune, switchTo, versionDir } from './versions.js';

export interface PublishReport {
  version: string;
  path: string; // the version's folder; EXPORT_DIR/current points at it
  tables: Record<string, number>; // rows per table or view
  ms: number;
  pruned: string[];
  snapshot: ExportOutcome['snapshot']; // the previous snapshot copied and patched, or written whole
  written: string[]; // files written, relative to `path`
  reused: string[]; // files that are hard links to the previous version's
  bucket: BucketReport | undefined; // EXPORT_URL: what went to the bucket
  phases: Record<string, number>; // milliseconds by phase of writing the version
}

/** How the files are written; each defaults to its variable's default. */
export interface PublishOptions {
  fileMode?: number; // EXPORT_FILE_MODE
  parquetCompression?: ParquetCompression; // EXPORT_PARQUET_COMPRESSION
  bucket?: BucketConfig | undefined; // EXPORT_URL: none unless set
}

const MANIFEST = 'manifest.json';
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
    bucket: options.bucket,
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
  { fileMode, parquetCompression, bucket }: PublishOptions & Required<Omit<PublishOptions, 'bucket'>>,
): Promise<PublishReport> {
  const started = Date.now();
  const version = newVersionName(new Date(), exportDir);
  const dir = versionFolder(exportDir, version);
  const previous = previousExport(exportDir, fileMode, log);
  let outcome: ExportOutcome;
  try {
    outcome = await writeVersion(db, dir, parquetCompression, previous, log);
    applyMode(exportDir, dir, fileMode); // EXPORT_FILE_MODE, before anyone can be pointed at it
    const manifest = {
      version,
      published_at: new Date().toISOString(),
      storage_version: STORAGE_VERSION,
      parquet_compression: parquetCompression,
      tables: outcome.tables,
      snapshot: outcome.snapshot,
      files_written: outcome.written.length,
      files_reused: outcome.reused.length,
      phases_ms: outcome.phases,
      fingerprints: outcome.fingerprints,
      // each file as written, for the next publish to reuse only what is still exactly that
      files: signatures(dir),
    };
    writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: fileMode });
    chmodSync(join(dir, MANIFEST), fileMode);
  } catch (err) {
    // a full disk, or anything else: the previous version stays current, and no partial files stay behind
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const path = switchTo(exportDir, version);
  const pruned = prune(exportDir, keepVersions);
  const uploaded =
    bucket === undefined
      ? undefined
      : await publishToBucket(
          bucket,
          { version, dir: path, base: previous?.version, reused: outcome.reused },
          keepVersions,
          log,
        );
  const report = {
    bucket: uploaded,
    version,
    path,
    tables: outcome.tables,
    ms: Date.now() - started,
    pruned,
    snapshot: outcome.snapshot,
    written: outcome.written,
    reused: outcome.reused,
    phases: outcome.phases,
  };
  log.info(
    {
      version,
      ms: report.ms,
      readings: report.tables.readings,
      snapshot: report.snapshot,
      written: report.written.length,
      reused: report.reused.length,
      pruned: pruned.length,
    },
    'export published',
  );
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
  // `current` is the link each publish replaces: anything else there (a folder someone made) it cannot replace
  const current = lstatSync(join(exportDir, 'current'), { throwIfNoEntry: false });
  if (current !== undefined && !current.isSymbolicLink())
    throw new SyncError(
      ErrorCodes.CONFIG_INVALID,
      `${join(exportDir, 'current')} is a ${current.isDirectory() ? 'folder' : 'file'}, not the link to the current version that each publish replaces: move it out of EXPORT_DIR`,
    );
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

/**
 * The version's files, building on `previous` where it can. Building on it reads files another process could have
 * damaged in ways no signature shows (a block overwritten in place, the time put back): if that fails, the version
 * is written whole instead, so that one damaged version does not stop every publish after it.
 */
async function writeVersion(
  db: Warehouse,
  dir: string,
  codec: ParquetCompression,
  previous: PreviousExport | undefined,
  log: Logger,
): Promise<ExportOutcome> {
  try {
    return await db.writeExport(dir, codec, previous);
  } catch (err) {
    if (previous === undefined || isOutOfSpace(err)) throw err;
    log.warn({ err, version: previous.version }, 'publishing on top of the current version failed: writing it whole');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return db.writeExport(dir, codec, undefined);
  }
}

function isOutOfSpace(err: unknown): boolean {
  return /ENOSPC|no space left on device|could not write file/i.test(errorMessage(err));
}

/** Size, modification time, inode and mode of every file of a version but its manifest. */
function signatures(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === MANIFEST) continue;
    const path = relative(dir, join(entry.parentPath, entry.name));
    files[path] = signature(lstatSync(join(dir, path)));
  }
  return files;
}

function signature(stat: Stats): string {
  return `${stat.size}:${Math.round(stat.mtimeMs)}:${stat.ino}:${(stat.mode & 0o777).toString(8)}`;
}

/**
 * The version `current` points at, to build on, with the fingerprints its manifest recorded and the files of it
 * still exactly as it wrote them; none (a full publish) when there is no current version, or its manifest is
 * missing, unreadable or from a build that kept none.
 *
 * A file is reused only if it is a plain file inside that version's folder (not a link out of it, whatever a folder
 * on its path has become) with the size, modification time and inode the manifest recorded, so not written to
 * since (a BI tool that opened the snapshot to write, a truncated file), and the mode files get now (a hard link
 * shares the mode: reusing a file of another EXPORT_FILE_MODE would change the older version's).
 */
function previousExport(exportDir: string, fileMode: number, log: Logger): PreviousExport | undefined {
  const version = currentVersion(exportDir);
  if (version === undefined) return undefined;
  const dir = versionDir(exportDir, version);
  let manifest: { fingerprints?: unknown; files?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as typeof manifest;
  } catch (err) {
    log.warn({ version, err }, 'the current export version has no readable manifest: this publish writes everything');
    return undefined;
  }
  if (!isFingerprints(manifest.fingerprints) || !isFileMap(manifest.files)) {
    log.info({ version }, 'the current export version records no fingerprints: this publish writes everything');
    return undefined;
  }
  const intact = new Set<string>();
  // the version's folder itself a real folder in EXPORT_DIR/versions, not a link to one elsewhere
  let root: string;
  try {
    if (!lstatSync(dir).isDirectory()) return undefined;
    root = realpathSync(dir);
    if (root !== join(realpathSync(join(dir, '..')), version)) return undefined;
  } catch {
    return undefined;
  }
  for (const [path, recorded] of Object.entries(manifest.files)) {
    try {
      const file = join(dir, path);
      const stat = lstatSync(file);
      if (!stat.isFile() || signature(stat) !== recorded || (stat.mode & 0o777) !== fileMode) continue;
      if (!realpathSync(file).startsWith(`${root}${sep}`)) continue;
      intact.add(path);
    } catch {
      // gone, or unreadable: written again
    }
  }
  return { version, dir, fingerprints: manifest.fingerprints, recorded: new Set(Object.keys(manifest.files)), intact };
}

/** Paths relative to a version's folder (no way out of it), each with a recorded signature. */
function isFileMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.entries(value).every(
      ([path, sig]) =>
        typeof sig === 'string' &&
        /^[A-Za-z0-9_=./-]+$/.test(path) &&
        !path.split('/').some((p) => p === '..' || p === '.' || p === ''),
    )
  );
}

function isFingerprints(value: unknown): value is ExportFingerprints {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  const isMap = (v: unknown, key = /^[a-z_]+$/): boolean =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, x]) => key.test(k) && typeof x === 'string');
  return (
    typeof f.format === 'number' &&
    typeof f.storage_version === 'string' &&
    typeof f.parquet_compression === 'string' &&
    typeof f.snapshot_free_share === 'number' &&
    typeof f.readings_columns === 'string' &&
    isMap(f.tables) &&
    isMap(f.readings_days, DAY_KEY) &&
    isMap(f.rollup_days, DAY_KEY) &&
    isMap(f.status_days, DAY_KEY)
  );
}

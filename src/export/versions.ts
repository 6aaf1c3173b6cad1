/**
 * Published versions in EXPORT_DIR, switched atomically:
 *
 *   EXPORT_DIR/current -> versions/<version>      a symlink, replaced by rename(2): readers see old or new, never half
 *   EXPORT_DIR/versions/<version>/                 warehouse.duckdb, parquet/, manifest.json
 *   EXPORT_DIR/versions/<version>.partial/         being written; never pointed at
 *
 * The newest EXPORT_KEEP_VERSIONS are kept; an older one goes only once it has been superseded for a while,
 * so that a reader still inside it (a BI refresh, a notebook) can finish. Who may read them: EXPORT_FILE_MODE
 * (applyMode).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';

const CURRENT = 'current';
const VERSIONS = 'versions';
const PARTIAL = '.partial';
/** How long a superseded version stays for readers still in it, beyond EXPORT_KEEP_VERSIONS. */
export const READER_GRACE_MS = 5 * 60_000;

/** A new, sortable version name: the publish time, with a counter against two publishes in one millisecond. */
export function newVersionName(now = new Date(), exportDir?: string): string {
  const base = now.toISOString().replace(/[:.]/g, '-');
  let name = base;
  for (let n = 1; exportDir && existsSync(join(exportDir, VERSIONS, name)); n++) name = `${base}-${n}`;
  return name;
}

export function partialDir(exportDir: string, version: string): string {
  const dir = join(exportDir, VERSIONS, `${version}${PARTIAL}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The mode of a directory for a file mode: a search (execute) bit for each read bit, 0640 -> 0750. */
function dirModeFor(fileMode: number): number {
  // the owner keeps rwx; the group and others get r-x where files are readable to them, and never write: a folder
  // they could write to would let them swap `current` or a version's files, whatever the files' own mode
  const readable = fileMode & 0o044;
  return 0o700 | readable | (readable >> 2);
}

/**
 * EXPORT_FILE_MODE on a version before it is switched to: every file in it gets `fileMode`, every folder (its own,
 * versions/ and EXPORT_DIR, which holds `current`) the matching directory mode. Needed: the worker writes under a
 * 077 umask (warehouse/duckdb.ts), so otherwise only its owner could read the export. The `current` symlink has no
 * mode of its own (Linux ignores a symlink's): the folders' modes decide who reaches it. A folder keeps its
 * set-group-ID and sticky bits (a shared folder's group stays the files' group); EXPORT_DIR owned by another user
 * keeps the mode they gave it.
 */
export function applyMode(exportDir: string, versionDir: string, fileMode: number): void {
  const dirMode = dirModeFor(fileMode);
  const setDir = (dir: string): void => chmodSync(dir, (statSync(dir).mode & 0o7000) | dirMode);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) chmodSync(path, fileMode);
    }
    setDir(dir);
  };
  walk(versionDir);
  setDir(join(exportDir, VERSIONS));
  if (statSync(exportDir).uid === process.getuid?.()) setDir(exportDir);
}

/** The folder of a complete version. */
export function versionDir(exportDir: string, version: string): string {
  return join(exportDir, VERSIONS, version);
}

/** Completes a version and points `current` at it, in one rename each. */
export function switchTo(exportDir: string, version: string): string {
  const finalDir = versionDir(exportDir, version);
  renameSync(join(exportDir, VERSIONS, `${version}${PARTIAL}`), finalDir);
  const link = join(exportDir, `${CURRENT}.${process.pid}.tmp`);
  rmSync(link, { force: true });
  symlinkSync(join(VERSIONS, version), link);
  renameSync(link, join(exportDir, CURRENT));
  return finalDir;
}

/** The version `current` points at, if any. */
export function currentVersion(exportDir: string): string | undefined {
  try {
    return readlinkSync(join(exportDir, CURRENT)).split('/').pop();
  } catch {
    return undefined;
  }
}

/** Removes what is past EXPORT_KEEP_VERSIONS and its grace, and partial versions a crash left behind. */
export function prune(exportDir: string, keep: number, now = Date.now()): string[] {
  const dir = join(exportDir, VERSIONS);
  const current = currentVersion(exportDir);
  const names = readdirSync(dir).sort();
  const complete = names.filter((n) => !n.endsWith(PARTIAL));
  const removed: string[] = [];
  for (const [i, name] of complete.entries()) {
    const newer = complete[i + 1];
    const supersededAt = newer === undefined ? now : statSync(join(dir, newer)).mtimeMs;
    const tooOld = i < complete.length - keep && now - supersededAt > READER_GRACE_MS;
    if (tooOld && name !== current) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  for (const name of names.filter((n) => n.endsWith(PARTIAL) && n !== `${current}${PARTIAL}`)) {
    if (now - statSync(join(dir, name)).mtimeMs > READER_GRACE_MS)
      rmSync(join(dir, name), { recursive: true, force: true });
  }
  return removed;
}

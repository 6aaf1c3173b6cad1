/**
 * A small tmpfs, for a disk that fills up on purpose: `mount -t tmpfs -o size=...` (tests run as root here).
 * Without the privilege the test that asked for it is skipped, saying why, except under CI=true, where a missing
 * privilege is a failure: CI runs as root on this machine, and a fault test that quietly skips proves nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Fills the disk, leaving about `leaveBytes` free. */
  fill(leaveBytes?: number): void;
  /** Gives back what fill took. */
  free(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `megabytes`, or returns why it cannot (then the caller skips, outside CI). */
export function mountSmallDisk(megabytes: number): SmallDisk | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sensoterra-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = `cannot mount a tmpfs (needs root): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
    if (process.env.CI === 'true') throw new Error(`${why}; under CI=true this test must run`);
    return { unavailable: why };
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes = 0) {
      rmSync(filler, { force: true });
      const { bavail, bsize } = statfsSync(dir);
      const size = Math.max(0, Number(bavail) * Number(bsize) - leaveBytes);
      writeFileSync(filler, Buffer.alloc(size));
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What Linux says about a process: memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat. */
import { readFileSync } from 'node:fs';

const MB = 1024 * 1024;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * A `VmXxx:  123456 kB` field of /proc/<pid>/status, in MB; undefined once the process is gone. VmRSS = RssAnon
 * (heaps: V8, malloc, DuckDB) + RssFile (mapped code, libduckdb.so among it) + RssShmem.
 */
export function vmField(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / MB : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime: fields 14 and 15
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has been busy (every core, every process), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS;
}

/**
 * CPU used by everything except the given processes (the bench, the server under test, Redis) while it runs: the
 * machine is shared, and a test suite running alongside would lower the figures without saying so.
 */
export class OtherLoad {
  private readonly start = performance.now();
  private readonly busyBefore = machineBusySeconds();
  private readonly ownBefore: number;

  constructor(private readonly pids: number[]) {
    this.ownBefore = this.ownSeconds();
  }

  /** Cores used by other processes on average since construction (0.0 = none, 1.0 = a whole core). */
  cores(): number {
    const seconds = (performance.now() - this.start) / 1_000;
    const others = machineBusySeconds() - this.busyBefore - (this.ownSeconds() - this.ownBefore);
    return Math.max(0, others / seconds);
  }

  private ownSeconds(): number {
    return this.pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  }
}

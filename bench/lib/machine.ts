/** Facts about the machine a run was made on: figures mean little without them. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { redisServer } from './queue.js';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  redis: string | undefined;
  /** Redis' process id: when Redis runs on this machine, its CPU is counted as the system's, not as other load. */
  redisPid: number | undefined;
  commit: string | undefined;
  /** 1-minute load average when the run began: above ~0.5 something else was busy, and the figures suffer. */
  loadAverage: number;
}

export async function machineFacts(): Promise<Machine> {
  const redis = await redisServer();
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    redis: redis.version,
    redisPid: redis.pid,
    commit: gitCommit(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The commit measured, marked "+changes" when the working tree differs from it. */
function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return undefined;
  }
}

export function describeMachine(m: Machine): string[] {
  return [
    `date      ${m.date}`,
    `machine   ${m.nproc} CPU (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}`,
    `software  Node ${m.node}, Redis ${m.redis ?? 'unknown'}, commit ${m.commit ?? 'unknown'}`,
    `load      ${m.loadAverage} (1-minute average at the start)${m.loadAverage > 0.5 ? ': WARNING, something else is busy; the figures will be low' : ''}`,
  ];
}

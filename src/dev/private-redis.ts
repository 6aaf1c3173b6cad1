/**
 * A throwaway redis-server: temporary directory, free port, nothing persisted unless asked (`appendonly`). The demo
 * starts one when no Redis answers at REDIS_URL; tests that must stop, kill or restart Redis start their own rather
 * than touch a shared one. A restart (`resume`) uses the same port, directory and settings, so with `appendonly`
 * it comes back with what its AOF holds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedisOptions {
  /** `--appendonly yes` (AOF in its directory, `appendfsync everysec` unless `appendfsync` says otherwise); default no. */
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec' | 'no';
  /** `--maxmemory-policy`; Redis' default is noeviction. */
  maxmemoryPolicy?: string;
  /** `--save`: RDB snapshot points, e.g. '3600 1'; default '' (none). */
  save?: string;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const args = ['--save', options.save ?? '', '--appendonly', options.appendonly ? 'yes' : 'no'];
    if (options.appendfsync) args.push('--appendfsync', options.appendfsync);
    if (options.maxmemoryPolicy) args.push('--maxmemory-policy', options.maxmemoryPolicy);
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'sensoterra-redis-')), args);
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The redis-server's process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts (again, after stop, kill or shutdown) on the same port, directory and settings; waits until it answers. */
  async resume(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      probe.on('error', () => undefined); // "not up yet" is expected here
      try {
        await probe.connect();
        await probe.ping(); // refused with LOADING while it reads its AOF back
        return;
      } catch {
        if (!this.running) throw new Error(`redis-server on port ${this.port} exited at start (is the port taken?)`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Kills it with SIGKILL, as a crash would: nothing is flushed. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = exitOf(child, 10_000, `redis-server on port ${this.port} did not exit on SIGKILL`);
    child.kill('SIGKILL');
    await exited;
  }

  /** Same as kill(). */
  stop(): Promise<void> {
    return this.kill();
  }

  /** The SHUTDOWN command, as an operator would stop it: Redis flushes and fsyncs its AOF, then exits. */
  async shutdown(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = exitOf(child, 10_000, `redis-server on port ${this.port} did not exit on SHUTDOWN`);
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    // Redis closes the connection instead of answering: the command "fails" when it succeeds
    await client.shutdown().catch(() => undefined);
    client.disconnect();
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves when the process exits; rejects after `ms`. */
function exitOf(child: ChildProcess, ms: number, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

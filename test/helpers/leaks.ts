/**
 * What a test file left open: Redis connections, DuckDB files, listening servers, other TCP connections and child
 * processes. The truth comes from /proc (this process's file descriptors, its sockets' rows in /proc/self/net/tcp*,
 * the processes whose parent it is), so it does not depend on how a library keeps its handles. Where it can, a
 * leak names what created it: `recordOrigins` notes the stack at each Redis connect, DuckDB open, server listen and
 * process spawn. test/leak-check.ts runs `expectNoLeaks` after every test file.
 */
import { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Server } from 'node:net';
import { relative, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';

export type LeakKind = 'Redis connection' | 'DuckDB file' | 'server' | 'TCP connection' | 'child process';

export interface OpenResource {
  kind: LeakKind;
  /** Stable across snapshots: `fd:12`, `pid:345`, `redis:<client>` (what a baseline is compared by). */
  key: string;
  what: string;
  /** The test code that created it, when known. */
  origin?: string;
}

const REDIS_PORT = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);

// ---- where things were created ----

const ORIGIN = Symbol('leak-check origin');
type Traced = { [ORIGIN]?: string };
const redisClients = new Set<WeakRef<Redis>>();
const servers = new Set<WeakRef<Server>>();
const duckdbOpens = new Map<string, string>(); // file path -> origin
const spawns = new Map<number, string>(); // pid -> origin

/** The first few frames of the current stack in this project's code (not node_modules, not Node's), as file:line. */
function callerFrames(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const ours = stack
    .split('\n')
    .slice(1)
    .filter((line) => ROOT_FRAME.test(line) && !line.includes('node_modules') && !line.includes('helpers/leaks.'))
    .map((line) => {
      const place = /\(?([^\s()]+:\d+:\d+)\)?$/.exec(line)?.[1] ?? line.trim();
      const fn = /^\s*at (?:async )?([^\s(]+) \(/.exec(line)?.[1];
      return `${relative(process.cwd(), place.replace(/^file:\/\//, ''))}${fn ? ` (${fn})` : ''}`;
    });
  return ours.slice(0, 4).join(' < ') || 'unknown';
}
const ROOT_FRAME = /\/(test|src|jobs|bench)\//;

let recording = false;

/**
 * From now on, notes where each Redis client connects, each DuckDB file opens, each server listens and each child
 * process starts (the libraries' own classes, wrapped once per process: the test file shares them).
 */
export function recordOrigins(): void {
  if (recording) return;
  recording = true;
  // oxlint-disable-next-line typescript/unbound-method -- wrapped below, and called with the instance as this
  const connect = Redis.prototype.connect;
  Redis.prototype.connect = function (this: Redis & Traced, ...args: Parameters<Redis['connect']>) {
    if (this[ORIGIN] === undefined) {
      this[ORIGIN] = callerFrames();
      redisClients.add(new WeakRef(this));
    }
    return connect.apply(this, args);
  };
  // oxlint-disable-next-line typescript/unbound-method -- wrapped below, and called with the instance as this
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server & Traced, ...args: unknown[]) {
    this[ORIGIN] = callerFrames();
    servers.add(new WeakRef(this));
    return (listen as (...a: unknown[]) => Server).apply(this, args);
  } as Server['listen'];
  const create = DuckDBInstance.create.bind(DuckDBInstance);
  DuckDBInstance.create = (path, options) => {
    if (path !== undefined && path !== ':memory:') duckdbOpens.set(resolve(path), callerFrames());
    return create(path, options);
  };
  const fromCache = DuckDBInstance.fromCache.bind(DuckDBInstance);
  DuckDBInstance.fromCache = (path, options) => {
    if (path !== undefined && path !== ':memory:') duckdbOpens.set(resolve(path), callerFrames());
    return fromCache(path, options);
  };
  // spawn, exec and fork all go through ChildProcess#spawn (undeclared in @types/node)
  const proto = ChildProcess.prototype as ChildProcess & { spawn: (...args: unknown[]) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const origin = callerFrames();
    const result = spawn.apply(this, args);
    if (this.pid !== undefined) spawns.set(this.pid, origin);
    return result;
  };
}

/** The file descriptor of a Node socket or server, when it has one (`_handle.fd`, Unix only). */
function fdOf(owner: unknown): number | undefined {
  const fd = (owner as { _handle?: { fd?: unknown } } | undefined)?._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function live<T extends object>(refs: Set<WeakRef<T>>): T[] {
  const out: T[] = [];
  for (const ref of refs) {
    const value = ref.deref();
    if (value === undefined) refs.delete(ref);
    else out.push(value);
  }
  return out;
}

// ---- what is open now ----

interface TcpSocket {
  local: number;
  remote: number;
  listening: boolean;
}

/** TCP sockets of this network namespace by inode, from /proc/self/net/tcp and tcp6. */
function tcpSockets(): Map<string, TcpSocket> {
  const out = new Map<string, TcpSocket>();
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = (address: string) => parseInt(address.split(':')[1] ?? '0', 16);
      out.set(cols[9]!, { local: port(cols[1]!), remote: port(cols[2]!), listening: cols[3] === '0A' });
    }
  }
  return out;
}

/** This process's open file descriptors: fd -> what it points at (a path, `socket:[inode]`, `pipe:[...]`...). */
function descriptors(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // closed between the listing and the look: not open
    }
  }
  return out;
}

/**
 * The descriptors of the kinds above but those whose key is in `known`. The TCP tables are read only when a socket
 * is new: each read is the whole table (thousands of lines after an HTTP load test), and a check polls while sockets
 * close.
 */
function descriptorResources(known: ReadonlySet<string>): OpenResource[] {
  let sockets: Map<string, TcpSocket> | undefined;
  const redisByFd = new Map<number, Redis & Traced>();
  for (const client of live(redisClients)) {
    const fd = fdOf(client.stream);
    if (fd !== undefined) redisByFd.set(fd, client);
  }
  const serverByFd = new Map<number, Server & Traced>();
  for (const server of live(servers)) {
    const fd = fdOf(server);
    if (fd !== undefined) serverByFd.set(fd, server);
  }
  const out: OpenResource[] = [];
  for (const [fd, target] of descriptors()) {
    const key = `fd:${fd}:${target}`;
    if (known.has(key)) continue;
    const file = target.replace(/ \(deleted\)$/, '');
    if (/\.duckdb(\.wal)?$/.test(file)) {
      out.push({ kind: 'DuckDB file', key, what: target, origin: duckdbOpens.get(file.replace(/\.wal$/, '')) });
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const socket = inode === undefined ? undefined : (sockets ??= tcpSockets()).get(inode);
    if (socket === undefined) continue; // a file, pipe, or a socket that is not TCP
    const client = redisByFd.get(fd);
    if (client !== undefined || socket.remote === REDIS_PORT) {
      const name = client === undefined ? '' : ` (ioredis, status ${client.status})`;
      out.push({ kind: 'Redis connection', key, what: `to port ${socket.remote}${name}`, origin: client?.[ORIGIN] });
    } else if (socket.listening) {
      out.push({
        kind: 'server',
        key,
        what: `listening on port ${socket.local}`,
        origin: serverByFd.get(fd)?.[ORIGIN],
      });
    } else {
      out.push({ kind: 'TCP connection', key, what: `port ${socket.local} to port ${socket.remote}` });
    }
  }
  return out;
}

/**
 * Redis clients that are neither closed nor connected: retrying a connection holds the process open too. A client
 * disconnected while it waited to retry stays 'reconnecting' in ioredis with no retry pending (its timer cleared):
 * closed, not counted.
 */
function reconnectingRedis(): OpenResource[] {
  return live(redisClients as Set<WeakRef<Redis & Traced>>)
    .filter(
      (client) =>
        client.status === 'connecting' || (client.status === 'reconnecting' && client['reconnectTimeout'] != null),
    )
    .filter((client) => fdOf(client.stream) === undefined)
    .map((client) => ({
      kind: 'Redis connection' as const,
      key: `redis:${client[ORIGIN]}:${String(client.options.port)}`,
      what: `to port ${String(client.options.port)}, ${client.status}`,
      origin: client[ORIGIN],
    }));
}

/** Processes whose parent is this one and that still run (a zombie has ended: Node reaps it in a moment). */
function childProcesses(): OpenResource[] {
  const out: OpenResource[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // "pid (command) state ppid ...": the command may hold spaces and parentheses, so read after the last ')'
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) !== process.pid || state === 'Z') continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
    } catch {
      command = '?';
    }
    out.push({
      kind: 'child process',
      key: `pid:${name}`,
      what: `pid ${name}: ${command}`,
      origin: spawns.get(Number(name)),
    });
  }
  return out;
}

/** Everything of the kinds above that this process holds now. */
export function openResources(known: ReadonlySet<string> = new Set()): OpenResource[] {
  return [...descriptorResources(known), ...reconnectingRedis(), ...childProcesses()];
}

/** What is open now and was not in `baseline` (an earlier `openResources()`). */
export function leaksSince(baseline: readonly OpenResource[]): OpenResource[] {
  const before = new Set(baseline.map((resource) => resource.key));
  return openResources(before).filter((resource) => !before.has(resource.key));
}

export function describeLeaks(leaks: readonly OpenResource[]): string {
  return leaks
    .map((leak) => `- a ${leak.kind}, ${leak.what}${leak.origin ? `\n    created by ${leak.origin}` : ''}`)
    .join('\n');
}

/**
 * Fails, naming each, if anything opened since `baseline` is still open. Closing often completes a moment after
 * the promise that asked for it (a socket's FIN, a child's exit): it polls briefly before it decides.
 */
export async function expectNoLeaks(baseline: readonly OpenResource[], within = 5_000): Promise<void> {
  const deadline = Date.now() + within;
  let leaks = leaksSince(baseline);
  while (leaks.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    leaks = leaksSince(baseline);
  }
  if (leaks.length > 0) {
    throw new Error(
      `this test file left open what it started (close it in the test or its afterEach/afterAll):\n${describeLeaks(leaks)}`,
    );
  }
}

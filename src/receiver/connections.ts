/**
 * What a client that is not Sensoterra can cost the receiver: a bounded number of open connections, held briefly.
 *
 * - At most PUSH_MAX_CONNECTIONS open at once, so that idle sockets can never use up the process's file
 *   descriptors (which the writer, the pulls and the export need too). Past the cap the oldest connection that has
 *   not yet carried an authenticated push is closed, so a flood of strangers cannot lock the pusher out: its
 *   keep-alive connections are never the ones closed, and a new one of its takes a stranger's place.
 * - A connection is kept alive only once it has carried an authenticated push; every other answer (health checks,
 *   401s, wrong paths) closes it. One that sends nothing is closed by the server's headersTimeout.
 * - Refused credentials are logged with the peer's address, at most once per interval with a count.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

export class ConnectionGuard {
  /** Open connections, oldest first (a Set keeps insertion order). */
  private readonly open = new Set<Socket>();
  private readonly trusted = new WeakSet<Socket>();
  private closedAtCap = 0;

  constructor(
    private readonly max: number,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** For the server's 'connection' event. */
  readonly accept = (socket: Socket): void => {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    if (this.open.size > this.max) this.makeRoom(socket);
  };

  /** The socket carried an authenticated push: keep it alive, never close it to make room. */
  trust(socket: Socket): void {
    this.trusted.add(socket);
  }

  isTrusted(socket: Socket): boolean {
    return this.trusted.has(socket);
  }

  private makeRoom(newcomer: Socket): void {
    let victim = newcomer;
    for (const socket of this.open) {
      if (socket !== newcomer && !this.trusted.has(socket)) {
        victim = socket;
        break;
      }
    }
    victim.destroy();
    if (this.closedAtCap++ % 1_000 === 0) {
      this.log.warn({ open: this.open.size, max: this.max, closed: this.closedAtCap }, 'connection cap PUSH_MAX_CONNECTIONS reached: closing the oldest unauthenticated connection');
    }
  }
}

/** Logs refused credentials at most once per interval, with how many there were and the last peer. */
export class RefusalLog {
  private count = 0;
  private lastLogged = 0;
  private lastPeer: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  refused(peer: string | undefined, why: string): void {
    this.count++;
    this.lastPeer = peer;
    const now = this.now();
    if (now - this.lastLogged < this.intervalMs) return;
    this.log.warn({ peer: this.lastPeer, refused: this.count, why, sinceMs: this.lastLogged === 0 ? undefined : now - this.lastLogged }, 'push refused: wrong credentials');
    this.lastLogged = now;
    this.count = 0;
  }
}

/** Descriptors the rest of the process needs besides the receiver's connections: Redis, DuckDB, pulls, exports. */
const DESCRIPTORS_FOR_THE_REST = 128;

/**
 * Warns at start when PUSH_MAX_CONNECTIONS leaves too few file descriptors for the rest of the process under this
 * process's limit (`ulimit -n`; read from /proc on Linux, not checked elsewhere).
 */
export function warnIfFewFileDescriptors(maxConnections: number, log: Logger): void {
  let limits: string;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return;
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  if (Number.isFinite(soft) && maxConnections + DESCRIPTORS_FOR_THE_REST > soft) {
    log.warn({ maxConnections, openFilesLimit: soft }, `PUSH_MAX_CONNECTIONS leaves fewer than ${DESCRIPTORS_FOR_THE_REST} file descriptors for the rest of the process: lower it below ${Math.max(8, soft - DESCRIPTORS_FOR_THE_REST)}, or raise ulimit -n`);
  }
}

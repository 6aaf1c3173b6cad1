/**
 * What a client that is not Sensoterra can cost the receiver: a bounded number of open connections, held briefly.
 *
 * - At most PUSH_MAX_CONNECTIONS open at once, so that idle sockets can never use up the process's file
 *   descriptors (which the writer, the pulls and the export need too). Past the cap the oldest connection that has
 *   not yet carried an authenticated push is closed, so a flood of strangers cannot lock the pusher out; with no
 *   stranger left, the authenticated connection idle the longest goes, so that even connections holding a leaked
 *   secret cannot keep a new one of the pusher's out.
 * - A connection is kept alive only once it has carried an authenticated push; every other answer (health checks,
 *   401s, wrong paths) closes it. One that sends nothing is closed by the server's headersTimeout.
 * - Refused credentials are logged with the peer's address, at most once per interval with a count.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

interface Held {
  trusted: boolean;
  lastActive: number; // when a request last started on it (ms)
}

export class ConnectionGuard {
  /** Open connections, oldest first (a Map keeps insertion order). */
  private readonly open = new Map<Socket, Held>();
  private closedAtCap = 0;

  constructor(
    private readonly max: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** For the server's 'connection' event. */
  readonly accept = (socket: Socket): void => {
    this.open.set(socket, { trusted: false, lastActive: this.now() });
    socket.once('close', () => this.open.delete(socket));
    if (this.open.size > this.max) this.makeRoom(socket);
  };

  /** A request started on the socket. */
  touch(socket: Socket): void {
    const held = this.open.get(socket);
    if (held !== undefined) held.lastActive = this.now();
  }

  /** The socket carried an authenticated push: keep it alive, and close it to make room only after strangers. */
  trust(socket: Socket): void {
    const held = this.open.get(socket);
    if (held) held.trusted = true;
  }

  isTrusted(socket: Socket): boolean {
    return this.open.get(socket)?.trusted === true;
  }

  /**
   * Closes one connection: the oldest stranger; else the trusted connection whose last request is the oldest, so
   * that even connections holding a leaked secret cannot keep the pusher's new one out; else the newcomer.
   */
  private makeRoom(newcomer: Socket): void {
    let stranger: Socket | undefined;
    let idleTrusted: Socket | undefined;
    let idleSince = Infinity;
    for (const [socket, held] of this.open) {
      if (socket === newcomer) continue;
      if (!held.trusted) {
        stranger = socket;
        break;
      }
      if (held.lastActive < idleSince) {
        idleTrusted = socket;
        idleSince = held.lastActive;
      }
    }
    const victim = stranger ?? idleTrusted ?? newcomer;
    victim.destroy();
    if (this.closedAtCap++ % 1_000 === 0) {
      this.log.warn(
        { open: this.open.size, max: this.max, closed: this.closedAtCap },
        'connection cap PUSH_MAX_CONNECTIONS reached: closing the oldest unauthenticated connection',
      );
    }
  }
}

/**
 * A warning that may come thousands of times a second (refused credentials, a Redis that does not take pushes):
 * logged at most once per interval, with how many there were and from which peers.
 */
export class ThrottledLog {
  private count = 0;
  private lastLogged = 0;
  private peers = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(peer: string | undefined, fields: Record<string, unknown> = {}): void {
    this.count++;
    if (peer !== undefined && this.peers.size < MAX_PEERS_NAMED) this.peers.add(peer);
    const now = this.now();
    if (now - this.lastLogged < this.intervalMs) return;
    this.log.warn(
      {
        ...fields,
        peers: [...this.peers],
        count: this.count,
        sinceMs: this.lastLogged === 0 ? undefined : now - this.lastLogged,
      },
      this.message,
    );
    this.lastLogged = now;
    this.count = 0;
    this.peers = new Set();
  }
}

const MAX_PEERS_NAMED = 10;

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
    log.warn(
      { maxConnections, openFilesLimit: soft },
      `PUSH_MAX_CONNECTIONS leaves fewer than ${DESCRIPTORS_FOR_THE_REST} file descriptors for the rest of the process: lower it below ${Math.max(8, soft - DESCRIPTORS_FOR_THE_REST)}, or raise ulimit -n`,
    );
  }
}

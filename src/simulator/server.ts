/**
 * The fake Sensoterra API over real HTTP (node:http), for `sensoterra-sync simulate`, the demo, tests and benchmarks.
 *
 * One request goes: log it -> maybe a fault -> route (404) -> api_key (401/403) -> READONLY check (403) -> JSON body
 * (400) -> handler. Any error becomes a `{message}` answer; nothing a client sends can crash the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateAccount, type AccountFixture, type FixtureProbe, type SoilLayer } from './account.js';
import { AccountState, cloneFixture, cloneProbe, type ProbeMove, type ProbeStatusChange } from './account-state.js';
import { KeyStore } from './auth.js';
import { handleControl } from './control-routes.js';
import { FaultQueue, applyFault, type Fault } from './faults.js';
import { HttpError, readJsonBody, sendMessage } from './http-io.js';
import { historicReadings, type HistoricReading } from './probe-json.js';
import { findRoute, isWrite, type ApiHost } from './routes.js';

export const API_BASE = '/api/v3';
const DEFAULT_KEY_TTL_MS = 30 * 60_000;
const DEFAULT_TOKEN_SECRET = 'sensoterra-simulator-token-secret';
/** The request log is for tests; a long benchmark must not grow it without bound, so the oldest entries go. */
const MAX_LOGGED_REQUESTS = 100_000;

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default generateAccount({ seed: 1 }). Copied, so the fixture passed in is never changed. */
  account?: AccountFixture;
  /** Seeds reading values; default 1. */
  seed?: number;
  /** A fixed simulated clock; default the real clock. */
  now?: Date;
  /** Login key lifetime, default 30 minutes of simulated time. */
  keyTtlMs?: number;
  /** GET /probe answers the whole list whatever `limit` says. */
  ignoreLimit?: boolean;
  /** HS256 secret for POST /token. */
  tokenSecret?: string;
}

export interface RequestLogEntry {
  method: string;
  /** Relative to the API base, e.g. '/probe'; requests outside the base keep their full path. */
  path: string;
  query: Record<string, string>;
  /** 0 until answered, and for a connection reset without an answer. */
  status: number;
}

export class Simulator {
  readonly url: string;
  /** The live state, changed by the change methods and the write routes. */
  readonly account: AccountFixture;
  readonly requests: RequestLogEntry[] = [];
  ignoreLimit: boolean;
  private readonly state: AccountState;
  private readonly keys: KeyStore;
  private readonly faults = new FaultQueue();
  private readonly host: ApiHost;
  private fixedNow: Date | undefined;

  private constructor(
    private readonly server: Server,
    opts: SimulatorOptions,
  ) {
    const address = server.address() as AddressInfo;
    const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${hostname}:${address.port}${API_BASE}`;
    this.account = opts.account ? cloneFixture(opts.account) : generateAccount({ seed: 1 });
    this.state = new AccountState(this.account);
    this.keys = new KeyStore({
      ttlMs: opts.keyTtlMs ?? DEFAULT_KEY_TTL_MS,
      tokenSecret: opts.tokenSecret ?? DEFAULT_TOKEN_SECRET,
    });
    this.ignoreLimit = opts.ignoreLimit ?? false;
    this.fixedNow = opts.now ? new Date(opts.now.getTime()) : undefined;
    // the routes read ignoreLimit as it is at each request: a test may change it while the simulator runs
    const ignoreLimit = (): boolean => this.ignoreLimit;
    this.host = {
      state: this.state,
      keys: this.keys,
      seed: opts.seed ?? 1,
      get ignoreLimit() {
        return ignoreLimit();
      },
    };
  }

  static async start(opts: SimulatorOptions = {}): Promise<Simulator> {
    const server = createServer({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const sim = new Simulator(server, opts);
    server.on('request', (req, res) => void sim.handle(req, res));
    // A client that sends something that is not HTTP gets a 400 and the server carries on.
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    return sim;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** The seed that reading values are computed from. */
  get seed(): number {
    return this.host.seed;
  }

  now(): Date {
    return this.fixedNow ? new Date(this.fixedNow.getTime()) : new Date();
  }

  /** A fixed simulated time; undefined goes back to the real clock. */
  setNow(d: Date | undefined): void {
    this.fixedNow = d ? new Date(d.getTime()) : undefined;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Applies to the next `times` (default 1) requests matching `when`; by default every API call but the login. */
  addFault(f: Fault): void {
    this.faults.add(f);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): number {
    return this.faults.size();
  }

  /** Every login key issued so far answers 403 from now on (JWTs are not affected). */
  expireKeys(): void {
    this.keys.expireLoginKeys();
  }

  // ---- changes on demand; each throws an Error for an unknown serial, customer or location ----

  renameProbe(serial: string, name: string): void {
    this.state.rename(serial, name);
  }

  /** The probe measures every `minutes` from now on (as the API reports it: `interval`). */
  setMeasuringInterval(serial: string, minutes: number): void {
    this.state.setInterval(serial, minutes);
  }

  moveProbe(serial: string, to: ProbeMove): void {
    this.state.move(serial, to);
  }

  /** Readings measured before now keep the old calibration's values; later ones use the new one. */
  recalibrateProbe(serial: string, soil_profile: SoilLayer[]): void {
    this.state.recalibrate(serial, soil_profile, this.now().getTime());
  }

  addProbe(p: FixtureProbe): void {
    this.state.add(cloneProbe(p));
  }

  /** The probe disappears from every list and its history answers 404; restoreProbe brings it back. */
  removeProbe(serial: string): void {
    this.state.remove(serial);
  }

  restoreProbe(serial: string): void {
    this.state.restore(serial);
  }

  transferProbe(serial: string, customerId: number): void {
    this.state.transfer(serial, customerId);
  }

  setStatus(serial: string, s: ProbeStatusChange): void {
    this.state.setStatus(serial, s);
  }

  addParameter(p: { key: string; type: string; name: string }): void {
    this.state.addParameter(p);
  }

  renameParameter(key: string, name: string): void {
    this.state.renameParameter(key, name);
  }

  removeParameter(key: string): void {
    this.state.removeParameter(key);
  }

  /** Exactly what GET /probe/{id}/{from}/{to} answers for this probe now: readings in [from, to). */
  readings(serial: string, from: Date, to: Date): HistoricReading[] {
    const probe = this.state.requireProbe(serial);
    return [...historicReadings(probe, from.getTime(), to.getTime(), this.now().getTime(), this.seed)];
  }

  /** Sizes and settings, for GET /_sim/state. */
  describe(): Record<string, unknown> {
    return {
      url: this.url,
      now: this.now().toISOString(),
      clock: this.fixedNow ? 'fixed' : 'real',
      ignoreLimit: this.ignoreLimit,
      customers: this.account.customers.length,
      locations: this.account.locations.length,
      parameters: this.account.parameters.length,
      probes: this.account.probes.length,
      removedProbes: this.state.removedCount(),
      pendingFaults: this.faults.size(),
      loggedRequests: this.requests.length,
    };
  }

  // ---- request handling ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that hangs up mid-answer makes these streams emit 'error'; unheard, that would end the process.
    req.on('error', ignore);
    res.on('error', ignore);
    try {
      const url = parseRequestUrl(req.url);
      if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
        await handleControl(this, req, res, url.pathname);
      } else {
        await this.handleApi(req, res, url);
      }
    } catch (err) {
      answerError(res, err);
    }
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const underBase = url.pathname === API_BASE || url.pathname.startsWith(`${API_BASE}/`);
    const path = trimSlash(underBase ? url.pathname.slice(API_BASE.length) : url.pathname);
    const entry = this.logRequest({
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    });
    try {
      const fault = underBase ? this.faults.take(entry) : undefined;
      if (fault && (await applyFault(fault, req, res)) === 'answered') return;
      if (!underBase)
        throw new HttpError(404, `no route ${entry.method} ${url.pathname}: the API lives under ${API_BASE}`);
      await this.serve(req, res, entry);
    } catch (err) {
      answerError(res, err);
    } finally {
      // Set before the client can see the answer: res.end() has run, and I/O callbacks come after this microtask.
      entry.status = res.headersSent ? res.statusCode : 0;
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry): Promise<void> {
    const found = findRoute(entry.method, entry.path);
    if (!found) throw new HttpError(404, `no route ${entry.method} ${entry.path}`);
    const nowMs = this.now().getTime();
    const caller = found.route.public
      ? undefined
      : this.keys.authenticate(header(req, 'api_key'), nowMs, this.account.account.id);
    if (caller?.kind === 'token' && caller.scope === 'READONLY' && isWrite(found.route)) {
      throw new HttpError(403, `token scope READONLY does not allow ${entry.method} ${entry.path}`);
    }
    const body = entry.method === 'GET' ? undefined : await readJsonBody(req);
    const language = (header(req, 'language') ?? '').toLowerCase();
    await found.route.handle(
      { host: this.host, nowMs, params: found.params, query: entry.query, body, language, caller },
      res,
    );
  }

  private logRequest(entry: RequestLogEntry): RequestLogEntry {
    if (this.requests.length >= MAX_LOGGED_REQUESTS) this.requests.splice(0, MAX_LOGGED_REQUESTS / 10);
    this.requests.push(entry);
    return entry;
  }
}

function answerError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy(); // half an answer is already out; cutting it off is the only honest signal left
  } else if (err instanceof HttpError) {
    sendMessage(res, err.status, err.message, err.headers);
  } else {
    sendMessage(res, 500, `simulator error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resolved against a fixed origin; a path like '//x' must stay a path, not become a host. */
function parseRequestUrl(raw: string | undefined): URL {
  try {
    return new URL(`http://simulator${raw?.startsWith('/') ? raw : `/${raw ?? ''}`}`);
  } catch {
    throw new HttpError(400, `cannot parse the request URL ${JSON.stringify(raw)}`);
  }
}

function ignore(): void {}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path || '/';
}

/**
 * The worker's web page (UI_PORT, off by default): the service at a glance, the probes' health, one probe's
 * moisture against what its soil can hold, and coverage by day. Read-only: GET and HEAD only. Bound to
 * UI_HOST (127.0.0.1 by default); with UI_TOKEN set every request must carry it (opened once as /?token=..., it
 * is kept in a cookie for this site only; or sent as `Authorization: Bearer ...`). Without a token (loopback only)
 * a request must name this machine as its Host: a web page elsewhere cannot read it through a name of its own that
 * resolves here (DNS rebinding). Everything it serves comes from the package (users may be offline): the charts'
 * library, the script, the styles, the icon.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { errorMessage } from '../errors.js';
import { closeServer, listenOn, serverUrl } from '../http-server.js';
import type { Logger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Redis } from 'ioredis';
import type { Warehouse } from '../warehouse/warehouse.js';
import { MAX_RANGE_DAYS, UiData, type ProbeRange } from './data.js';
import { FAVICON, STYLES, page, type PageName } from './pages.js';

const COOKIE = 'sensoterra_ui';
const MAX_CONNECTIONS = 64;
/** How long a browser keeps the token once given (Lax: a link followed from another site carries it too). */
const COOKIE_DAYS = 30;
const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const require = createRequire(import.meta.url);
/** Files served under /assets/, from the package: uPlot's build and our own script (src/ui/client/, built). */
const ASSETS: Record<string, { path: () => string; type: string }> = {
  '/assets/uPlot.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  '/assets/uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
  '/assets/app.js': { path: () => join(PACKAGE_ROOT, 'dist/src/ui/client/app.js'), type: 'text/javascript' },
};

const PAGES: Record<string, PageName> = {
  '/': 'service',
  '/probes': 'probes',
  '/probe': 'probe',
  '/coverage': 'coverage',
};

class BadRequest extends Error {}

export class UiServer {
  private readonly assets = new Map<() => string, Buffer>();

  private constructor(
    private readonly server: Server,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly data: UiData,
  ) {}

  /** `redis`: a connection the caller holds (the worker's), read for the service's queues. */
  static async start(deps: { db: Warehouse; config: Config; log: Logger; redis: Redis }): Promise<UiServer> {
    const { config } = deps;
    const log = deps.log.child({ component: 'ui' });
    const server = createServer();
    const ui = new UiServer(server, config, log, new UiData(deps.db, config, deps.redis));
    server.on('request', ui.listener);
    server.maxConnections = MAX_CONNECTIONS; // a few people's browsers, not a crowd: more are closed as they arrive
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await listenOn(server, config.ui, 'the web page', 'UI_PORT / UI_HOST, or UI_PORT=0 for none');
    log.info({ url: ui.url }, 'web page served');
    return ui;
  }

  get url(): string {
    return serverUrl(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    res.on('error', () => undefined); // a browser that goes away ends its request, not the process
    this.handle(req, res).catch((err: unknown) => {
      if (err instanceof BadRequest) return json(res, 400, { error: err.message });
      this.log.error({ err, url: req.url }, 'web page request failed');
      if (!res.headersSent) json(res, 500, { error: `this could not be read: ${errorMessage(err)}` });
      else res.destroy();
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return text(res, 405, `method ${req.method} not allowed: this page is read-only (GET)`, { allow: 'GET, HEAD' });
    if (!this.hostAccepted(req)) {
      const here = `http://127.0.0.1:${this.config.ui.port}/`;
      return text(
        res,
        421,
        `Host ${JSON.stringify(req.headers.host ?? '')} is not this machine: open ${here}, or set UI_TOKEN`,
      );
    }
    if (!this.authorised(req, url, res)) return;
    const path = url.pathname;
    if (path === '/favicon.svg' || path === '/favicon.ico') return send(res, 200, 'image/svg+xml', FAVICON, true);
    if (path === '/assets/app.css') return send(res, 200, 'text/css', STYLES);
    const asset = ASSETS[path];
    if (asset) return send(res, 200, asset.type, this.asset(asset.path), true);
    const name = PAGES[path];
    if (name) return send(res, 200, 'text/html; charset=utf-8', page(name));
    switch (path) {
      case '/api/service':
        return json(res, 200, await this.data.service());
      case '/api/probes':
        return json(res, 200, await this.data.probes());
      case '/api/coverage':
        return json(res, 200, await this.data.coverage(days(url.searchParams.get('days'))));
      case '/api/probe': {
        const serial = url.searchParams.get('serial') ?? '';
        if (!SERIAL.test(serial)) throw new BadRequest('serial: a probe serial (letters, digits, - and _) is needed');
        const found = await this.data.probe(serial, range(url.searchParams));
        return found ? json(res, 200, found) : json(res, 404, { error: `no probe ${serial} in the warehouse` });
      }
      default:
        return text(res, 404, `not found: the pages are ${Object.keys(PAGES).join(', ')}`);
    }
  }

  /** With a token, any name may reach the page (the token guards it); without one, only this machine's names. */
  private hostAccepted(req: IncomingMessage): boolean {
    if (this.config.ui.token !== undefined) return true;
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    return (
      ['localhost', '127.0.0.1', '[::1]', this.config.ui.host.toLowerCase()].includes(host) ||
      /^127(\.\d{1,3}){3}$/.test(host)
    );
  }

  /**
   * No token configured (loopback only): yes. Otherwise the token: ?token= (then kept in a cookie, and the address
   * shown without it), the cookie, or the Authorization header.
   */
  private authorised(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    const { token } = this.config.ui;
    if (token === undefined) return true;
    const given = url.searchParams.get('token');
    if (given !== null && same(given, token)) {
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        // a path of ours, never //host: a Location of two slashes would lead to another site
        location: `/${url.pathname.replace(/^\/+/, '')}${url.search}`,
        'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${COOKIE_DAYS * 86_400}`,
      });
      res.end();
      return false;
    }
    const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    if ((bearer !== undefined && same(bearer, token)) || (cookie !== undefined && same(cookie, token))) return true;
    text(
      res,
      401,
      'this page needs UI_TOKEN: open it once as /?token=<UI_TOKEN>, or send Authorization: Bearer <UI_TOKEN>',
    );
    return false;
  }

  private asset(path: () => string): Buffer {
    let body = this.assets.get(path);
    if (body === undefined) {
      body = readFileSync(path());
      this.assets.set(path, body);
    }
    return body;
  }
}

/** ?days=N for the coverage: 1 to 92, 14 by default. */
function days(value: string | null): number {
  if (value === null) return 14;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 92) throw new BadRequest('days: a whole number from 1 to 92');
  return n;
}

/**
 * ?from=&to= (dates or instants, UTC unless they carry an offset, whatever the host's zone), both or neither; at
 * most MAX_RANGE_DAYS. A date not in the calendar (2026-02-30) is refused, not moved into the next month.
 */
function range(params: URLSearchParams): ProbeRange | undefined {
  const from = params.get('from');
  const to = params.get('to');
  if (from === null && to === null) return undefined;
  const instant = (name: string, value: string | null): Date => {
    const m = value === null ? null : /^(\d{4}-\d{2}-\d{2})(?:[T ]([\d:.]+)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
    // UTC unless it says otherwise (a JS Date would read a time without an offset in the host's zone)
    const date = m === null ? undefined : new Date(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`);
    const day = m === null ? undefined : new Date(`${m[1]}T00:00Z`);
    const inCalendar = day !== undefined && !Number.isNaN(day.getTime()) && day.toISOString().startsWith(m![1]!);
    if (date === undefined || Number.isNaN(date.getTime()) || !inCalendar)
      throw new BadRequest(
        `${name}: a date (2024-07-01) or an instant (2024-07-01T06:00:00Z) is needed, with the other one`,
      );
    return date;
  };
  const span = { from: instant('from', from), to: instant('to', to) };
  if (span.to <= span.from) throw new BadRequest('to must come after from');
  if (span.to.getTime() - span.from.getTime() > MAX_RANGE_DAYS * 86_400_000)
    throw new BadRequest(`the range is longer than ${MAX_RANGE_DAYS} days: choose a shorter one`);
  return span;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Equal, in time that does not depend on where they differ. */
function same(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** `cached`: a file of the package (it changes only with a new build), kept by the browser for an hour. */
function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cached = false): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...(cached && { 'cache-control': 'private, max-age=3600' }),
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** As JSON: a BIGINT from the warehouse (a row count) as a number, or as its digits past 2^53. */
function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint'
      ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : String(v)
      : v,
  );
  send(res, status, 'application/json; charset=utf-8', body);
}

function text(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

/**
 * The API's route table: which handler answers which method and path (relative to /api/v3), and whether the route
 * is public (no api_key) or writes (refused to READONLY tokens).
 */
import type { ServerResponse } from 'node:http';
import type { AccountState } from './account-state.js';
import type { Caller, KeyStore } from './auth.js';
import { createToken, login } from './auth-routes.js';
import { listCustomers, listLocations, listParameters, listProbes, probeHistory } from './read-routes.js';
import { createCustomer, registerProbe, transferProbe, updateProbe } from './write-routes.js';

/** What a handler may use of the running simulator. */
export interface ApiHost {
  readonly state: AccountState;
  readonly keys: KeyStore;
  readonly seed: number;
  readonly ignoreLimit: boolean;
}

export interface ApiContext {
  host: ApiHost;
  /** The simulated clock, read once per request so one answer never straddles two "nows". */
  nowMs: number;
  /** The captured groups of the route's pattern, URL-decoded. */
  params: string[];
  query: Record<string, string>;
  body: unknown;
  /** The `language` header, lower-cased; '' when absent. */
  language: string;
  /** Undefined on public routes. */
  caller: Caller | undefined;
}

export interface Route {
  method: string;
  pattern: RegExp;
  public?: boolean;
  handle(ctx: ApiContext, res: ServerResponse): void | Promise<void>;
}

const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/customer\/auth$/, public: true, handle: login },
  { method: 'POST', pattern: /^\/token$/, handle: createToken },
  { method: 'GET', pattern: /^\/probe$/, handle: listProbes },
  { method: 'POST', pattern: /^\/probe$/, handle: registerProbe },
  { method: 'GET', pattern: /^\/probe\/([^/]+)\/([^/]+)\/([^/]+)$/, handle: probeHistory },
  { method: 'PUT', pattern: /^\/probe\/([^/]+)\/transfer$/, handle: transferProbe },
  { method: 'PUT', pattern: /^\/probe\/([^/]+)$/, handle: updateProbe },
  { method: 'GET', pattern: /^\/location$/, handle: listLocations },
  { method: 'GET', pattern: /^\/parameter$/, handle: listParameters },
  { method: 'GET', pattern: /^\/customer$/, handle: listCustomers },
  { method: 'POST', pattern: /^\/customer$/, handle: createCustomer },
];

export function findRoute(method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1).map(safeDecode) };
  }
  return undefined;
}

/** Anything but a GET changes the account, so a READONLY token may not do it. */
export function isWrite(route: Route): boolean {
  return route.method !== 'GET' && !route.public;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a malformed escape is left as is; the handler then rejects the value
  }
}

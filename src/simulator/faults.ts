/**
 * Fault injection: make the next few matching API requests fail the way real networks and services do, so a client's
 * retry, back-off and parsing paths can be tested on purpose rather than by luck.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from './http-io.js';

export interface FaultMatch {
  method?: string;
  /** A prefix of the path relative to the API base, e.g. '/probe'. */
  path?: string;
  /** Only requests whose `skip` query parameter is at least this (a missing skip counts as 0). */
  minSkip?: number;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfterS?: number; body?: string; times?: number; when?: FaultMatch }
  | { kind: 'slow'; delayMs: number; times?: number; when?: FaultMatch }
  /** 200 with a body that is not valid JSON (truncated). */
  | { kind: 'malformed'; times?: number; when?: FaultMatch }
  /** The socket is destroyed without an answer. */
  | { kind: 'reset'; times?: number; when?: FaultMatch };

export interface RequestFacts {
  method: string;
  path: string;
  query: Record<string, string>;
}

const LOGIN = { method: 'POST', path: '/customer/auth' };

export class FaultQueue {
  private readonly pending: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault): void {
    const problem = checkFault(fault);
    if (problem) throw new Error(problem);
    this.pending.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  size(): number {
    return this.pending.length;
  }

  /** The first fault that matches this request, used up by one; undefined when the request should be served. */
  take(request: RequestFacts): Fault | undefined {
    const index = this.pending.findIndex((entry) => matches(entry.fault.when, request));
    if (index < 0) return undefined;
    const entry = this.pending[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending.splice(index, 1);
    return entry.fault;
  }
}

function matches(when: FaultMatch | undefined, request: RequestFacts): boolean {
  // Logging in is left alone unless a fault names its path: a fault meant for data calls should not eat the login.
  const isLogin = request.method === LOGIN.method && request.path === LOGIN.path;
  if (isLogin && when?.path === undefined) return false;
  if (when?.method !== undefined && when.method.toUpperCase() !== request.method) return false;
  if (when?.path !== undefined && !request.path.startsWith(when.path)) return false;
  if (when?.minSkip !== undefined && Number(request.query.skip ?? 0) < when.minSkip) return false;
  return true;
}

/** Why a value is not a usable Fault (e.g. one posted to /_sim/faults), or null. */
export function checkFault(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'a fault must be an object with a kind';
  const fault = value as Record<string, unknown>;
  if (fault.times !== undefined && !(typeof fault.times === 'number' && fault.times >= 1))
    return 'times must be a number >= 1';
  if (fault.when !== undefined && (typeof fault.when !== 'object' || fault.when === null))
    return 'when must be an object {method?, path?, minSkip?}';
  switch (fault.kind) {
    case 'status':
      return Number.isInteger(fault.status) && (fault.status as number) >= 100 && (fault.status as number) <= 599
        ? null
        : 'a status fault needs status 100..599';
    case 'slow':
      return typeof fault.delayMs === 'number' && fault.delayMs >= 0 ? null : 'a slow fault needs delayMs >= 0';
    case 'malformed':
    case 'reset':
      return null;
    default:
      return `unknown fault kind ${JSON.stringify(fault.kind)}; expected status, slow, malformed or reset`;
  }
}

/**
 * Carries out a fault. 'answered' means the request is finished (failed, garbled or cut off); 'serve' means answer
 * it normally now (a slow fault only delays).
 */
export async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<'answered' | 'serve'> {
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> =
        fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) };
      sendText(
        res,
        fault.status,
        fault.body ?? JSON.stringify({ message: `simulated fault: HTTP ${fault.status}` }),
        headers,
      );
      return 'answered';
    }
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return res.destroyed ? 'answered' : 'serve';
    case 'malformed':
      // A complete HTTP answer whose JSON stops mid-way: the client reads it all and then fails to parse it.
      sendText(res, 200, TRUNCATED_JSON);
      return 'answered';
    case 'reset':
      req.socket.destroy();
      return 'answered';
  }
}

const TRUNCATED_JSON = '[{"id": 50001, "serial": "24000050001", "name": "North fi';

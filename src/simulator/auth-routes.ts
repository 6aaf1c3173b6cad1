/** POST /customer/auth (log in) and POST /token (a long-lived JWT). */
import type { ServerResponse } from 'node:http';
import { parseInstant } from '../time.js';
import { TOKEN_SCOPES, type TokenScope } from './auth.js';
import { HttpError, requireObject, sendJson } from './http-io.js';
import type { ApiContext } from './routes.js';

export function login(ctx: ApiContext, res: ServerResponse): void {
  const body = requireObject(ctx.body);
  if (typeof body.email !== 'string' || typeof body.password !== 'string') {
    throw new HttpError(400, 'email and password are required, both strings');
  }
  const account = ctx.host.state.fixture.account;
  if (body.email.toLowerCase() !== account.email.toLowerCase() || body.password !== account.password) {
    throw new HttpError(401, 'invalid email or password');
  }
  const apiKey = ctx.host.keys.issueLoginKey(ctx.nowMs);
  sendJson(res, 200, { api_key: apiKey, id: account.id, email: account.email, role: account.role ?? 'RESELLER' });
}

/** `expiration` must carry an offset (the service refuses local times) and lie in the future of the simulated clock. */
export function createToken(ctx: ApiContext, res: ServerResponse): void {
  const body = requireObject(ctx.body);
  if (typeof body.tag !== 'string' || body.tag.trim() === '')
    throw new HttpError(400, 'tag must be a non-empty string');
  if (!TOKEN_SCOPES.includes(body.scope as TokenScope)) {
    throw new HttpError(400, `scope must be one of ${TOKEN_SCOPES.join(', ')}, got ${JSON.stringify(body.scope)}`);
  }
  const expiresAtMs = expirationMs(body.expiration);
  if (expiresAtMs <= ctx.nowMs) throw new HttpError(400, `expiration ${String(body.expiration)} is not in the future`);
  const token = ctx.host.keys.issueToken({
    accountId: ctx.host.state.fixture.account.id,
    scope: body.scope as TokenScope,
    tag: body.tag,
    expiresAtMs,
    nowMs: ctx.nowMs,
  });
  sendJson(res, 200, { token });
}

/** An offset at the end of a date-time that parseInstant accepted: Z, ±HH:MM, ±HHMM or ±HH after the time of day. */
const ENDS_WITH_OFFSET = /[Tt ]\d{2}:\d{2}.*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * The expiration through the project's one time rule (src/time.ts), plus the service's own demand for an offset: the
 * official client sends `datetime.astimezone().isoformat()`, e.g. 2038-01-01T00:00:00+01:00.
 */
function expirationMs(value: unknown): number {
  const parsed =
    typeof value === 'string' ? parseInstant(value) : { reason: `got ${JSON.stringify(value) ?? 'nothing'}` };
  if (!(parsed instanceof Date)) throw badExpiration(parsed.reason);
  if (!ENDS_WITH_OFFSET.test(value as string)) throw badExpiration(`${JSON.stringify(value)} has no UTC offset`);
  return parsed.getTime();
}

function badExpiration(reason: string): HttpError {
  return new HttpError(
    400,
    `expiration must be an ISO-8601 date-time with an offset like 2025-12-31T00:00:00+00:00: ${reason}`,
  );
}

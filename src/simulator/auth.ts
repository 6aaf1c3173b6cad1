/**
 * Who is calling: login keys from POST /customer/auth and long-lived JWTs from POST /token, both sent in the
 * `api_key` header. The status codes follow the contract exactly, because clients branch on them:
 * 401 = bad credentials or token (do not retry), 403 = expired (log in again once) or not allowed.
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from './http-io.js';
import { looksLikeJwt, signJwt, verifyJwt } from './jwt.js';

export type TokenScope = 'READONLY' | 'READWRITE';
export const TOKEN_SCOPES: readonly TokenScope[] = ['READONLY', 'READWRITE'];

export type Caller = { kind: 'login'; key: string } | { kind: 'token'; scope: TokenScope; tag: string | undefined };

interface LoginKey {
  issuedAtMs: number;
  revoked: boolean;
}

export class KeyStore {
  private readonly loginKeys = new Map<string, LoginKey>();
  private readonly ttlMs: number;
  private readonly tokenSecret: string;

  constructor(opts: { ttlMs: number; tokenSecret: string }) {
    this.ttlMs = opts.ttlMs;
    this.tokenSecret = opts.tokenSecret;
  }

  issueLoginKey(nowMs: number): string {
    const key = randomBytes(24).toString('hex');
    this.loginKeys.set(key, { issuedAtMs: nowMs, revoked: false });
    return key;
  }

  /** Every key issued so far answers 403 from now on; keys issued later work. */
  expireLoginKeys(): number {
    for (const key of this.loginKeys.values()) key.revoked = true;
    return this.loginKeys.size;
  }

  issueToken(claims: {
    accountId: number;
    scope: TokenScope;
    tag: string;
    expiresAtMs: number;
    nowMs: number;
  }): string {
    return signJwt(
      {
        sub: String(claims.accountId),
        scope: claims.scope,
        tag: claims.tag,
        iat: Math.floor(claims.nowMs / 1000),
        exp: Math.floor(claims.expiresAtMs / 1000),
      },
      this.tokenSecret,
    );
  }

  /** The caller behind an `api_key` header, or an HttpError (401/403) saying what is wrong with it. */
  authenticate(apiKey: string | undefined, nowMs: number, accountId: number): Caller {
    if (apiKey === undefined || apiKey === '')
      throw new HttpError(401, 'missing api_key header: log in with POST /customer/auth');
    if (looksLikeJwt(apiKey)) return this.authenticateToken(apiKey, nowMs, accountId);
    const login = this.loginKeys.get(apiKey);
    if (!login) throw new HttpError(401, 'invalid api_key');
    if (login.revoked || nowMs - login.issuedAtMs > this.ttlMs)
      throw new HttpError(403, 'api_key expired, log in again');
    return { kind: 'login', key: apiKey };
  }

  private authenticateToken(token: string, nowMs: number, accountId: number): Caller {
    const claims = verifyJwt(token, this.tokenSecret);
    if (!claims || claims.sub !== String(accountId))
      throw new HttpError(401, 'invalid api_key: token signature or subject does not match');
    if (claims.exp * 1000 <= nowMs)
      throw new HttpError(403, `api_key expired: token expired at ${new Date(claims.exp * 1000).toISOString()}`);
    const scope = TOKEN_SCOPES.includes(claims.scope as TokenScope) ? (claims.scope as TokenScope) : 'READONLY';
    return { kind: 'token', scope, tag: typeof claims.tag === 'string' ? claims.tag : undefined };
  }
}

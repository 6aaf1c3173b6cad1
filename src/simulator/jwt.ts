/**
 * HS256 JSON Web Tokens with node:crypto, for the long-lived tokens of POST /token. Only what the simulator needs:
 * sign a payload, and verify a token's signature (expiry is the caller's business, against the simulated clock).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  sub: string;
  exp: number; // epoch seconds
  iat?: number;
  scope?: string;
  tag?: string;
  [claim: string]: unknown;
}

export function signJwt(claims: TokenClaims, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  return `${header}.${payload}.${signature(`${header}.${payload}`, secret)}`;
}

/** The claims of a well-signed HS256 token, or null for anything else (garbage, other algorithm, bad signature). */
export function verifyJwt(token: string, secret: string): TokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, given] = parts as [string, string, string];
  const expected = Buffer.from(signature(`${header}.${payload}`, secret));
  const actual = Buffer.from(given);
  // timingSafeEqual throws on different lengths; a length mismatch is simply a wrong signature.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  const decodedHeader = parseJson(header);
  const claims = parseJson(payload);
  if (decodedHeader?.alg !== 'HS256' || claims === null) return null;
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return null;
  return claims as TokenClaims;
}

/** True when the text has the three dot-separated parts of a JWT (login keys have none). */
export function looksLikeJwt(text: string): boolean {
  return text.split('.').length === 3;
}

function signature(input: string, secret: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function parseJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

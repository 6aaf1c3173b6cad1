/**
 * Is a push from Sensoterra? The configured header must carry PUSH_SECRET, and, when PUSH_HMAC_SECRET is set,
 * the HMAC header the hex HMAC-SHA256 of the raw body. Both compared in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

export class PushAuth {
  private readonly secretDigest: Buffer | undefined;

  constructor(private readonly push: Config['push']) {
    this.secretDigest = push.secret === undefined ? undefined : digest(push.secret);
  }

  /** With no secret configured (PUSH_INSECURE=1) every push passes. */
  headerMatches(value: string | string[] | undefined): boolean {
    if (this.secretDigest === undefined) return true;
    if (typeof value !== 'string') return false;
    // hashing both sides first makes the comparison constant-time whatever the lengths
    return timingSafeEqual(digest(value), this.secretDigest);
  }

  signatureMatches(body: Buffer, value: string | string[] | undefined): boolean {
    if (this.push.hmacSecret === undefined) return true;
    if (typeof value !== 'string') return false;
    const given = Buffer.from(value.trim().replace(/^sha256=/i, ''), 'hex');
    const expected = createHmac('sha256', this.push.hmacSecret).update(body).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Is a push from Sensoterra? The configured header must carry PUSH_SECRET, and, when PUSH_HMAC_SECRET is set,
 * the HMAC header the hex HMAC-SHA256 of the raw body. Both compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

const HMAC_HEX = /^(?:sha256=)?([0-9a-f]{64})$/i;
/** A PUSH_SECRET shorter than this is guessable: the receiver warns at start. */
export const SHORT_SECRET = 16;

export class PushAuth {
  private readonly secret: Buffer | undefined;

  constructor(private readonly push: Config['push']) {
    this.secret = push.secret === undefined ? undefined : Buffer.from(push.secret);
  }

  /** With no secret configured (PUSH_INSECURE=1) every push passes. */
  headerMatches(value: string | string[] | undefined): boolean {
    if (this.secret === undefined) return true;
    if (typeof value !== 'string') return false;
    const given = Buffer.from(value);
    // constant time over the secret's length; only the length itself can be learnt, as with every such check
    return given.length === this.secret.length && timingSafeEqual(given, this.secret);
  }

  signatureMatches(body: Buffer, value: string | string[] | undefined): boolean {
    if (this.push.hmacSecret === undefined) return true;
    if (typeof value !== 'string') return false;
    // exactly 64 hex digits: Buffer.from(x, 'hex') alone stops at the first bad character and would accept junk after
    const hex = HMAC_HEX.exec(value)?.[1];
    if (hex === undefined) return false;
    const given = Buffer.from(hex, 'hex');
    const expected = createHmac('sha256', this.push.hmacSecret).update(body).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * Secrets by value: the safety net under the logger's path redaction (logger.ts), for a secret that turns up
 * where no path foresaw it, e.g. ioredis' ReplyError, whose `command.args` carry the password AUTH sent.
 * loadConfig() tells this module the secret values in use (REDIS_URL's password, SENSOTERRA_PASSWORD,
 * SENSOTERRA_TOKEN, PUSH_SECRET, PUSH_HMAC_SECRET); every log line and every error text the CLI prints on stderr
 * then goes through redact(), which replaces each occurrence with [redacted].
 *
 * A value shorter than MIN_SECRET_LENGTH (4) characters is not replaced by value: it would hit ordinary text
 * everywhere (every "a", every "12"), mangling lines and, by where [redacted] appears, giving the value away.
 * Path redaction still hides it in the known fields; a secret that short protects nothing anyway (use a long one).
 * One under 12 characters is hidden only where it stands alone (see alternative()).
 * Cost: one regex pass per line written; nothing at all where nothing is logged.
 */

const MIN_SECRET_LENGTH = 4;
const STANDALONE_BELOW = 12;
export const CENSOR = '[redacted]';

const known = new Set<string>();
let pattern: RegExp | undefined;

/** Adds values to hide from now on (in this process); undefined and too short ones are skipped. */
export function rememberSecrets(values: Iterable<string | undefined>): void {
  const before = known.size;
  for (const value of values) {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) continue;
    known.add(value);
    // as it appears inside a JSON string (a log line) when it holds quotes, backslashes or control characters
    const inJson = JSON.stringify(value).slice(1, -1);
    if (inJson.length >= MIN_SECRET_LENGTH) known.add(inJson);
  }
  if (known.size === before) return;
  // longest first: a secret that contains another is hidden whole
  const alternatives = [...known].sort((a, b) => b.length - a.length).map(alternative);
  pattern = new RegExp(alternatives.join('|'), 'g');
}

/**
 * A long secret is hidden wherever it stands; a short one (under STANDALONE_BELOW characters) only where it stands
 * alone, not inside a longer word or number: PUSH_SECRET=short must not turn "shorter" into "[redacted]er".
 */
function alternative(secret: string): string {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return secret.length >= STANDALONE_BELOW ? escaped : `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`;
}

/**
 * Forgets every value remembered so far: for a process that goes on to another configuration of its own (the test
 * suite runs file after file in one process; a word one file used as a secret is ordinary text in the next).
 */
export function forgetSecrets(): void {
  known.clear();
  pattern = undefined;
}

/** The password of a URL (redis://user:secret@host), as written (percent-encoded) and as sent (decoded). */
export function urlPasswords(url: string): string[] {
  try {
    const { password } = new URL(url);
    if (password === '') return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // a malformed escape: the URL's own text is what will be used
    }
    return [password, decoded];
  } catch {
    return [];
  }
}

/** The text with every known secret replaced by [redacted]. */
export function redact(text: string): string {
  return pattern === undefined ? text : text.replace(pattern, CENSOR);
}

/**
 * Every string written to `stream` goes through redact() first: for what reaches stderr without the logger, such
 * as the CLI's error line or a library's console.error (BullMQ prints an unhandled ReplyError there, AUTH's
 * arguments included).
 */
export function redactWrites(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]) =>
    write(typeof chunk === 'string' ? redact(chunk) : chunk, ...rest);
}

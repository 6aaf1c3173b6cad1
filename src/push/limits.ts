/**
 * The limits a push body is judged against before anything else looks at it, so that the work per body is bounded
 * whatever it holds: how deep it nests, how long its strings are, how many uplinks and readings it carries, and
 * how much of it is unknown fields we keep. JSON.parse does not recurse, and nothing after it goes deeper than
 * PUSH_MAX_DEPTH, so no body can overflow the call stack, here or later (JSON.stringify of what passed is safe).
 * Each limit has its variable (README, "Limits"); a body over one gets a 413 naming it.
 */

export interface PushLimits {
  /** PUSH_MAX_DEPTH: nesting of arrays and objects; the push format itself needs 4 (array, uplink, readings, reading). */
  maxDepth: number;
  /** PUSH_MAX_UPLINKS: uplinks in one body. */
  maxUplinks: number;
  /** PUSH_MAX_READINGS: readings in one uplink. */
  maxReadings: number;
  /** PUSH_MAX_STRING: characters in any string of the body, keys included. */
  maxString: number;
  /** PUSH_MAX_EXTRA: bytes of unknown fields kept for one uplink or one reading (as JSON). */
  maxExtra: number;
}

export const DEFAULT_PUSH_LIMITS: Readonly<PushLimits> = Object.freeze({
  maxDepth: 16,
  maxUplinks: 1_000,
  maxReadings: 1_000,
  maxString: 4_096,
  maxExtra: 16_384,
});

export interface ShapeProblem {
  reason: string;
  /** The limit broken; none for text that is not Unicode (a 400, not a 413). */
  limit?: 'PUSH_MAX_DEPTH' | 'PUSH_MAX_UPLINKS' | 'PUSH_MAX_READINGS' | 'PUSH_MAX_STRING' | 'PUSH_MAX_EXTRA';
}

/**
 * JSON may escape half of a surrogate pair ("\ud800"), which is no character at all: JavaScript keeps it, but
 * DuckDB's JSON refuses it later, in the writer. Such a body is refused whole, here.
 */
const NOT_UNICODE: ShapeProblem = {
  reason: 'the body holds a string that is not valid Unicode (an unpaired surrogate such as \\ud800)',
};

/**
 * The first problem of the parsed body's shape (nesting, string lengths, text that is not Unicode), or undefined.
 * Visits each node once. It recurses, but never deeper than PUSH_MAX_DEPTH (at most 1,000, a bound of ours, not of
 * the body): a level past the limit is refused before it is entered.
 */
export function checkShape(body: unknown, limits: PushLimits): ShapeProblem | undefined {
  return shapeOf(body, 1, limits);
}

function shapeOf(value: unknown, depth: number, limits: PushLimits): ShapeProblem | undefined {
  if (typeof value === 'string') {
    if (value.length > limits.maxString) return tooLongString(value.length, limits);
    return value.isWellFormed() ? undefined : NOT_UNICODE;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > limits.maxDepth) return tooDeep(limits);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = shapeOf(value[i], depth + 1, limits);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const key in value) {
    if (key.length > limits.maxString) return tooLongString(key.length, limits);
    if (!key.isWellFormed()) return NOT_UNICODE;
    const problem = shapeOf((value as Record<string, unknown>)[key], depth + 1, limits);
    if (problem) return problem;
  }
  return undefined;
}

export function tooDeep(limits: PushLimits): Required<ShapeProblem> & { status: 413 } {
  return {
    reason: `the body nests deeper than PUSH_MAX_DEPTH=${limits.maxDepth} levels of arrays and objects`,
    limit: 'PUSH_MAX_DEPTH',
    status: 413,
  };
}

function tooLongString(length: number, limits: PushLimits): ShapeProblem {
  return {
    reason: `the body holds a string of ${length} characters, more than PUSH_MAX_STRING=${limits.maxString}`,
    limit: 'PUSH_MAX_STRING',
  };
}

/** Bodies longer than this are scanned for their nesting before JSON.parse builds them (a short one cannot cost much). */
export const SCAN_BEFORE_PARSE = 16_384;

/**
 * True when the JSON text nests arrays and objects deeper than `max`, found by a scan of its characters (strings
 * skipped), without building anything: a megabyte of `[[[[...` is refused before JSON.parse makes half a million
 * arrays of it. Whether the text is valid JSON is JSON.parse's to say; this only counts brackets.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * One small error class per outcome. Every error carries a greppable `code` (catalogue below), says what happened
 * and what to do, keeps its `cause`, and knows whether retrying can help (`retryable`).
 */

export const ErrorCodes = {
  CONFIG_INVALID: 'E_CONFIG_INVALID',
  USAGE: 'E_USAGE',
  API_AUTH: 'E_API_AUTH', // 401: bad credentials or token; never retried
  API_FORBIDDEN: 'E_API_FORBIDDEN', // 403 that a fresh login did not cure, or a token that may not do this
  API_RATE_LIMITED: 'E_API_RATE_LIMITED', // 429 whose Retry-After is longer than we may wait
  API_UNAVAILABLE: 'E_API_UNAVAILABLE', // 5xx, resets, timeouts after all retries
  API_REQUEST: 'E_API_REQUEST', // other 4xx: the request was wrong
  API_CONTRACT: 'E_API_CONTRACT', // an answer that breaks the documented contract
  REDIS_UNAVAILABLE: 'E_REDIS_UNAVAILABLE',
  WAREHOUSE_LOCKED: 'E_WAREHOUSE_LOCKED',
  WAREHOUSE: 'E_WAREHOUSE',
  WAREHOUSE_DOWN: 'E_WAREHOUSE_DOWN', // the storage failed (a full disk): the worker reopens the file once it can
  WAREHOUSE_CORRUPT: 'E_WAREHOUSE_CORRUPT',
  WAREHOUSE_NEWER: 'E_WAREHOUSE_NEWER', // the warehouse has migrations this build does not know (a downgrade)
  MIGRATION_CHANGED: 'E_MIGRATION_CHANGED', // an applied migration's file has changed since: they are append-only
  STAGE_COLUMNS: 'E_STAGE_COLUMNS', // a stage table's columns differ from src/warehouse/stage-tables.ts
  WORKER_CONFLICT: 'E_WORKER_CONFLICT', // another worker serves this QUEUE_PREFIX with another warehouse
  QUERY_REFUSED: 'E_QUERY_REFUSED',
  QUERY_TIMEOUT: 'E_QUERY_TIMEOUT',
  QUERY_INVALID: 'E_QUERY_INVALID', // SQL that DuckDB cannot parse or bind: a typo, a missing table or column
  SNAPSHOT_INCOMPLETE: 'E_SNAPSHOT_INCOMPLETE',
  PAYLOAD_INVALID: 'E_PAYLOAD_INVALID',
  WORKER_TIMEOUT: 'E_WORKER_TIMEOUT',
  NOT_FOUND: 'E_NOT_FOUND',
  EXPORT_BUCKET: 'E_EXPORT_BUCKET', // EXPORT_URL: the bucket refused or could not be reached; the local export is out
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SyncErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** All configuration problems at once, one per line, each naming the variable and what would be valid. */
export class ConfigError extends SyncError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export class UsageError extends SyncError {
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
  }
}

/** An answer from the Sensoterra API that is not a success. */
export class ApiError extends SyncError {
  readonly status: number | undefined;
  readonly endpoint: string;
  constructor(
    code: ErrorCode,
    endpoint: string,
    message: string,
    options: SyncErrorOptions & { status?: number } = {},
  ) {
    super(code, `${endpoint}: ${message}`, options);
    this.status = options.status;
    this.endpoint = endpoint;
  }
}

/** The API answered, but not in the shape the contract describes. Names the endpoint and the field. */
export class ContractError extends ApiError {
  readonly field: string;
  constructor(endpoint: string, field: string, problem: string, options: SyncErrorOptions = {}) {
    super(ErrorCodes.API_CONTRACT, endpoint, `field "${field}" ${problem}`, {
      ...options,
      retryable: options.retryable ?? true,
    });
    this.field = field;
  }
}

export class RedisUnavailableError extends SyncError {
  constructor(url: string, cause?: unknown) {
    const refused = authRefusal(cause);
    super(
      ErrorCodes.REDIS_UNAVAILABLE,
      refused === undefined
        ? `Redis at ${redactUrl(url)} does not answer: start it (redis-server, or docker compose up -d redis) or set REDIS_URL`
        : `Redis at ${redactUrl(url)} refused the credentials (${refused}): set the password (and user) Redis expects in REDIS_URL`,
      { cause, retryable: true },
    );
  }
}

/** Redis' answer when it refuses AUTH or wants it (WRONGPASS, NOAUTH, ERR invalid password): its first line. */
export function authRefusal(cause: unknown): string | undefined {
  const message = cause instanceof Error ? cause.message.split('\n')[0]! : '';
  return /^(WRONGPASS|NOAUTH)\b|^ERR (invalid password|AUTH\b)/.test(message) ? message : undefined;
}

export class QueryRefusedError extends SyncError {
  constructor(message: string) {
    super(ErrorCodes.QUERY_REFUSED, message);
  }
}

/** Hide the password part of a URL (redis://user:secret@host) before it reaches a log or an error. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Whatever was thrown, as an Error: itself, or (a string, an object, undefined) one whose message says what it was. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let text: string;
  try {
    text = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    text = String(thrown);
  }
  return new Error(`a non-Error was thrown: ${text.slice(0, 500)}`, { cause: thrown });
}

export function errorMessage(err: unknown): string {
  return coerceError(err).message;
}

/** An error as plain data, to travel through Redis (the command channel) and come back as itself. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  retryable?: boolean;
  problems?: string[]; // a ConfigError's
  cause?: SerializedError;
}

/** How many causes deep an error travels: enough for any chain of ours, bounded for one that loops. */
const MAX_CAUSES = 5;
/** How much of a message or stack travels: an error quoting a huge input is not stored whole in Redis. */
const MAX_TEXT = 8_000;
const bounded = (text: string): string => (text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}...`);

export function serializeError(thrown: unknown): SerializedError {
  const chain: SerializedError[] = [];
  let current: unknown = thrown;
  while (current !== undefined && chain.length <= MAX_CAUSES) {
    const err = coerceError(current);
    chain.push({
      name: err.name,
      message: bounded(err.message),
      ...(err.stack === undefined ? {} : { stack: bounded(err.stack) }),
      ...(err instanceof SyncError ? { code: err.code, retryable: err.retryable } : {}),
      ...(err instanceof ConfigError ? { problems: err.problems } : {}),
    });
    current = err === current ? err.cause : undefined; // a coerced non-Error's cause is itself: stop there
  }
  // linked from the innermost out, without recursion
  return chain.reduceRight<SerializedError | undefined>(
    (cause, link) => (cause === undefined ? link : { ...link, cause }),
    undefined,
  )!;
}

/** The error serializeError described: a SyncError (or ConfigError) with its code, message, stack and causes. */
export function deserializeError(data: SerializedError): Error {
  const chain: SerializedError[] = [];
  for (let link: SerializedError | undefined = data; link && chain.length <= MAX_CAUSES; link = link.cause) {
    chain.push(link);
  }
  let cause: Error | undefined;
  for (const link of chain.reverse()) {
    const options = { ...(cause === undefined ? {} : { cause }), retryable: link.retryable ?? false };
    const err =
      link.problems !== undefined
        ? new ConfigError(link.problems)
        : link.code !== undefined
          ? new SyncError(link.code, link.message, options)
          : new Error(link.message, cause === undefined ? undefined : { cause });
    if (link.code === undefined) err.name = link.name;
    if (link.stack !== undefined) err.stack = link.stack;
    cause = err;
  }
  return cause!;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof SyncError ? err.retryable : true;
}

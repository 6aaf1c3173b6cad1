/**
 * The Sensoterra API over undici: authentication, one request-rate limit for the whole client, timeouts, retries.
 *
 * What each answer means (shared/docs/sensoterra-api.md):
 *   401  bad credentials or token: never retried, fails with the server's message;
 *   403  the login key expired: log in again once and retry (a long-lived token cannot log in: fail clearly);
 *   429  wait for Retry-After, up to SENSOTERRA_MAX_RETRY_AFTER_S; longer fails the run so the job retries later;
 *   5xx, connection resets, timeouts, malformed bodies: bounded retries, exponential backoff with jitter.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { DEFAULT_API_URL } from '../config.js';
import { ApiError, ContractError, ErrorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import { jsonArrayBatches, MalformedJsonError } from './json-array-stream.js';
import { RateLimiter, sleep } from './rate-limiter.js';
import { LOGIN_ENDPOINT } from './endpoints.js';
import type { Metrics } from '../metrics/metrics.js';
import { loginSchema, parseElement } from './schemas.js';

export type Credentials = { email: string; password: string } | { token: string };

export interface RetryPolicy {
  attempts: number; // tries per request for 5xx, resets, timeouts and malformed bodies
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface HttpOptions {
  baseUrl: string;
  credentials: Credentials;
  language: string;
  timeoutMs: number;
  rateLimit: number; // requests per second, for the whole client
  maxRetryAfterS: number;
  retry?: Partial<RetryPolicy>;
  log: Logger;
  /** Where requests by status and retries are counted (the worker's, served on METRICS_PORT). */
  metrics?: Metrics;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

/** Where one request stands on its way to an answer. */
interface Tries {
  endpoint: string;
  attempt: number; // counts failures that backoff applies to (5xx, resets, timeouts)
  relogged: boolean;
  rateLimitedWaits: number;
  authenticated: boolean;
  signal: AbortSignal | undefined;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };
const MAX_RATE_LIMITED_WAITS = 20;

export class SensoterraHttp {
  private readonly agent: Agent;
  private readonly limiter: RateLimiter;
  private readonly retry: RetryPolicy;
  private apiKey: string | undefined;
  private login: Promise<string> | undefined;

  constructor(private readonly options: HttpOptions) {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
    this.limiter = new RateLimiter(options.rateLimit);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if ('token' in options.credentials) this.apiKey = options.credentials.token;
  }

  get usesToken(): boolean {
    return 'token' in this.options.credentials;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** One request whose whole JSON answer is parsed (small answers: objects, short lists). */
  async json(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const endpoint = `${method} ${path}`;
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(method, path, opts);
      let text: string;
      try {
        text = await res.body.text();
      } catch (cause) {
        await this.retryOrThrow(endpoint, attempt, this.transportError(endpoint, cause), opts.signal);
        continue;
      }
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text);
      } catch (cause) {
        await this.retryOrThrow(
          endpoint,
          attempt,
          new ContractError(endpoint, '(body)', 'is not valid JSON', { cause }),
          opts.signal,
        );
      }
    }
  }

  /**
   * A list endpoint's answer, element by element, in batches as they arrive. A malformed or interrupted body is
   * requested again only while nothing of it has been handed out; after that the error goes to the caller,
   * whose run then fails whole (and is retried as a job) rather than half-applied.
   */
  async *arrayBatches(path: string, opts: RequestOptions & { batchSize: number }): AsyncGenerator<unknown[]> {
    const endpoint = `GET ${path}`;
    for (let attempt = 1; ; attempt++) {
      const res = await this.send('GET', path, opts);
      let handedOut = false;
      try {
        for await (const batch of jsonArrayBatches(res.body, opts.batchSize)) {
          handedOut = true;
          yield batch;
        }
        return;
      } catch (cause) {
        res.body.destroy();
        const err =
          cause instanceof MalformedJsonError
            ? new ContractError(endpoint, '(body)', `is not a valid JSON array (${cause.message})`, { cause })
            : this.transportError(endpoint, cause);
        if (handedOut) throw err;
        await this.retryOrThrow(endpoint, attempt, err, opts.signal);
      }
    }
  }

  /** Sends until a 2xx answer comes back, whose body is left for the caller to read. */
  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
    authenticated = true,
  ): Promise<Dispatcher.ResponseData> {
    const tries: Tries = {
      endpoint: `${method} ${path}`,
      attempt: 1,
      relogged: false,
      rateLimitedWaits: 0,
      authenticated,
      signal: opts.signal,
    };
    for (;;) {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.requestOnce(method, path, opts, authenticated);
      } catch (cause) {
        // an ApiError here is the login's own answer (a 401, a 404 from a wrong SENSOTERRA_API_URL), already
        // retried as far as it deserved by the login's own send: final, not a transport failure to try again
        if (opts.signal?.aborted || cause instanceof ApiError) throw cause;
        await this.retryOrThrow(
          tries.endpoint,
          tries.attempt++,
          this.transportError(tries.endpoint, cause),
          opts.signal,
        );
        continue;
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      await this.afterFailure(res, tries);
    }
  }

  private async requestOnce(
    method: string,
    path: string,
    opts: RequestOptions,
    authenticated: boolean,
  ): Promise<Dispatcher.ResponseData> {
    await this.limiter.take(opts.signal);
    const headers: Record<string, string> = { accept: 'application/json', language: this.options.language };
    if (authenticated) headers.api_key = await this.currentKey(opts.signal);
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await request(this.url(path, opts.query), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        dispatcher: this.agent,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: opts.signal,
      });
      this.options.metrics?.apiRequests.inc({ status: res.statusCode });
      return res;
    } catch (err) {
      this.options.metrics?.apiRequests.inc({ status: 'error' });
      throw err;
    }
  }

  /** Returns when the request should be sent again (after a wait, a login, a backoff); throws when it should not. */
  private async afterFailure(res: Dispatcher.ResponseData, tries: Tries): Promise<void> {
    const message = await serverMessage(res);
    const { endpoint } = tries;
    const status = res.statusCode;
    if (status === 401) {
      throw new ApiError(
        ErrorCodes.API_AUTH,
        endpoint,
        `401 ${message}: check SENSOTERRA_EMAIL/SENSOTERRA_PASSWORD or SENSOTERRA_TOKEN`,
        { status },
      );
    }
    if (status === 403 && tries.authenticated && !this.usesToken && !tries.relogged) {
      tries.relogged = true; // the key expired: one fresh login, then the same request again
      this.options.log.info({ endpoint }, 'sensoterra key expired, logging in again');
      this.options.metrics?.apiRetries.inc({ reason: 'login' });
      this.forgetKey();
      return;
    }
    if (status === 403) throw this.forbidden(endpoint, message);
    if (status === 429) return this.waitForRetryAfter(res, tries);
    if (status >= 500) {
      const err = new ApiError(ErrorCodes.API_UNAVAILABLE, endpoint, `${status} ${message}`, {
        status,
        retryable: true,
      });
      return this.retryOrThrow(endpoint, tries.attempt++, err, tries.signal);
    }
    // the login's address is fixed: a 404 there means the base URL is wrong, not that something was not found
    const hint =
      status === 404 && !tries.authenticated ? `: check SENSOTERRA_API_URL (the default is ${DEFAULT_API_URL})` : '';
    throw new ApiError(ErrorCodes.API_REQUEST, endpoint, `${status} ${message}${hint}`, { status });
  }

  private async waitForRetryAfter(res: Dispatcher.ResponseData, tries: Tries): Promise<void> {
    const waitS = retryAfterSeconds(res.headers['retry-after']);
    if (waitS > this.options.maxRetryAfterS || ++tries.rateLimitedWaits > MAX_RATE_LIMITED_WAITS) {
      const why = `429 rate limited, Retry-After ${waitS}s is longer than SENSOTERRA_MAX_RETRY_AFTER_S=${this.options.maxRetryAfterS}: the run will be retried later`;
      throw new ApiError(ErrorCodes.API_RATE_LIMITED, tries.endpoint, why, { status: 429, retryable: true });
    }
    this.options.log.warn({ endpoint: tries.endpoint, retryAfterS: waitS }, 'sensoterra rate limited, waiting');
    this.options.metrics?.apiRetries.inc({ reason: 'rate_limited' });
    await sleep(waitS * 1000, tries.signal);
  }

  private forbidden(endpoint: string, message: string): ApiError {
    const readOnly = /read.?only|scope/i.test(message);
    const hint = !this.usesToken
      ? 'a fresh login was refused too: this account may not do this'
      : readOnly
        ? 'SENSOTERRA_TOKEN is a read-only token: changes need a token with write scope, or SENSOTERRA_EMAIL/SENSOTERRA_PASSWORD'
        : 'the token has expired or does not allow this: create a new one with POST /token';
    return new ApiError(ErrorCodes.API_FORBIDDEN, endpoint, `403 ${message}: ${hint}`, { status: 403 });
  }

  private async retryOrThrow(endpoint: string, attempt: number, err: ApiError, signal?: AbortSignal): Promise<void> {
    if (!err.retryable || attempt >= this.retry.attempts) throw err;
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2); // "equal jitter"
    this.options.log.warn({ endpoint, attempt, delayMs, err }, 'sensoterra request failed, retrying');
    this.options.metrics?.apiRetries.inc({ reason: 'backoff' });
    await sleep(delayMs, signal);
  }

  /**
   * A request that got no HTTP answer, said with the host it went to and what to check. A host name that does not
   * exist is not retried (asking again in a second will not make it exist); the rest may be passing trouble.
   */
  private transportError(endpoint: string, cause: unknown): ApiError {
    const code = (cause as { code?: string }).code ?? 'ERROR';
    const { host, hostname } = new URL(this.options.baseUrl);
    const check = 'check SENSOTERRA_API_URL';
    const [what, retryable] =
      code === 'ENOTFOUND'
        ? [`${hostname} is not a known host name (${code}): ${check}`, false]
        : code === 'ECONNREFUSED'
          ? [`${host} refused the connection (${code}): ${check}, or whether the API is up`, true]
          : code === 'UND_ERR_CONNECT_TIMEOUT'
            ? [`could not connect to ${host} in time (${code}): ${check}, and whether this machine can reach it`, true]
            : code.includes('TIMEOUT')
              ? [`no answer from ${host} within SENSOTERRA_TIMEOUT_MS=${this.options.timeoutMs}`, true]
              : [`the connection to ${host} failed (${code})`, true];
    return new ApiError(ErrorCodes.API_UNAVAILABLE, endpoint, what, { cause, retryable });
  }

  private url(path: string, query: Query = {}): string {
    const url = new URL(this.options.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  private async currentKey(signal?: AbortSignal): Promise<string> {
    if (this.apiKey !== undefined) return this.apiKey;
    this.login ??= this.logIn(signal).finally(() => (this.login = undefined));
    return this.login;
  }

  private forgetKey(): void {
    if (!this.usesToken) this.apiKey = undefined;
  }

  private async logIn(signal?: AbortSignal): Promise<string> {
    const creds = this.options.credentials as { email: string; password: string };
    const endpoint = LOGIN_ENDPOINT;
    const res = await this.send(
      'POST',
      '/customer/auth',
      { body: { email: creds.email, password: creds.password }, signal },
      false,
    );
    let body: unknown;
    try {
      body = JSON.parse(await res.body.text());
    } catch (cause) {
      throw new ContractError(endpoint, '(body)', 'is not valid JSON', { cause });
    }
    const { api_key } = parseElement(loginSchema, body, endpoint, '');
    this.apiKey = api_key;
    this.options.log.debug({ endpoint }, 'logged in to sensoterra');
    return api_key;
  }
}

async function serverMessage(res: Dispatcher.ResponseData): Promise<string> {
  const text = await res.body.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed?.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || 'no message';
}

/** Retry-After as seconds (delta-seconds or an HTTP date); 1 s when missing or unreadable. */
export function retryAfterSeconds(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return 1;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

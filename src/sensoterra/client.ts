/**
 * The Sensoterra Customer API, typed, one method per resource. Lists come page by page (or batch by batch when
 * streamed), each element with its raw JSON so that unknown fields are kept.
 * Write calls whose paths the public contract only assumes live in management.ts.
 */
import type { Config } from '../config.js';
import { requireApiCredentials } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { SensoterraHttp, type Credentials, type RetryPolicy } from './http.js';
import { ManagementApi } from './management.js';
import { pagedList, wholeList, type Element } from './paging.js';
import {
  customerSchema,
  historicReadingSchema,
  locationSchema,
  parameterSchema,
  probeSchema,
  type ApiCustomer,
  type ApiHistoricReading,
  type ApiLocation,
  type ApiParameter,
  type ApiProbe,
} from './schemas.js';

const DEFAULT_PAGE_SIZE = 500;

export interface ClientOptions {
  pageSize?: number;
  retry?: Partial<RetryPolicy>;
  metrics?: Metrics;
}

export class SensoterraClient {
  readonly http: SensoterraHttp;
  readonly management: ManagementApi;
  private readonly pageSize: number;
  private readonly credentials: Credentials;

  constructor(config: Config, log: Logger, options: ClientOptions = {}) {
    requireApiCredentials(config);
    const { email, password, token } = config.api;
    const credentials: Credentials = token !== undefined ? { token } : { email: email!, password: password! };
    this.credentials = credentials;
    this.http = new SensoterraHttp({
      baseUrl: config.api.url,
      credentials,
      language: config.api.language,
      timeoutMs: config.api.timeoutMs,
      rateLimit: config.api.rateLimit,
      maxRetryAfterS: config.api.maxRetryAfterS,
      retry: options.retry,
      metrics: options.metrics,
      log: log.child({ component: 'sensoterra-client' }),
    });
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.management = new ManagementApi(this.http);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Every probe of the account (and its customers' probes, for a reseller), or one customer's. */
  probes(opts: { customerId?: number; signal?: AbortSignal } = {}): AsyncGenerator<Element<ApiProbe>[]> {
    const query = { include_shared_data: 'YES', customer: opts.customerId };
    return pagedList(this.http, '/probe', probeSchema, { query, pageSize: this.pageSize, signal: opts.signal });
  }

  locations(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Element<ApiLocation>[]> {
    return wholeList(this.http, '/location', locationSchema, {
      query: { include_shared_data: 'YES' },
      batchSize: this.pageSize,
      signal: opts.signal,
    });
  }

  parameters(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Element<ApiParameter>[]> {
    return wholeList(this.http, '/parameter', parameterSchema, { batchSize: this.pageSize, signal: opts.signal });
  }

  /** A reseller's customers. */
  customers(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Element<ApiCustomer>[]> {
    return wholeList(this.http, '/customer', customerSchema, { batchSize: this.pageSize, signal: opts.signal });
  }

  /** Historic readings of one probe in [from, to). */
  historicReadings(
    probeId: number,
    from: Date,
    to: Date,
    opts: { signal?: AbortSignal } = {},
  ): AsyncGenerator<Element<ApiHistoricReading>[]> {
    const path = `/probe/${probeId}/${from.toISOString()}/${to.toISOString()}`;
    return wholeList(this.http, path, historicReadingSchema, { batchSize: 5000, signal: opts.signal });
  }

  /** When a long-lived token stops working (its `exp` claim), if one is configured and readable. */
  tokenExpiry(): Date | undefined {
    return 'token' in this.credentials ? jwtExpiry(this.credentials.token) : undefined;
  }
}

export function jwtExpiry(token: string): Date | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Start-up check: a long-lived token that expires soon (or has) is worth a warning before runs start failing. */
export function warnIfTokenExpiring(token: string | undefined, log: Logger, now = Date.now()): void {
  if (token === undefined) return;
  const expiry = jwtExpiry(token);
  if (expiry === undefined) return;
  const daysLeft = (expiry.getTime() - now) / 86_400_000;
  if (daysLeft <= 0)
    log.error({ expiry }, 'SENSOTERRA_TOKEN has expired: create a new token (POST /token) and restart');
  else if (daysLeft < TOKEN_WARNING_DAYS)
    log.warn(
      { expiry, daysLeft: Math.floor(daysLeft) },
      'SENSOTERRA_TOKEN expires soon: create a new one (POST /token)',
    );
}

const TOKEN_WARNING_DAYS = 14;

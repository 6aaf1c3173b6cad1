/**
 * Configuration: parsed once from the environment (and a `.env` file if present) into a typed, frozen object.
 * Nothing else in the code base reads `process.env`. Every problem is reported together, each naming the
 * variable and what would be valid.
 *
 * The schedule variables (SCHEDULE_PROBES, ...) are declared by the jobs that own them, in jobs/: this module sits
 * below the jobs (they read its Config), so it takes them as an argument. loadConfig (src/service/load-config.ts)
 * passes every job's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './errors.js';
import { DEFAULT_PUSH_LIMITS, type PushLimits } from './push/limits.js';
import { checkSchedule, checkTimeZone } from './job-runtime/schedule-check.js';
import { rememberSecrets, urlPasswords } from './secrets.js';

export const LANGUAGES = ['en', 'nl', 'es', 'en-us'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** json: one JSON object per line, for log collectors; pretty: a line for a person at a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;

/** A job's schedule variable as its job declares it (jobs/*.ts): name, default cron pattern, and whether it polls. */
export interface ScheduleVariable {
  variable: string;
  default: string;
  callsApi: boolean;
}

/** SENSOTERRA_API_URL's default: Sensoterra's own API. */
export const DEFAULT_API_URL = 'https://monitor.sensoterra.com/api/v3';

/** EXPORT_FILE_MODE's default: the owner reads and writes, the group reads, others nothing (directories 0750). */
export const DEFAULT_EXPORT_FILE_MODE = 0o640;

/**
 * EXPORT_PARQUET_COMPRESSION: the Parquet codecs offered, of those DuckDB writes. Snappy (the default) is the one
 * every Parquet reader decodes without a plug-in; zstd and gzip are smaller, lz4_raw faster, uncompressed for a
 * reader that decodes nothing. Not offered: DuckDB's `lz4`, which writes LZ4_RAW under the name of the deprecated
 * Hadoop LZ4 codec, and `brotli`, which zstd covers (a size as small, and more readers decode it).
 */
export const PARQUET_COMPRESSIONS = ['snappy', 'zstd', 'gzip', 'lz4_raw', 'uncompressed'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];
export const DEFAULT_PARQUET_COMPRESSION: ParquetCompression = 'snappy';

export interface Config {
  readonly api: {
    readonly url: string;
    readonly email: string | undefined;
    readonly password: string | undefined;
    readonly token: string | undefined;
    readonly language: Language;
    readonly rateLimit: number;
    readonly timeoutMs: number;
    readonly maxRetryAfterS: number;
  };
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly warehousePath: string;
  readonly exportDir: string;
  /** Prometheus GET /metrics of this process, whatever its role; port 0 is off. */
  readonly metrics: { readonly port: number; readonly host: string };
  /** The worker's read-only web page; port 0 is off; a token is required unless it listens on loopback only. */
  readonly ui: { readonly port: number; readonly host: string; readonly token: string | undefined };
  readonly push: {
    readonly port: number;
    readonly host: string;
    readonly path: string;
    readonly authHeader: string;
    readonly secret: string | undefined;
    readonly insecure: boolean;
    readonly hmacSecret: string | undefined;
    readonly hmacHeader: string;
    readonly maxBody: number;
    readonly timeoutMs: number;
    /** PUSH_MAX_CONNECTIONS: open connections at most; past it the oldest not yet authenticated one is closed. */
    readonly maxConnections: number;
    /** PUSH_MAX_PENDING_BYTES: body bytes held at once by requests in progress; past it, 503 (retry shortly). */
    readonly maxPendingBytes: number;
    readonly limits: Readonly<PushLimits>;
  };
  /** By job name; null: the schedule is switched off (SCHEDULE_X=off) */
  readonly schedules: { readonly tz: string; readonly patterns: Readonly<Record<string, string | null>> };
  readonly reportTz: string;
  /** TIME_ZONE_OVERRIDES: a probe's (by serial) or a location's (by id) time zone, instead of the one looked up. */
  readonly timeZoneOverrides: {
    readonly serials: Readonly<Record<string, string>>;
    readonly locations: Readonly<Record<string, string>>;
  };
  /** SOIL_THRESHOLDS_FILE, read: thresholds that replace the defaults of their soil types. */
  readonly soilThresholds: readonly SoilThreshold[];
  /** RAW_PUSH_RETENTION_DAYS, REJECTED_PUSH_RETENTION_DAYS, READING_CONFLICT_RETENTION_DAYS: days each is kept. */
  readonly rawPushRetentionDays: number;
  readonly rejectedPushRetentionDays: number;
  readonly readingConflictRetentionDays: number;
  readonly exportKeepVersions: number;
  /** EXPORT_FILE_MODE: the mode of every published file, e.g. 0o640; directories get an execute bit per read bit (0o750). */
  readonly exportFileMode: number;
  /** EXPORT_PARQUET_COMPRESSION: the codec of every published Parquet file (snappy unless set). */
  readonly exportParquetCompression: ParquetCompression;
  /** EXPORT_URL: a bucket each version is published to as well, with how to reach it; none unless set. */
  readonly exportBucket: BucketConfig | undefined;
  readonly queryTimeoutMs: number;
  /** How much a query may grow the worker's memory (resident set) before it is stopped. */
  readonly queryMemoryMb: number;
  /** The largest answer a query may send back, in bytes of JSON. */
  readonly queryMaxAnswerBytes: number;
  readonly staleAfterHours: number;
  readonly syncMaxDeleteShare: number;
  readonly duckdb: { readonly memoryLimit: string; readonly threads: number };
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly logFormat: (typeof LOG_FORMATS)[number];
}

type Env = Record<string, string | undefined>;

/** Where on object storage the export goes (EXPORT_URL) and how to reach it (the usual AWS_* variables). */
export interface BucketConfig {
  readonly url: string; // as set, s3://bucket/prefix
  readonly bucket: string;
  readonly prefix: string; // '' or ending in '/'
  readonly region: string; // AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: an S3-compatible store (MinIO, R2, ...), addressed path-style */
  readonly endpoint: string | undefined;
  /** AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN): else the SDK's own chain (profile, role) */
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** EXPORT_S3_PART_MB: files larger than this are uploaded in parts of this size */
  readonly partSizeMb: number;
}

/** A bucket name as S3 takes it, and key prefixes of characters every S3-compatible store and reader keeps as is. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX = /^[A-Za-z0-9._=-]+(\/[A-Za-z0-9._=-]+)*$/;

export interface SoilThreshold {
  soilKey: string;
  wiltingPointPct: number;
  refillPct: number;
  fieldCapacityPct: number;
}

/** Reads `.env` (if present) under the real environment: a variable set in the environment wins. */
export function environment(cwd = process.cwd(), env: Env = process.env): Env {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return { ...env };
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}

/**
 * Parses and validates, the schedule variables of `scheduledJobs` (by job name) included; throws one ConfigError
 * listing every problem.
 */
export function parseConfig(env: Env, scheduledJobs: Readonly<Record<string, ScheduleVariable>>): Config {
  const p = new Parser(env);
  const api = apiConfig(p);
  const schedules = schedulesConfig(p, scheduledJobs);
  const push = pushConfig(p);
  const metrics = metricsConfig(p, push.port);
  const config: Config = {
    api,
    redisUrl: p.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix: p.matching('QUEUE_PREFIX', 'sensoterra', /^[A-Za-z0-9_{}.-]+$/, 'letters, digits, _ . - { }'),
    warehousePath: resolve(p.string('WAREHOUSE_PATH', './data/warehouse.duckdb')),
    exportDir: resolve(p.string('EXPORT_DIR', './data/export')),
    push,
    metrics,
    ui: uiConfig(p, push.port, metrics.port),
    schedules,
    reportTz: p.timeZone('REPORT_TZ', 'UTC'),
    timeZoneOverrides: p.timeZoneOverrides('TIME_ZONE_OVERRIDES'),
    soilThresholds: p.soilThresholdsFile('SOIL_THRESHOLDS_FILE'),
    rawPushRetentionDays: p.integer('RAW_PUSH_RETENTION_DAYS', 30, { min: 0, max: 36_500 }),
    rejectedPushRetentionDays: p.integer('REJECTED_PUSH_RETENTION_DAYS', 365, { min: 0, max: 36_500 }),
    readingConflictRetentionDays: p.integer('READING_CONFLICT_RETENTION_DAYS', 365, { min: 0, max: 36_500 }),
    exportKeepVersions: p.integer('EXPORT_KEEP_VERSIONS', 3, { min: 1, max: 100 }),
    exportFileMode: p.fileMode('EXPORT_FILE_MODE', DEFAULT_EXPORT_FILE_MODE),
    exportParquetCompression: p.oneOf('EXPORT_PARQUET_COMPRESSION', DEFAULT_PARQUET_COMPRESSION, PARQUET_COMPRESSIONS),
    exportBucket: bucketConfig(p),
    queryTimeoutMs: p.integer('QUERY_TIMEOUT_MS', 30_000, { min: 10, max: 3_600_000 }),
    queryMemoryMb: p.integer('QUERY_MEMORY_MB', 1024, { min: 64, max: 1_048_576 }),
    queryMaxAnswerBytes: p.integer('QUERY_MAX_ANSWER_BYTES', 67_108_864, { min: 1024, max: 1_073_741_824 }),
    staleAfterHours: p.number('STALE_AFTER_HOURS', 3, { min: 0.1, max: 8760 }),
    syncMaxDeleteShare: p.number('SYNC_MAX_DELETE_SHARE', 0.5, { min: 0, max: 1 }),
    duckdb: {
      memoryLimit: p.matching(
        'DUCKDB_MEMORY_LIMIT',
        '1GB',
        /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i,
        'a size such as 512MB or 2GB',
      ),
      threads: p.integer('DUCKDB_THREADS', 2, { min: 1, max: 256 }),
    },
    logLevel: p.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: p.oneOf('LOG_FORMAT', 'json', LOG_FORMATS),
  };
  p.throwIfProblems();
  // from here on, the logger and the CLI's error lines hide these values wherever they turn up (secrets.ts)
  rememberSecrets([
    ...urlPasswords(config.redisUrl),
    ...urlPasswords(config.api.url),
    api.password,
    api.token,
    config.push.secret,
    config.push.hmacSecret,
    config.ui.token,
    config.exportBucket?.credentials?.secretAccessKey,
    config.exportBucket?.credentials?.sessionToken,
  ]);
  return deepFreeze(config);
}

function apiConfig(p: Parser): Config['api'] {
  const api = {
    url: p.url('SENSOTERRA_API_URL', DEFAULT_API_URL, ['http:', 'https:']),
    email: p.optional('SENSOTERRA_EMAIL'),
    password: p.optional('SENSOTERRA_PASSWORD'),
    token: p.optional('SENSOTERRA_TOKEN'),
    language: p.oneOf('SENSOTERRA_LANGUAGE', 'en', LANGUAGES),
    rateLimit: p.number('SENSOTERRA_RATE_LIMIT', 5, { min: 0.01, max: 1000 }),
    timeoutMs: p.integer('SENSOTERRA_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
    maxRetryAfterS: p.integer('SENSOTERRA_MAX_RETRY_AFTER_S', 900, { min: 0, max: 86_400 }),
  };
  if ((api.email === undefined) !== (api.password === undefined)) {
    p.problem('SENSOTERRA_EMAIL and SENSOTERRA_PASSWORD go together: set both, or neither and SENSOTERRA_TOKEN');
  }
  return api;
}

function bucketConfig(p: Parser): BucketConfig | undefined {
  const url = p.optional('EXPORT_URL');
  const partSizeMb = p.integer('EXPORT_S3_PART_MB', 16, { min: 5, max: 5_000 });
  if (url === undefined) return undefined;
  const parts = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = parts?.[1] ?? '';
  const prefix = (parts?.[2] ?? '').replace(/\/+$/, '');
  const segments = prefix.split('/');
  const prefixOk =
    prefix === '' ||
    (KEY_PREFIX.test(prefix) && prefix.length <= 512 && !segments.some((x) => x === '.' || x === '..'));
  // S3's rules for a name: no two dots in a row, not an IP address
  const bucketOk = BUCKET_NAME.test(bucket) && !bucket.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(bucket);
  if (parts === null || !bucketOk || !prefixOk) {
    p.problem(
      `EXPORT_URL=${JSON.stringify(url)} is not valid: expected s3://bucket or s3://bucket/prefix, a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens, and a prefix of up to 512 letters, digits and . _ = - separated by / (no . or .. between slashes)`,
    );
    return undefined;
  }
  const endpoint = p.optional('AWS_ENDPOINT_URL_S3') ?? p.optional('AWS_ENDPOINT_URL');
  if (endpoint !== undefined)
    p.url(p.optional('AWS_ENDPOINT_URL_S3') ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL', endpoint, [
      'http:',
      'https:',
    ]);
  const accessKeyId = p.optional('AWS_ACCESS_KEY_ID');
  const secretAccessKey = p.optional('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    p.problem(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither to use an AWS profile or role',
    );
  const sessionToken = p.optional('AWS_SESSION_TOKEN');
  return {
    url,
    bucket,
    prefix: prefix === '' ? '' : `${prefix}/`,
    region: p.optional('AWS_REGION') ?? p.optional('AWS_DEFAULT_REGION') ?? 'us-east-1',
    endpoint: endpoint?.replace(/\/+$/, ''),
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
        : undefined,
    partSizeMb,
  };
}

function schedulesConfig(p: Parser, scheduledJobs: Readonly<Record<string, ScheduleVariable>>): Config['schedules'] {
  const tz = p.timeZone('SCHEDULE_TZ', 'UTC');
  const patterns: Record<string, string | null> = {};
  for (const [job, spec] of Object.entries(scheduledJobs)) {
    patterns[job] = p.schedule(spec.variable, spec.default, tz, spec.callsApi);
  }
  return { tz, patterns };
}

/** Never on PUSH_PORT: the README's proxy exposes that port's push path, and metrics are for the operator alone. */
function metricsConfig(p: Parser, pushPort: number): Config['metrics'] {
  const port = p.integer('METRICS_PORT', 0, { min: 0, max: 65_535 });
  if (port !== 0 && port === pushPort)
    p.problem(
      `METRICS_PORT=${port} is PUSH_PORT too: metrics need a port of their own (a proxy exposes PUSH_PORT); choose another, or 0 for none`,
    );
  return { port, host: p.string('METRICS_HOST', '127.0.0.1') };
}

/** The web page: off by default; on another address than loopback only with UI_TOKEN, which every request must carry. */
function uiConfig(p: Parser, pushPort: number, metricsPort: number): Config['ui'] {
  const port = p.integer('UI_PORT', 0, { min: 0, max: 65_535 });
  const host = p.string('UI_HOST', '127.0.0.1');
  const token = p.optional('UI_TOKEN');
  if (port !== 0 && port === pushPort)
    p.problem(`UI_PORT=${port} is PUSH_PORT too: the web page needs a port of its own (a proxy exposes PUSH_PORT)`);
  if (port !== 0 && port === metricsPort) p.problem(`UI_PORT=${port} is METRICS_PORT too: give each its own port`);
  if (token !== undefined && token.length < 16)
    p.problem(`UI_TOKEN is ${token.length} characters long: use at least 16 random ones (openssl rand -hex 32)`);
  if (port !== 0 && token === undefined && !isLoopback(host))
    p.problem(
      `UI_HOST=${host} lets other machines reach the web page: set UI_TOKEN (openssl rand -hex 32), or UI_HOST=127.0.0.1`,
    );
  return { port, host, token };
}

function pushConfig(p: Parser): Config['push'] {
  const header = (name: string, fallback: string): string =>
    p.matching(name, fallback, /^[A-Za-z0-9-]+$/, 'an HTTP header name').toLowerCase();
  const maxBody = p.integer('PUSH_MAX_BODY', 1_048_576, { min: 1024, max: 100 * 1_048_576 });
  const push = {
    port: p.integer('PUSH_PORT', 8080, { min: 0, max: 65_535 }),
    host: p.string('PUSH_HOST', '127.0.0.1'),
    path: p.matching('PUSH_PATH', '/push', /^\/[A-Za-z0-9/_.~-]*$/, 'a path starting with /'),
    authHeader: header('PUSH_AUTH_HEADER', 'authorization'),
    secret: p.optional('PUSH_SECRET'),
    insecure: p.boolean('PUSH_INSECURE', false),
    hmacSecret: p.optional('PUSH_HMAC_SECRET'),
    hmacHeader: header('PUSH_HMAC_HEADER', 'x-signature'),
    maxBody,
    timeoutMs: p.integer('PUSH_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
    maxConnections: p.integer('PUSH_MAX_CONNECTIONS', 512, { min: 8, max: 1_000_000 }),
    // each body held costs the process several times its bytes (its text, its queue payload): 16 MiB by default
    maxPendingBytes: p.integer('PUSH_MAX_PENDING_BYTES', Math.max(16 * 1_048_576, maxBody), {
      min: 1024,
      max: 16 * 1_073_741_824,
    }),
    limits: {
      // the push format itself needs 4 levels, and readings need their strings: lower bounds that keep it working
      maxDepth: p.integer('PUSH_MAX_DEPTH', DEFAULT_PUSH_LIMITS.maxDepth, { min: 4, max: 1_000 }),
      maxUplinks: p.integer('PUSH_MAX_UPLINKS', DEFAULT_PUSH_LIMITS.maxUplinks, { min: 1, max: 1_000_000 }),
      maxReadings: p.integer('PUSH_MAX_READINGS', DEFAULT_PUSH_LIMITS.maxReadings, { min: 1, max: 1_000_000 }),
      maxString: p.integer('PUSH_MAX_STRING', DEFAULT_PUSH_LIMITS.maxString, { min: 64, max: 100 * 1_048_576 }),
      maxExtra: p.integer('PUSH_MAX_EXTRA', DEFAULT_PUSH_LIMITS.maxExtra, { min: 0, max: 100 * 1_048_576 }),
    },
  };
  if (push.maxPendingBytes < push.maxBody) {
    p.problem(
      `PUSH_MAX_PENDING_BYTES=${push.maxPendingBytes} is not valid: expected at least PUSH_MAX_BODY=${push.maxBody}, or no push of that size could ever be taken`,
    );
  }
  return push;
}

/** Problems that only matter for some roles, checked when that role starts. */
export function requireApiCredentials(config: Config): void {
  if (config.api.token === undefined && config.api.email === undefined) {
    throw new ConfigError([
      'no Sensoterra credentials: set SENSOTERRA_EMAIL and SENSOTERRA_PASSWORD, or SENSOTERRA_TOKEN (a long-lived token from POST /token)',
    ]);
  }
}

/** Whether only this machine reaches `host`: localhost, ::1, or an address of 127.0.0.0/8. */
function isLoopback(host: string): boolean {
  return ['localhost', '::1'].includes(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

export function requirePushSecret(config: Config): void {
  if (config.push.secret === undefined && !config.push.insecure) {
    throw new ConfigError([
      'PUSH_SECRET is not set: set it to the value Sensoterra sends in the PUSH_AUTH_HEADER header, or PUSH_INSECURE=1 to accept unauthenticated pushes on localhost',
    ]);
  }
  if (config.push.secret === undefined && !isLoopback(config.push.host)) {
    throw new ConfigError([
      `PUSH_INSECURE=1 accepts unauthenticated pushes on localhost only, not on PUSH_HOST=${config.push.host}: set PUSH_SECRET`,
    ]);
  }
}

class Parser {
  private readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  problem(message: string): void {
    this.problems.push(message);
  }

  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  matching(name: string, fallback: string, pattern: RegExp, valid: string): string {
    const value = this.string(name, fallback);
    if (!pattern.test(value)) this.problem(`${name}=${JSON.stringify(value)} is not valid: expected ${valid}`);
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.string(name, fallback).toLowerCase() as T;
    if (!allowed.includes(value)) {
      this.problem(`${name}=${JSON.stringify(value)} is not valid: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value;
  }

  number(name: string, fallback: number, range: { min: number; max: number }, integer = false): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    // plain decimal text only: Number() would also take 0x10, 1e3 and 0b1
    const value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    const kind = integer ? 'a whole number' : 'a number';
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
      this.problem(`${name}=${JSON.stringify(text)} is not valid: expected ${kind} from ${range.min} to ${range.max}`);
      return fallback;
    }
    return value;
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    return this.number(name, fallback, range, true);
  }

  /** An octal file mode such as 0640: the owner reads and writes, group and others at most read and write. */
  fileMode(name: string, fallback: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!/^0?6[046][046]$/.test(text)) {
      this.problem(
        `${name}=${JSON.stringify(text)} is not valid: expected an octal file mode such as 0640 or 0644: owner 6 (read and write), group and others 0, 4 or 6, no execute bits`,
      );
      return fallback;
    }
    return Number.parseInt(text, 8);
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.raw(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
    this.problem(`${name}=${JSON.stringify(text)} is not valid: expected 1 or 0 (true/false, yes/no)`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.string(name, fallback).replace(/\/+$/, '');
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
    } catch {
      const shown = value.replace(/\/\/[^@/]*@/, '//***@');
      this.problem(
        `${name}=${JSON.stringify(shown)} is not valid: expected a URL starting with ${protocols.map((x) => `${x}//`).join(' or ')}`,
      );
    }
    return value;
  }

  timeZone(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    const problem = checkTimeZone(value);
    if (problem) this.problem(`${name}=${JSON.stringify(value)} is not valid: ${problem}`);
    return value;
  }

  /** "24000092104=Europe/Amsterdam,location:12=America/Chicago" */
  timeZoneOverrides(name: string): Config['timeZoneOverrides'] {
    const out = { serials: {} as Record<string, string>, locations: {} as Record<string, string> };
    for (const entry of (this.raw(name) ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const match = /^(location:)?([^=\s]+)=(.+)$/.exec(entry);
      const zone = match?.[3]?.trim() ?? '';
      if (!match || checkTimeZone(zone) !== undefined) {
        this.problem(
          `${name} entry ${JSON.stringify(entry)} is not valid: expected SERIAL=Zone or location:ID=Zone with an IANA time zone, comma separated`,
        );
        continue;
      }
      (match[1] ? out.locations : out.serials)[match[2]!] = zone;
    }
    return out;
  }

  /** A CSV file with the header soil_key,wilting_point_pct,refill_pct,field_capacity_pct. */
  soilThresholdsFile(name: string): SoilThreshold[] {
    const path = this.raw(name);
    if (path === undefined) return [];
    let text: string;
    try {
      text = readFileSync(resolve(path), 'utf8');
    } catch {
      this.problem(`${name}=${JSON.stringify(path)} is not valid: the file cannot be read`);
      return [];
    }
    const [header, ...lines] = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    if (header?.replace(/\s/g, '') !== 'soil_key,wilting_point_pct,refill_pct,field_capacity_pct') {
      this.problem(`${name}: the first line must be soil_key,wilting_point_pct,refill_pct,field_capacity_pct`);
      return [];
    }
    return lines.flatMap((line, i) => this.threshold(name, line, i + 2));
  }

  private threshold(name: string, line: string, lineNo: number): SoilThreshold[] {
    const [key, ...numbers] = line.split(',').map((c) => c.trim());
    const [wiltingPointPct, refillPct, fieldCapacityPct] = numbers.map(Number);
    const valid =
      key &&
      numbers.length === 3 &&
      [wiltingPointPct, refillPct, fieldCapacityPct].every((n) => Number.isFinite(n) && n! >= 0 && n! <= 100);
    if (!valid || !(wiltingPointPct! <= refillPct! && refillPct! <= fieldCapacityPct!)) {
      this.problem(
        `${name} line ${lineNo} ${JSON.stringify(line)} is not valid: expected KEY,wilting,refill,field_capacity in % with wilting <= refill <= field capacity`,
      );
      return [];
    }
    return [
      {
        soilKey: key.toUpperCase(),
        wiltingPointPct: wiltingPointPct!,
        refillPct: refillPct!,
        fieldCapacityPct: fieldCapacityPct!,
      },
    ];
  }

  schedule(name: string, fallback: string, tz: string, callsApi: boolean): string | null {
    const value = this.string(name, fallback).replace(/\s+/g, ' ');
    if (value.toLowerCase() === 'off') return null;
    const problem = checkSchedule(value, tz, callsApi);
    if (problem) this.problem(`${name}=${JSON.stringify(value)} is not valid: ${problem} (or "off")`);
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

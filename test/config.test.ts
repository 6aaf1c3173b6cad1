import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/service/load-config.js';
import { ConfigError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('has the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.api.url).toBe('https://monitor.sensoterra.com/api/v3');
    expect(config.api.language).toBe('en');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.push).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      path: '/push',
      authHeader: 'authorization',
      hmacHeader: 'x-signature',
      maxBody: 1048576,
      timeoutMs: 10000,
    });
    expect(config.schedules.tz).toBe('UTC');
    expect(config.schedules.patterns).toEqual({
      'sync-parameters': '0 3 * * *',
      'sync-locations': '0 * * * *',
      'sync-probes': '*/15 * * * *',
      'sync-customers': '30 * * * *',
      reconcile: '15 * * * *',
      export: '*/10 * * * *',
    });
    expect(config.duckdb).toEqual({ memoryLimit: '1GB', threads: 2 });
    expect(config.queuePrefix).toBe('sensoterra');
    expect([
      config.rawPushRetentionDays,
      config.rejectedPushRetentionDays,
      config.readingConflictRetentionDays,
    ]).toEqual([30, 365, 365]);
  });

  it('is frozen: nothing can change it after start-up', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.push)).toBe(true);
  });

  it('reports every problem at once, each naming the variable and what would be valid', () => {
    const problems = problemsOf({
      PUSH_PORT: '70000',
      SENSOTERRA_LANGUAGE: 'fr',
      SCHEDULE_TZ: 'Mars/Olympus',
      REDIS_URL: 'http://localhost',
      DUCKDB_THREADS: 'two',
    });
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^SENSOTERRA_LANGUAGE="fr" is not valid: expected one of en, nl, es, en-us$/);
    expect(problems.join('\n')).toContain('PUSH_PORT="70000" is not valid: expected a whole number from 0 to 65535');
    expect(problems.join('\n')).toContain('SCHEDULE_TZ="Mars/Olympus" is not valid: expected an IANA time zone');
    expect(problems.join('\n')).toContain(
      'REDIS_URL="http://localhost" is not valid: expected a URL starting with redis:// or rediss://',
    );
    expect(problems.join('\n')).toContain('DUCKDB_THREADS="two" is not valid');
  });

  it('reads numbers as plain decimals only, and checks the push limits against each other', () => {
    expect(
      problemsOf({
        PUSH_MAX_CONNECTIONS: '0x10',
        PUSH_MAX_READINGS: '1e3',
        PUSH_MAX_DEPTH: '3',
        STALE_AFTER_HOURS: '0b11',
      }),
    ).toEqual([
      'PUSH_MAX_CONNECTIONS="0x10" is not valid: expected a whole number from 8 to 1000000',
      'PUSH_MAX_DEPTH="3" is not valid: expected a whole number from 4 to 1000',
      'PUSH_MAX_READINGS="1e3" is not valid: expected a whole number from 1 to 1000000',
      'STALE_AFTER_HOURS="0b11" is not valid: expected a number from 0.1 to 8760',
    ]);
    expect(problemsOf({ PUSH_MAX_BODY: '2048', PUSH_MAX_PENDING_BYTES: '1024' })).toEqual([
      'PUSH_MAX_PENDING_BYTES=1024 is not valid: expected at least PUSH_MAX_BODY=2048, or no push of that size could ever be taken',
    ]);
    expect(loadConfig({ PUSH_MAX_READINGS: '2000', STALE_AFTER_HOURS: '1.5' })).toMatchObject({
      push: { limits: { maxReadings: 2000 } },
      staleAfterHours: 1.5,
    });
    expect(problemsOf({ REJECTED_PUSH_RETENTION_DAYS: '-1', READING_CONFLICT_RETENTION_DAYS: '90d' })).toEqual([
      'REJECTED_PUSH_RETENTION_DAYS="-1" is not valid: expected a whole number from 0 to 36500',
      'READING_CONFLICT_RETENTION_DAYS="90d" is not valid: expected a whole number from 0 to 36500',
    ]);
    // bytes in progress: 16 MiB by default, or one largest body if that is more
    expect(loadConfig({}).push.maxPendingBytes).toBe(16 * 1_048_576);
    expect(loadConfig({ PUSH_MAX_BODY: String(50 * 1_048_576) }).push.maxPendingBytes).toBe(50 * 1_048_576);
  });

  it('accepts only 5-field cron patterns that BullMQ runs the same way', () => {
    expect(problemsOf({ SCHEDULE_PROBES: '0 */15 * * * *' })).toEqual([
      'SCHEDULE_PROBES="0 */15 * * * *" is not valid: expected a 5-field cron pattern (minute hour day-of-month month day-of-week), got 6 fields (or "off")',
    ]);
    expect(problemsOf({ SCHEDULE_PARAMETERS: '0 3 L * *' })[0]).toMatch(
      /^SCHEDULE_PARAMETERS=.* use only digits, names/,
    );
    expect(problemsOf({ SCHEDULE_LOCATIONS: '61 * * * *' })[0]).toMatch(
      /^SCHEDULE_LOCATIONS="61 \* \* \* \*" is not valid: not a valid cron pattern/,
    );
    expect(problemsOf({ SCHEDULE_PROBES: '0 6 * * MON-FRI', SCHEDULE_TZ: 'Europe/Amsterdam' })).toEqual([]);
  });

  it('refuses a schedule that would poll the API more often than every 5 minutes', () => {
    expect(problemsOf({ SCHEDULE_PROBES: '*/2 * * * *' })[0]).toBe(
      'SCHEDULE_PROBES="*/2 * * * *" is not valid: runs every 2 min at times; Sensoterra asks for at most one poll per 5 minutes (e.g. */5 * * * *) (or "off")',
    );
    expect(problemsOf({ SCHEDULE_PROBES: '0,3 * * * *' })[0]).toMatch(/runs every 3 min at times/);
    // the export does not call the API: it may run more often
    expect(problemsOf({ SCHEDULE_EXPORT: '*/2 * * * *' })).toEqual([]);
  });

  it('lets a schedule be switched off', () => {
    expect(loadConfig({ SCHEDULE_RECONCILE: 'off' }).schedules.patterns.reconcile).toBeNull();
  });

  it('wants email and password together', () => {
    expect(problemsOf({ SENSOTERRA_EMAIL: 'a@b.c' })).toEqual([
      'SENSOTERRA_EMAIL and SENSOTERRA_PASSWORD go together: set both, or neither and SENSOTERRA_TOKEN',
    ]);
  });

  it('never shows a secret from a bad URL', () => {
    const problems = problemsOf({ REDIS_URL: 'ftp://user:hunter2@redis.example' });
    expect(problems[0]).not.toContain('hunter2');
  });

  it('writes Parquet with Snappy unless EXPORT_PARQUET_COMPRESSION names another codec offered, and refuses any other', () => {
    expect(loadConfig({}).exportParquetCompression).toBe('snappy');
    expect(loadConfig({ EXPORT_PARQUET_COMPRESSION: 'ZSTD' }).exportParquetCompression).toBe('zstd');
    for (const codec of ['gzip', 'lz4_raw', 'uncompressed'])
      expect(loadConfig({ EXPORT_PARQUET_COMPRESSION: codec }).exportParquetCompression).toBe(codec);
    expect(problemsOf({ EXPORT_PARQUET_COMPRESSION: 'brotli9' })).toEqual([
      'EXPORT_PARQUET_COMPRESSION="brotli9" is not valid: expected one of snappy, zstd, gzip, lz4_raw, uncompressed',
    ]);
  });

  it('publishes to a bucket only when EXPORT_URL names one, reached with the usual AWS variables', () => {
    expect(loadConfig({}).exportBucket).toBeUndefined();
    expect(
      loadConfig({
        EXPORT_URL: 's3://farm-data/exports/sensoterra/',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://minio.local:9000/',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'a-secret-of-forty-characters-or-so-xxxxx',
      }).exportBucket,
    ).toEqual({
      url: 's3://farm-data/exports/sensoterra/',
      bucket: 'farm-data',
      prefix: 'exports/sensoterra/',
      region: 'eu-west-1',
      endpoint: 'http://minio.local:9000',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'a-secret-of-forty-characters-or-so-xxxxx' },
      partSizeMb: 16,
    });
    // no keys: the SDK's own chain (a profile, an instance role) finds them
    expect(loadConfig({ EXPORT_URL: 's3://farm-data', AWS_REGION: 'us-west-2' }).exportBucket).toMatchObject({
      prefix: '',
      region: 'us-west-2',
      endpoint: undefined,
      credentials: undefined,
    });
    const bad =
      'expected s3://bucket or s3://bucket/prefix, a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens, and a prefix of up to 512 letters, digits and . _ = - separated by / (no . or .. between slashes)';
    for (const url of [
      'https://farm-data/x',
      's3://Farm_Data/x',
      's3://farm-data/a b',
      's3://farm-data/a//b',
      's3://farm-data/../other-bucket', // a path, not a prefix: the request would name another bucket
      's3://farm-data/a/./b',
      's3://farm..data/x', // not a name S3 takes
      's3://192.168.1.1/x',
      `s3://farm-data/${'x'.repeat(513)}`, // keys are at most 1,024 bytes: room is left for the version's files
    ])
      expect(problemsOf({ EXPORT_URL: url })).toEqual([`EXPORT_URL=${JSON.stringify(url)} is not valid: ${bad}`]);
    expect(problemsOf({ EXPORT_URL: 's3://farm-data', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toEqual([
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither to use an AWS profile or role',
    ]);
    expect(problemsOf({ EXPORT_S3_PART_MB: '4' })).toEqual([
      'EXPORT_S3_PART_MB="4" is not valid: expected a whole number from 5 to 5000',
    ]);
  });
});

describe('the command line with bad configuration', () => {
  it('exits non-zero with one line per problem naming the variable', async () => {
    const result = await runCli(['sync', 'probes'], { PUSH_MAX_BODY: 'lots', SENSOTERRA_RATE_LIMIT: '0' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'sensoterra-sync: configuration: SENSOTERRA_RATE_LIMIT="0" is not valid: expected a number from 0.01 to 1000',
      'sensoterra-sync: configuration: PUSH_MAX_BODY="lots" is not valid: expected a whole number from 1024 to 104857600',
    ]);
  });

  it('reads a .env file, under the real environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensoterra-env-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=chatty\nSENSOTERRA_LANGUAGE=nl\n');
    const result = await runCli(['sync', 'probes'], { SENSOTERRA_LANGUAGE: 'xx' }, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SENSOTERRA_LANGUAGE="xx" is not valid');
    expect(result.stderr).toContain('LOG_LEVEL="chatty" is not valid');
  });

  it('says which arguments are wrong', async () => {
    const result = await runCli(['sync', 'everything'], {});
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'sensoterra-sync: sync: no target "everything": expected one of parameters, locations, probes, customers, all',
    );
  });
});

/**
 * Publishing to object storage (EXPORT_URL=s3://bucket/prefix), after a version is complete in EXPORT_DIR: the same
 * layout, under the prefix, with a pointer object written last.
 *
 *   <prefix>versions/<version>/warehouse.duckdb, parquet/..., manifest.json    the version's files (manifest last)
 *   <prefix>current.json                                                          {"version", "path"}: written last
 *
 * S3 has no rename and no links, so the switch is the pointer: a reader reads current.json, then the files under
 * its path; a version is complete before the pointer names it, and never changed after. A publish stopped at any
 * point (a crash between the parts of a large file, between the data and the pointer) leaves the pointer on the
 * previous version; what it left half-written is removed by a later publish's pruning. Files the local publish
 * reused are copied inside the bucket from the version the pointer named (no bytes through this process), when that
 * is the version the local publish built on; otherwise every file is uploaded. Files larger than EXPORT_S3_PART_MB
 * go in parts. The AWS SDK is loaded only here, and only when EXPORT_URL is set.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BucketConfig } from '../config.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { READER_GRACE_MS } from './versions.js';

export const POINTER = 'current.json';
const VERSIONS = 'versions/';
/** Files at once; each large one also sends its parts a few at a time. */
const CONCURRENT_FILES = 4;
/** S3 copies an object of up to 5 GB in one request; a larger one is uploaded again. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** DeleteObjects takes up to 1,000 keys. */
const DELETE_BATCH = 1_000;

/** What the local publish made: the version's folder, the version it built on, and which files it reused. */
export interface LocalVersion {
  version: string;
  dir: string;
  base: string | undefined;
  reused: readonly string[];
}

export interface BucketReport {
  url: string;
  uploaded: number;
  copied: number;
  pruned: string[];
}

/** The pointer: which version readers are to read. */
export interface Pointer {
  version: string;
  path: string;
  published_at: string;
}

/** Uploads a complete local version, then points current.json at it, then prunes past `keep`. */
export async function publishToBucket(
  bucket: BucketConfig,
  local: LocalVersion,
  keep: number,
  log: Logger,
): Promise<BucketReport> {
  const s3 = await openBucket(bucket);
  try {
    const pointer = await s3.readPointer();
    const copyFrom = pointer?.version === local.base ? pointer?.version : undefined;
    const reused = new Set(copyFrom === undefined ? [] : local.reused);
    const files = filesOf(local.dir);
    const data = files.filter((f) => f !== 'manifest.json');
    let uploaded = 0;
    let copied = 0;
    await inPool(data, CONCURRENT_FILES, async (file) => {
      const path = join(local.dir, file);
      if (copyFrom !== undefined && reused.has(file) && statSync(path).size <= MAX_COPY_BYTES) {
        await s3.copy(versionKey(bucket, copyFrom, file), versionKey(bucket, local.version, file));
        copied++;
      } else {
        await s3.upload(versionKey(bucket, local.version, file), path);
        uploaded++;
      }
    });
    // the manifest after the data, the pointer after the manifest: a version named is a version complete
    await s3.upload(versionKey(bucket, local.version, 'manifest.json'), join(local.dir, 'manifest.json'));
    uploaded++;
    const next: Pointer = {
      version: local.version,
      path: `${VERSIONS}${local.version}/`,
      published_at: new Date().toISOString(),
    };
    await s3.put(`${bucket.prefix}${POINTER}`, `${JSON.stringify(next, null, 2)}\n`);
    const pruned = await pruneBucket(s3, bucket, keep, local.version);
    log.info(
      { url: bucket.url, version: local.version, uploaded, copied, pruned: pruned.length },
      'export published to the bucket',
    );
    return { url: bucket.url, uploaded, copied, pruned };
  } catch (err) {
    if (err instanceof SyncError) throw err;
    throw bucketError(bucket, err);
  } finally {
    s3.close();
  }
}

/**
 * Removes what is past `keep`: complete versions (those with a manifest) beyond the newest `keep`, once the version
 * after them has been out for the readers' grace period, and versions a stopped publish left incomplete, once as
 * old. The version the pointer names always stays. Versions are named by their publish time (versions.ts).
 */
export async function pruneBucket(
  s3: OpenBucket,
  bucket: BucketConfig,
  keep: number,
  current: string,
  now = Date.now(),
): Promise<string[]> {
  const keys = await s3.list(`${bucket.prefix}${VERSIONS}`);
  const byVersion = new Map<string, string[]>();
  for (const key of keys) {
    const version = key.slice(bucket.prefix.length + VERSIONS.length).split('/')[0]!;
    const keysOf = byVersion.get(version);
    if (keysOf === undefined) byVersion.set(version, [key]);
    else keysOf.push(key);
  }
  const names = [...byVersion.keys()].sort();
  const complete = names.filter((v) => byVersion.get(v)!.includes(versionKey(bucket, v, 'manifest.json')));
  const doomed: string[] = [];
  for (const [i, version] of complete.entries()) {
    const newer = complete[i + 1];
    const supersededAt = newer === undefined ? now : publishedAt(newer);
    if (i < complete.length - keep && now - supersededAt > READER_GRACE_MS && version !== current) doomed.push(version);
  }
  for (const version of names) {
    if (!complete.includes(version) && version !== current && now - publishedAt(version) > READER_GRACE_MS)
      doomed.push(version);
  }
  await s3.remove(doomed.flatMap((v) => byVersion.get(v)!));
  return doomed.sort();
}

/** A version's publish time, from its name (versions.ts newVersionName: the ISO time, : and . as -). */
function publishedAt(version: string): number {
  const parts = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z/.exec(version);
  if (parts === null) return Number.POSITIVE_INFINITY; // not one of ours: never old enough to remove
  return Date.parse(`${parts[1]}T${parts[2]}:${parts[3]}:${parts[4]}.${parts[5]}Z`);
}

function versionKey(bucket: BucketConfig, version: string, file: string): string {
  return `${bucket.prefix}${VERSIONS}${version}/${file}`;
}

/** The files of a version's folder, relative to it, with / as separator (as in keys). */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

function bucketError(bucket: BucketConfig, cause: unknown): SyncError {
  const where = bucket.endpoint === undefined ? '' : ` at ${bucket.endpoint}`;
  // an answer that is not S3's (a web server at the endpoint) leaves the SDK with only 'UnknownError': the status says more
  const status = (cause as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const answered = status === undefined ? '' : ` (HTTP ${status})`;
  return new SyncError(
    ErrorCodes.EXPORT_BUCKET,
    `EXPORT_URL=${bucket.url}${where}: ${errorMessage(cause)}${answered} (the local export in EXPORT_DIR is published; the bucket keeps its previous version)`,
    { cause },
  );
}

/** The few operations publishing needs, on one client. */
export interface OpenBucket {
  readPointer(): Promise<Pointer | undefined>;
  upload(key: string, file: string): Promise<void>;
  put(key: string, text: string): Promise<void>;
  copy(from: string, to: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  remove(keys: readonly string[]): Promise<void>;
  close(): void;
}

export async function openBucket(bucket: BucketConfig): Promise<OpenBucket> {
  // the versions pinned here run on Node 20; the SDK's notice about later releases needing Node 22 is not for users
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  const client: S3Client = new sdk.S3Client({
    region: bucket.region,
    ...(bucket.endpoint === undefined ? {} : { endpoint: bucket.endpoint, forcePathStyle: true }),
    // a copy: the SDK marks the object it is given, and the configuration is frozen
    ...(bucket.credentials === undefined ? {} : { credentials: { ...bucket.credentials } }),
    // checksums only where an operation requires one: S3-compatible stores that do not know the SDK's default
    // (aws-chunked, trailing checksums) store a streamed body with its framing in it
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = bucket.bucket;
  return {
    async readPointer() {
      try {
        const answer = await client.send(new sdk.GetObjectCommand({ Bucket, Key: `${bucket.prefix}${POINTER}` }));
        const text = (await answer.Body?.transformToString()) ?? '';
        const pointer = JSON.parse(text.slice(0, 64_000)) as Partial<Pointer>;
        return typeof pointer.version === 'string' ? (pointer as Pointer) : undefined;
      } catch (err) {
        if (err instanceof sdk.NoSuchKey) return undefined;
        if (err instanceof SyntaxError) return undefined; // not ours to read: the next pointer replaces it
        throw err;
      }
    },
    async upload(key, file) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: createReadStream(file), ContentLength: statSync(file).size },
        partSize: bucket.partSizeMb * 1024 * 1024,
        queueSize: 2,
      });
      await upload.done();
    },
    async put(key, text) {
      await client.send(new sdk.PutObjectCommand({ Bucket, Key: key, Body: text, ContentType: 'application/json' }));
    },
    async copy(from, to) {
      // keys here are letters, digits and . _ = - / (config.ts, versions.ts): encodeURI keeps = and / as they are
      await client.send(new sdk.CopyObjectCommand({ Bucket, Key: to, CopySource: encodeURI(`${Bucket}/${from}`) }));
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
    async remove(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const answer = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const failed = answer.Errors ?? [];
        if (failed.length > 0)
          throw new Error(
            `${failed.length} objects could not be removed, e.g. ${failed[0]?.Key}: ${failed[0]?.Message}`,
          );
      }
    },
    close() {
      client.destroy();
    },
  };
}

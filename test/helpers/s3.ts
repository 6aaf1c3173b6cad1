/**
 * A real S3-compatible server for tests: s3rver in a child process of its own (test/fixtures/s3rver.mjs), on a free
 * port of 127.0.0.1, storing in a fresh temporary directory, with one bucket (startS3). And a tripwire to put in front
 * of it (startTripwire): a reverse proxy that forwards every request but one, and at that one calls the test back
 * first, then drops the request unanswered: where a test SIGKILLs a process in the middle of a publish.
 * Both close everything they open (the process, servers, sockets, the directory) in stop()/close(): the leak check
 * (test/leak-check.ts) holds every test file to that.
 *
 * What s3rver is not: it does not verify SigV4 signatures (any request with a known access key id passes), and it
 * stores a body exactly as sent, so an SDK's aws-chunked framing (its default checksums on a streamed body) ends up
 * in the object: the clients here ask for checksums only when an operation requires one.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

const FIXTURE = fileURLToPath(new URL('../fixtures/s3rver.mjs', import.meta.url));

/** The one access key s3rver knows (its secret is the same). */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_REGION = 'us-east-1';
export const S3_BUCKET = 'export-test';

export interface S3Fixture {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  bucket: string;
  /** What a child process needs to reach it with the SDK's own configuration (the endpoint, credentials, region). */
  env: Record<string, string>;
  /**
   * A client for it (path-style, checksums only when required), destroyed by stop(). `overrides` change its
   * configuration: `{ endpoint: tripwire.endpoint }` sends it through a tripwire.
   */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /** Every key under `prefix` in the bucket, in S3's order, following continuation tokens. */
  listKeys(prefix?: string): Promise<string[]>;
  /**
   * Objects put straight into s3rver's filesystem store (its layout: `<bucket>/<key>._S3rver_object`; with no
   * metadata file, s3rver answers without stored metadata and makes the checksum file when first asked): a thousand
   * objects in milliseconds, where as many PUTs cost s3rver five seconds of CPU. For a bucket a test needs full;
   * what is under test still goes through the API. Keys are plain paths: no empty, `.` or `..` segment.
   */
  seed(keys: string[], body: string): Promise<void>;
  getText(key: string): Promise<string>;
  getBytes(key: string): Promise<Uint8Array>;
  /** Kills the server, waits for its exit, removes its directory and destroys the clients made by client(). */
  stop(): Promise<void>;
}

/** Starts s3rver with an empty `bucket` (default `export-test`), and resolves once it listens. */
export async function startS3(options: { bucket?: string; timeoutMs?: number } = {}): Promise<S3Fixture> {
  const bucket = options.bucket ?? S3_BUCKET;
  const directory = await mkdtemp(join(tmpdir(), 'sensoterra-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', FIXTURE, directory, bucket], {
    // stdin stays open: the server ends when it closes, so it does not outlive a test process that dies
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let port: number | undefined;
  let stopping = false;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-4_000)));
  child.stdin.on('error', () => {}); // EPIPE once it has gone: nothing to say then
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('exit', (code, signal) => {
    if (!stopping && port !== undefined)
      process.stderr.write(`s3rver (pid ${child.pid}) ended by itself (${signal ?? `code ${code}`}): ${stderr}\n`);
  });

  try {
    port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`s3rver did not report its port within ${options.timeoutMs ?? 20_000} ms: ${stderr}`)),
        options.timeoutMs ?? 20_000,
      );
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver ended before it listened (${signal ?? `code ${code}`}): ${stderr}`));
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        if (stdout.includes('\n')) return; // reported already: the rest is drained, not read
        stdout += text;
        const line = stdout.split('\n')[0];
        if (!stdout.includes('\n') || line === undefined) return;
        clearTimeout(timer);
        const reported = (JSON.parse(line) as { port?: unknown }).port;
        if (typeof reported === 'number') resolve(reported);
        else reject(new Error(`s3rver reported no port: ${line}`));
      });
    });
  } catch (err) {
    stopping = true;
    child.kill('SIGKILL');
    await closed;
    await rm(directory, { recursive: true, force: true });
    throw err;
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const client = (overrides: Partial<S3ClientConfig> = {}): S3Client => {
    const made = new S3Client({
      endpoint,
      region: S3_REGION,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_ACCESS_KEY },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...overrides,
    });
    clients.push(made);
    return made;
  };
  let own: S3Client | undefined;
  const ownClient = (): S3Client => (own ??= client());

  const getObject = async (key: string) => {
    const { Body } = await ownClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (Body === undefined) throw new Error(`s3://${bucket}/${key} came back without a body`);
    return Body;
  };

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_ACCESS_KEY,
      AWS_REGION: S3_REGION,
      AWS_ENDPOINT_URL: endpoint,
    },
    client,
    async listKeys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await ownClient().send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
    async seed(keys, body) {
      for (const key of keys) {
        if (key.split('/').some((part) => part === '' || part === '.' || part === '..'))
          throw new Error(`seed: ${JSON.stringify(key)} is not a plain path (join would change it)`);
        const file = join(directory, bucket, `${key}._S3rver_object`);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, body);
      }
    },
    async getText(key) {
      return (await getObject(key)).transformToString();
    },
    async getBytes(key) {
      return (await getObject(key)).transformToByteArray();
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        for (const made of clients.splice(0)) made.destroy();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await closed;
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

export interface TripRequest {
  method: string;
  /** The request's path and query, as sent: `/export-test/some/key?partNumber=2&uploadId=...`. */
  url: string;
}

export interface TripRule {
  match: (req: TripRequest) => boolean;
  /** Which matching request trips it: 1 (the default) is the first. Only that one: it trips once. */
  nth?: number;
  /** Called when it trips, before the request goes anywhere; the request is dropped once it settles. */
  onTrip: () => void | Promise<void>;
}

export interface Tripwire {
  /** `http://127.0.0.1:PORT`: give it to the code under test instead of the server's endpoint. */
  endpoint: string;
  /** How many times it has tripped: 0 or 1. */
  readonly trips: number;
  /** Every request that has arrived, in order, the tripping one among them. */
  requests: TripRequest[];
  /** Stops it and drops its connections, both sides; rejects with what match or onTrip threw, if either did. */
  close(): Promise<void>;
}

// hop-by-hop: each connection's own (RFC 9110 7.6.1). `expect` too: the proxy has answered 100-continue itself.
// None of them is signed by SigV4; the host header is, and is passed on unchanged.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect'];

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

/**
 * A reverse proxy to `target` (the S3 server's endpoint) on a free port of 127.0.0.1. It forwards every request
 * with its headers (Host unchanged, so a signature still holds) and streams both bodies, except the `rule.nth`
 * request that `rule.match`es: for that one it awaits `rule.onTrip()`, then destroys the connection it came on
 * without forwarding anything of it. The SDK sees a dropped connection there (and would retry: the point is that
 * onTrip has killed it first).
 */
export async function startTripwire(target: string, rule: TripRule): Promise<Tripwire> {
  const upstream = new URL(target);
  const nth = rule.nth ?? 1;
  const agent = new http.Agent({ keepAlive: true });
  const requests: TripRequest[] = [];
  let matched = 0;
  let trips = 0;
  let failure: { err: unknown } | undefined;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const out = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: withoutHopByHop(req.headers),
      agent,
    });
    out.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
      pipeline(answer, res, () => {}); // a side that goes away ends the other: nothing more to do
    });
    // the upstream request fails (refused, reset) while the body goes or after: answer 502, or cut the answer short
    out.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`tripwire: ${String(err)}`);
    });
    pipeline(req, out, () => {}); // a client that goes away mid-body destroys the upstream request: handled above
    // a client that goes away before the answer takes the upstream request with it
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
  };

  const server = http.createServer((req, res) => {
    const seen: TripRequest = { method: req.method ?? '', url: req.url ?? '' };
    requests.push(seen);
    let trip = false;
    try {
      trip = trips === 0 && rule.match(seen) && ++matched === nth;
    } catch (err) {
      failure ??= { err };
      req.socket.destroy();
      return;
    }
    if (!trip) {
      forward(req, res);
      return;
    }
    trips++;
    void (async () => {
      try {
        await rule.onTrip();
      } catch (err) {
        failure ??= { err };
      }
      req.socket.destroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`tripwire: unexpected address ${address}`);

  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get trips() {
      return trips;
    },
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }).then(() => {
        if (failure !== undefined) throw failure.err;
      });
      return closed;
    },
  };
}

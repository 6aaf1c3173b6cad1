/**
 * The push receiver: the endpoint Sensoterra's HTTP Push posts readings to. Stateless (run as many as you like
 * behind a load balancer); it never opens DuckDB. A push is acknowledged (202) only once it is durably in Redis.
 *
 * Every answer has a JSON body saying why:
 *   202 accepted (counts of readings accepted and rejected; rejected ones are kept in rejected_pushes)
 *   400 authentic, but not JSON or not the push format: kept verbatim in rejected_pushes
 *   401 missing or wrong credentials (nothing kept)      404 / 405 wrong path / method
 *   413 larger than PUSH_MAX_BODY, or over one of the push limits (PUSH_MAX_DEPTH, ...): kept verbatim too
 *   415 not JSON, or compressed (Content-Encoding other than identity)
 *   500 a fault of ours (with a request id, logged once)      503 Redis unavailable: retry (safe: a push kept
 *       anyway after a slow Redis answered is stored once)
 * No error escapes a request: whatever happens, the client gets an answer and the receiver goes on.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ErrorCodes, SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parsePush } from '../push/format.js';
import { QUEUES } from '../queues.js';
import { closeRedis, producerConnection } from '../redis.js';
import { PushAuth, SHORT_SECRET } from './auth.js';
import { ConnectionGuard, RefusalLog, warnIfFewFileDescriptors } from './connections.js';
import { GroupCommit } from './group-commit.js';

/** How many rejection reasons a 202 or 400 answer lists (all of them are kept in the warehouse). */
const REASONS_SHOWN = 10;
/** How long the pusher's connections stay open between pushes. */
const KEEP_ALIVE_S = 65;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

export class PushReceiver {
  private constructor(
    private readonly server: Server,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly batches: GroupCommit,
    private readonly handler: PushHandler,
    private readonly log: Logger,
  ) {}

  static async start(config: Config, log: Logger): Promise<PushReceiver> {
    const redis = producerConnection(config.redisUrl);
    redis.on('error', () => undefined); // reconnects by itself; requests meanwhile get a 503
    const queue = new Queue(QUEUES.ingest, { connection: redis, prefix: config.queuePrefix });
    queue.on('error', () => undefined);
    const batches = new GroupCommit(queue, { maxInFlight: 4, maxPushes: 500, timeoutMs: 1_000, redisUrl: config.redisUrl });
    const receiverLog = log.child({ component: 'receiver' });
    if (config.push.secret !== undefined && config.push.secret.length < SHORT_SECRET) {
      receiverLog.warn({ length: config.push.secret.length }, `PUSH_SECRET is shorter than ${SHORT_SECRET} characters: easy to guess; use a long random value (openssl rand -hex 32)`);
    }
    warnIfFewFileDescriptors(config.push.maxConnections, receiverLog);
    const connections = new ConnectionGuard(config.push.maxConnections, receiverLog);
    const handler = new PushHandler(config, redis, batches, connections, receiverLog);
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often enough that
    // PUSH_TIMEOUT_MS is what a slow client gets
    const server = createServer({ connectionsCheckingInterval: Math.min(1_000, config.push.timeoutMs / 2) }, handler.listener);
    server.on('connection', connections.accept);
    server.requestTimeout = config.push.timeoutMs; // a body that takes longer to arrive is cut off (408)
    server.headersTimeout = Math.min(config.push.timeoutMs, 60_000); // also closes a connection that sends nothing
    server.keepAliveTimeout = KEEP_ALIVE_S * 1000; // for the pusher's connections: longer than common load balancers' idle timeout
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.push.port, config.push.host, () => resolve());
      });
    } catch (err) {
      await queue.close().catch(() => undefined);
      await closeRedis(redis);
      throw new SyncError(ErrorCodes.USAGE, `the push receiver cannot listen on ${config.push.host}:${config.push.port} (${(err as Error).message}): set PUSH_PORT / PUSH_HOST`, { cause: err });
    }
    const receiver = new PushReceiver(server, redis, queue, batches, handler, log);
    log.info({ url: receiver.url, path: config.push.path }, 'push receiver listening');
    return receiver;
  }

  get path(): string {
    return this.handler.path;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /**
   * Stops accepting, lets requests in progress finish (answering them with `connection: close`), hands the last
   * batch to Redis. Connections still open after PUSH_TIMEOUT_MS are cut.
   */
  async stop(): Promise<void> {
    this.handler.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const sweep = setInterval(() => this.server.closeIdleConnections(), 50);
    const cut = setTimeout(() => this.server.closeAllConnections(), this.handler.timeoutMs);
    await closed;
    clearInterval(sweep);
    clearTimeout(cut);
    await this.batches.drain();
    await this.queue.close().catch(() => undefined);
    await closeRedis(this.redis);
    this.log.info('push receiver stopped');
  }
}

class PushHandler {
  private readonly auth: PushAuth;
  private readonly refusals: RefusalLog;
  /** Set while the receiver stops: answers then close their connection. */
  stopping = false;

  constructor(
    private readonly config: Config,
    private readonly redis: Redis,
    private readonly batches: GroupCommit,
    private readonly connections: ConnectionGuard,
    private readonly log: Logger,
  ) {
    this.auth = new PushAuth(config.push);
    this.refusals = new RefusalLog(log);
  }

  get path(): string {
    return this.config.push.path;
  }

  get timeoutMs(): number {
    return this.config.push.timeoutMs;
  }

  /** For createServer: whatever goes wrong in a request, the client gets an answer and nothing escapes. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    // a client that hangs up makes these emit 'error': heard here, it ends that request, not the process
    req.on('error', ignore);
    res.on('error', ignore);
    this.handle(req, res).catch((err: unknown) => this.fault(err, res));
  };

  private fault(err: unknown, res: ServerResponse): void {
    const requestId = randomUUID();
    try {
      this.log.error({ err, requestId }, 'push request failed: a fault of ours, not the pusher\'s');
      answer(res, 500, { error: 'the receiver failed on this request (a fault of ours): retry; if it persists, report the request id', request_id: requestId }, { connection: 'close' });
    } catch {
      res.destroy(); // nothing more can be said on this connection
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // only a connection that has carried an authenticated push is kept alive
    if (this.stopping || !this.connections.isTrusted(req.socket)) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/healthz') return answer(res, 200, { status: 'up' });
    if (req.method === 'GET' && path === '/readyz') return this.ready(res);
    if (path !== this.config.push.path) return answer(res, 404, { error: `no such path: pushes are POSTed to ${this.config.push.path}` });
    if (req.method !== 'POST') return answer(res, 405, { error: `method ${req.method} not allowed on ${path}: use POST` }, { allow: 'POST' });
    if (!this.auth.headerMatches(req.headers[this.config.push.authHeader])) {
      this.refusals.refused(req.socket.remoteAddress, 'header');
      return answer(res, 401, { error: `missing or wrong credentials in the ${this.config.push.authHeader} header` });
    }
    const refusal = this.checkHeaders(req);
    if (refusal) return answer(res, 415, { error: refusal });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.config.push.maxBody) return this.tooLarge(res);
    const body = await readBody(req, this.config.push.maxBody);
    if (body === 'too large') return this.tooLarge(res);
    if (body === 'aborted') return;
    if (!this.auth.signatureMatches(body, req.headers[this.config.push.hmacHeader])) {
      this.refusals.refused(req.socket.remoteAddress, 'signature');
      return answer(res, 401, { error: `missing or wrong HMAC-SHA256 signature in the ${this.config.push.hmacHeader} header (64 hex digits, optionally after sha256=)` });
    }
    this.connections.trust(req.socket);
    if (!this.stopping) {
      // Node adds these itself only when it chooses the connection header: say the timeout explicitly
      res.setHeader('connection', 'keep-alive');
      res.setHeader('keep-alive', `timeout=${KEEP_ALIVE_S}`);
    }
    await this.accept(body.toString('utf8'), res);
  }

  /** Why the body cannot be read as it is sent, or undefined. */
  private checkHeaders(req: IncomingMessage): string | undefined {
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) return `content-type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`;
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') return `content-encoding ${JSON.stringify(encoding)} is not accepted: send the body uncompressed`;
    return undefined;
  }

  private async accept(text: string, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const parsed = parsePush(text, new Date(receivedAt), this.config.push.limits);
    try {
      // a body refused with a 400 or 413 is kept too, verbatim, in rejected_pushes: it is authentic
      await this.batches.add({ r: receivedAt, b: text });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'push refused: Redis unavailable');
      return answer(res, 503, { error: 'the queue (Redis) is unavailable: retry later (a retry is safe, nothing is stored twice)' }, { 'retry-after': '5' });
    }
    const { fatal } = parsed;
    if (fatal !== undefined) return answer(res, fatal.status, { error: fatal.reason, ...(fatal.limit && { limit: fatal.limit }), kept: 'verbatim, in rejected_pushes' });
    if (parsed.rejected.length === 0) return answerText(res, 202, acceptedAnswer(parsed.uplinks, parsed.readings.length));
    answer(res, 202, {
      status: 'accepted',
      uplinks: parsed.uplinks,
      readings_accepted: parsed.readings.length,
      rejected: parsed.rejected.length,
      reasons: parsed.rejected.slice(0, REASONS_SHOWN).map((r) => r.reason),
    });
  }

  private tooLarge(res: ServerResponse): void {
    answer(res, 413, { error: `body larger than PUSH_MAX_BODY=${this.config.push.maxBody} bytes`, limit: 'PUSH_MAX_BODY' }, { connection: 'close' });
  }

  private async ready(res: ServerResponse): Promise<void> {
    const ok = await Promise.race([
      this.redis.ping().then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500).unref()),
    ]);
    answer(res, ok ? 200 : 503, ok ? { status: 'ready' } : { status: 'not ready', error: 'Redis does not answer' });
  }
}

function ignore(): void {}

/** The whole body, or 'too large' past `max` bytes (for bodies sent without a content-length). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too large');
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? 'too large' : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => resolve('aborted')); // the client went away mid-body (after 'end', this changes nothing)
  });
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  answerText(res, status, JSON.stringify(body), headers);
}

function answerText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The answer to a push with nothing rejected, made once per shape: the hot path answers the same few thousand times a second. */
const ACCEPTED_ANSWERS = new Map<string, string>();
function acceptedAnswer(uplinks: number, accepted: number): string {
  const key = `${uplinks}/${accepted}`;
  let text = ACCEPTED_ANSWERS.get(key);
  if (text === undefined) {
    text = JSON.stringify({ status: 'accepted', uplinks, readings_accepted: accepted, rejected: 0, reasons: [] });
    if (ACCEPTED_ANSWERS.size < 10_000) ACCEPTED_ANSWERS.set(key, text);
  }
  return text;
}

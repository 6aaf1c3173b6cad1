/**
 * The push receiver: the endpoint Sensoterra's HTTP Push posts readings to. Stateless (run as many as you like
 * behind a load balancer); it never opens DuckDB. A push is acknowledged (202) only once it is durably in Redis.
 *
 * Every answer has a JSON body saying why (the statuses and what is kept for each: README, "Receiving HTTP Push"):
 * requests are answered in handler.ts, what Node's parser refuses in http.ts; connections are bounded in
 * connections.ts, and pushes reach Redis in group-commit.ts.
 * No error escapes a request: whatever happens, the client gets an answer and the receiver goes on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ErrorCodes, SyncError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { Metrics } from '../metrics/metrics.js';
import { QUEUES } from '../job-runtime/queues.js';
import { closeRedis, producerConnection } from '../redis.js';
import { SHORT_SECRET } from './auth.js';
import { ConnectionGuard, warnIfFewFileDescriptors } from './connections.js';
import { GroupCommit } from './group-commit.js';
import { KEEP_ALIVE_S, PushHandler } from './handler.js';
import { serverUrl } from '../http-server.js';
import { answerClientError, answerExpectation } from './http.js';

/** Body bytes in one BullMQ job: the writer takes jobs whole, so a job must stay a bite it can chew. */
const MAX_JOB_BYTES = 4 * 1_048_576;

export class PushReceiver {
  private constructor(
    private readonly server: Server,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly batches: GroupCommit,
    private readonly handler: PushHandler,
    private readonly log: Logger,
  ) {}

  /** `metrics`: the process's, served on METRICS_PORT (service.ts); a receiver of its own keeps its counts to itself. */
  static async start(config: Config, log: Logger, metrics = new Metrics()): Promise<PushReceiver> {
    metrics.serveReceiver();
    const redis = producerConnection(config.redisUrl);
    redis.on('error', () => undefined); // reconnects by itself; requests meanwhile get a 503
    const queue = new Queue(QUEUES.ingest, { connection: redis, prefix: config.queuePrefix });
    queue.on('error', () => undefined);
    const batches = new GroupCommit(queue, {
      maxInFlight: 4,
      maxPushes: 500,
      maxBytes: MAX_JOB_BYTES,
      limits: config.push.limits,
      timeoutMs: 1_000,
      redisUrl: config.redisUrl,
      onSent: (pushes) => metrics.pushBatchSize.observe(pushes),
    });
    const receiverLog = log.child({ component: 'receiver' });
    if (config.push.secret !== undefined && config.push.secret.length < SHORT_SECRET) {
      receiverLog.warn(
        { length: config.push.secret.length },
        `PUSH_SECRET is shorter than ${SHORT_SECRET} characters: easy to guess; use a long random value (openssl rand -hex 32)`,
      );
    }
    warnIfFewFileDescriptors(config.push.maxConnections, receiverLog);
    const connections = new ConnectionGuard(config.push.maxConnections, receiverLog);
    const handler = new PushHandler(config, redis, batches, connections, receiverLog, metrics);
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often enough that
    // PUSH_TIMEOUT_MS is what a slow client gets
    const server = createServer(
      { connectionsCheckingInterval: Math.min(1_000, config.push.timeoutMs / 2) },
      handler.listener,
    );
    server.on('connection', connections.accept);
    server.on('clientError', (err: Error & { code?: string }, socket) => {
      const status = answerClientError(err, socket, config.push.timeoutMs);
      if (status !== undefined) metrics.pushes.inc({ status, reason: status === 408 ? 'timeout' : 'malformed' });
    });
    server.on('checkExpectation', (req, res) => {
      answerExpectation(req, res);
      metrics.pushes.inc({ status: 417, reason: 'expectation' });
    });
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
      throw new SyncError(
        ErrorCodes.USAGE,
        `the push receiver cannot listen on ${config.push.host}:${config.push.port} (${errorMessage(err)}): set PUSH_PORT / PUSH_HOST`,
        { cause: err },
      );
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
    return serverUrl(this.server);
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

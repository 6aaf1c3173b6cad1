/**
 * One request to the receiver, from its first byte to its answer. Whatever goes wrong, the client gets an answer
 * (500 with a request id at worst, logged once) and nothing escapes. Work is bounded: a stranger's request is
 * answered without reading its body, the bytes held across requests have a budget, and the body is judged by
 * parsePush within the push limits.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { readHeartbeat } from '../control/heartbeat.js';
import type { Logger } from '../logger.js';
import type { Metrics, PushOutcome } from '../metrics/metrics.js';
import { parsePush } from '../push/format.js';
import { PushAuth } from './auth.js';
import { ThrottledLog, type ConnectionGuard } from './connections.js';
import type { GroupCommit, PushEnvelope } from './group-commit.js';
import { answer, answerText, readBody } from './http.js';

/** How many rejection reasons a 202 or 400 answer lists (all of them are kept in the warehouse). */
const REASONS_SHOWN = 10;
/** How long the pusher's connections stay open between pushes. */
export const KEEP_ALIVE_S = 65;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

export class PushHandler {
  private readonly auth: PushAuth;
  private readonly refusals: ThrottledLog;
  private readonly unqueued: ThrottledLog;
  /** Body bytes held by requests in progress (being read, or waiting for Redis). */
  private pendingBytes = 0;
  /** Set while the receiver stops: answers then close their connection. */
  stopping = false;

  constructor(
    private readonly config: Config,
    private readonly redis: Redis,
    private readonly batches: GroupCommit,
    private readonly connections: ConnectionGuard,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.auth = new PushAuth(config.push);
    this.refusals = new ThrottledLog(log, 'push refused: wrong credentials');
    this.unqueued = new ThrottledLog(log, 'push refused: the queue (Redis) did not take it');
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
    // (an IncomingMessage emits 'error' only to a listener: none is needed on req)
    res.on('error', ignore);
    this.connections.touch(req.socket);
    const started = performance.now();
    this.handle(req, res).then(
      (outcome) => {
        if (outcome === undefined) return;
        this.metrics.pushes.inc({ status: res.statusCode, reason: outcome });
        this.metrics.pushDuration.observe((performance.now() - started) / 1000);
      },
      (err: unknown) => this.fault(err, res),
    );
  };

  private fault(err: unknown, res: ServerResponse): void {
    const requestId = randomUUID();
    this.metrics.pushes.inc({ status: 500, reason: 'fault' });
    try {
      this.log.error({ err, requestId }, "push request failed: a fault of ours, not the pusher's");
      answer(
        res,
        500,
        {
          error: 'the receiver failed on this request (a fault of ours): retry; if it persists, report the request id',
          request_id: requestId,
        },
        { connection: 'close' },
      );
    } catch {
      res.destroy(); // nothing more can be said on this connection
    }
  }

  /** What became of a push (a POST to the push path), for the metrics; undefined for anything else, or no answer. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<PushOutcome | undefined> {
    // only a connection that has carried an authenticated push is kept alive (on one that has, Node's own
    // keep-alive headers go out: the hot path sets no header)
    const stranger = !this.connections.isTrusted(req.socket);
    if (this.stopping || stranger) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/healthz') {
      answer(res, 200, { status: 'up' });
      return undefined;
    }
    if (req.method === 'GET' && path === '/readyz') {
      await this.ready(res);
      return undefined;
    }
    if (path !== this.config.push.path) {
      answer(res, 404, { error: `no such path: pushes are POSTed to ${this.config.push.path}` });
      return undefined;
    }
    if (req.method !== 'POST') {
      answer(res, 405, { error: `method ${req.method} not allowed on ${path}: use POST` }, { allow: 'POST' });
      return undefined;
    }
    if (!this.auth.headerMatches(req.headers[this.config.push.authHeader])) {
      this.refusals.note(req.socket.remoteAddress, { why: 'header' });
      answer(res, 401, { error: `missing or wrong credentials in the ${this.config.push.authHeader} header` });
      return 'credentials';
    }
    const refusal = unreadable(req);
    if (refusal) {
      answer(res, 415, { error: refusal });
      return 'unreadable';
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.config.push.maxBody) return this.tooLarge(res);
    let held = 0;
    const take = (bytes: number): boolean => {
      if (this.pendingBytes + bytes > this.config.push.maxPendingBytes) return false;
      this.pendingBytes += bytes;
      held += bytes;
      return true;
    };
    try {
      const body = await readBody(req, this.config.push.maxBody, take);
      if (body === 'too large') return this.tooLarge(res);
      if (body === 'over budget') return this.busy(res);
      if (body === 'aborted') return undefined;
      if (!this.auth.signatureMatches(body, req.headers[this.config.push.hmacHeader])) {
        this.refusals.note(req.socket.remoteAddress, { why: 'signature' });
        answer(res, 401, {
          error: `missing or wrong HMAC-SHA256 signature in the ${this.config.push.hmacHeader} header (64 hex digits, optionally after sha256=)`,
        });
        return 'signature';
      }
      if (stranger) {
        this.connections.trust(req.socket);
        if (!this.stopping && keepsAlive(req)) {
          // the close set above is taken back; Node adds these itself only when it chooses the connection header
          res.setHeader('connection', 'keep-alive');
          res.setHeader('keep-alive', `timeout=${KEEP_ALIVE_S}`);
        }
      }
      return await this.accept(body, res);
    } finally {
      this.pendingBytes -= held;
    }
  }

  private async accept(body: Buffer, res: ServerResponse): Promise<PushOutcome> {
    const receivedAt = Date.now();
    // not UTF-8: refused, and kept as the bytes came (base64), not as text with replacement characters
    if (!isUtf8(body))
      return this.enqueue({ r: receivedAt, b: body.toString('base64'), x: 'base64' }, res, () => {
        answer(res, 400, {
          error: 'the body is not valid UTF-8 text',
          kept: 'verbatim (as base64), in rejected_pushes',
        });
        return 'not_utf8';
      });
    const text = body.toString('utf8');
    const parsed = parsePush(text, new Date(receivedAt), this.config.push.limits);
    // a body refused with a 400 or 413 is kept too, verbatim, in rejected_pushes: it is authentic
    return this.enqueue({ r: receivedAt, b: text }, res, () => {
      const { fatal } = parsed;
      if (fatal !== undefined) {
        answer(res, fatal.status, {
          error: fatal.reason,
          ...(fatal.limit && { limit: fatal.limit }),
          kept: 'verbatim, in rejected_pushes',
        });
        return 'invalid';
      }
      this.metrics.pushReadings.inc({ result: 'accepted' }, parsed.readings.length);
      if (parsed.rejected.length === 0) {
        answerText(res, 202, acceptedAnswer(parsed.uplinks, parsed.readings.length));
        return 'accepted';
      }
      this.metrics.pushReadings.inc({ result: 'rejected' }, parsed.rejected.length);
      answer(res, 202, {
        status: 'accepted',
        uplinks: parsed.uplinks,
        readings_accepted: parsed.readings.length,
        rejected: parsed.rejected.length,
        reasons: parsed.rejected.slice(0, REASONS_SHOWN).map((r) => r.reason),
      });
      return 'accepted';
    });
  }

  /** Answers once the push is durably in Redis, or 503 if Redis does not take it. */
  private async enqueue(push: PushEnvelope, res: ServerResponse, answerTaken: () => PushOutcome): Promise<PushOutcome> {
    try {
      await this.batches.add(push);
    } catch (err) {
      const cause = ((err as Error).cause as Error | undefined) ?? (err as Error);
      this.unqueued.note(undefined, { cause: cause.message });
      const why =
        cause.name === 'TimeoutError'
          ? `the push was not confirmed in the queue (Redis) in time (${cause.message}): Redis or this receiver is overloaded`
          : 'the queue (Redis) is unavailable';
      answer(
        res,
        503,
        { error: `${why}: retry later (a retry is safe, nothing is stored twice)` },
        { 'retry-after': '5' },
      );
      return 'queue_unavailable';
    }
    return answerTaken();
  }

  private tooLarge(res: ServerResponse): PushOutcome {
    answer(
      res,
      413,
      { error: `body larger than PUSH_MAX_BODY=${this.config.push.maxBody} bytes`, limit: 'PUSH_MAX_BODY' },
      { connection: 'close' },
    );
    return 'too_large';
  }

  private busy(res: ServerResponse): PushOutcome {
    answer(
      res,
      503,
      {
        error: `the receiver holds PUSH_MAX_PENDING_BYTES=${this.config.push.maxPendingBytes} bytes of pushes in progress: retry shortly`,
        limit: 'PUSH_MAX_PENDING_BYTES',
      },
      { connection: 'close', 'retry-after': '1' },
    );
    return 'busy';
  }

  /**
   * Ready means pushes are acknowledged: Redis answers. The writer's state comes along (from the worker's heartbeat):
   * while it is down or not running, pushes are still taken and wait in Redis, so the answer stays 200 (a load
   * balancer must not pull the receiver) and says so.
   */
  private async ready(res: ServerResponse): Promise<void> {
    const beat = await Promise.race([
      readHeartbeat(this.redis, this.config.queuePrefix).then(
        (b) => b ?? null,
        () => undefined,
      ),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500).unref()),
    ]);
    if (beat === undefined) return answer(res, 503, { status: 'not ready', error: 'Redis does not answer' });
    const waiting = 'pushes are acknowledged and wait in Redis until the writer takes them';
    if (beat === null) return answer(res, 200, { status: 'ready', writer: 'not running', note: waiting });
    if (beat.writer.state === 'down') {
      return answer(res, 200, {
        status: 'ready',
        writer: 'down',
        writerError: beat.writer.reason,
        writerDownSince: beat.writer.since,
        note: waiting,
      });
    }
    answer(res, 200, { status: 'ready', writer: 'up' });
  }
}

/** Why the body cannot be read as it is sent (a 415), or undefined. */
function unreadable(req: IncomingMessage): string | undefined {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) return `content-type must be application/json, got ${JSON.stringify(type)}`;
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return `charset ${JSON.stringify(charset)} is not accepted: send UTF-8`;
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity')
    return `content-encoding ${JSON.stringify(encoding)} is not accepted: send the body uncompressed`;
  const transfer = req.headers['transfer-encoding']?.trim().toLowerCase();
  if (transfer !== undefined && transfer !== 'chunked')
    return `transfer-encoding ${JSON.stringify(transfer)} is not accepted: chunked or none`;
  return undefined;
}

/** HTTP/1.1 keeps a connection unless the client says close; HTTP/1.0 only when it asks. */
function keepsAlive(req: IncomingMessage): boolean {
  const connection = req.headers.connection?.toLowerCase() ?? '';
  return req.httpVersion === '1.1' ? !connection.includes('close') : connection.includes('keep-alive');
}

function ignore(): void {}

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

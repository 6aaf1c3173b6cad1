/**
 * Reading requests and writing answers. Every answer the API gives goes through here, so every error carries the
 * `{"message": ...}` body the contract promises, and big lists are streamed instead of built as one string.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Bytes gathered before a streamed answer hands a chunk to the socket: big enough for throughput, small for memory. */
const STREAM_CHUNK = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/** An answer other than success, thrown by a handler and turned into `{message}` with this status. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, JSON.stringify(value), headers);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendMessage(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { message }, headers);
}

/**
 * A JSON array written item by item in chunks, waiting whenever the socket is full: 100,000 probes never exist as one
 * string. Items are produced lazily by the iterable, so they are not all in memory either.
 */
export async function streamJsonArray(res: ServerResponse, items: Iterable<unknown>, status = 200): Promise<void> {
  res.writeHead(status, { 'content-type': JSON_TYPE });
  let chunk = '[';
  let first = true;
  for (const item of items) {
    chunk += (first ? '' : ',') + JSON.stringify(item);
    first = false;
    if (chunk.length >= STREAM_CHUNK) {
      if (!(await write(res, chunk))) return; // the client went away
      chunk = '';
    }
  }
  res.end(`${chunk}]`);
}

async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}

/** The request body parsed as JSON; undefined when there is none. Bad JSON is the client's error: 400. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The whole body as text. An oversized body is read to its end but not kept, then refused with 413 on a connection
 * marked to close: cutting the upload off instead would reset the socket under the client before it sees the answer.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES)
        reject(new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`, { connection: 'close' }));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => reject(new HttpError(400, 'the client closed the connection before sending the whole body')));
  });
}

/** The body as an object, or 400: every write route takes a JSON object. */
export function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

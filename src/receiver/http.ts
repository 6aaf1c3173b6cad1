/**
 * HTTP for the receiver: reading a body within bounds, answering in JSON, and JSON answers even for what Node's
 * own parser refuses before a request exists (a malformed request, headers too large, a request that took too long).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type BodyResult = Buffer | 'too large' | 'over budget' | 'aborted';

/**
 * The whole body, or 'too large' past `max` bytes (for bodies sent without a content-length), or 'over budget'
 * when `take(n)` refuses the next n bytes (the receiver's budget of bytes held across requests).
 */
export function readBody(req: IncomingMessage, max: number, take: (bytes: number) => boolean): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (why: 'too large' | 'over budget'): void => {
      req.removeAllListeners('data');
      req.resume();
      resolve(why);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) stop('too large');
      else if (!take(chunk.length)) stop('over budget');
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? 'too large' : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => resolve('aborted')); // the client went away mid-body (after 'end', this changes nothing)
  });
}

export function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  answerText(res, status, JSON.stringify(body), headers);
}

export function answerText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** For the server's 'clientError' event: what Node could not even read as a request still gets a JSON answer. */
/** Answers what Node's parser refused; returns the status, or undefined when the client was gone. */
export function answerClientError(
  err: Error & { code?: string },
  socket: Duplex,
  timeoutMs: number,
): 400 | 408 | 431 | undefined {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return undefined;
  }
  const [status, error]: [400 | 408 | 431, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `the request did not arrive whole within PUSH_TIMEOUT_MS=${timeoutMs}`]
        : [400, `not an HTTP request this receiver can read (${err.code ?? 'parse error'})`];
  const text = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
  return status;
}

/** For the server's 'checkExpectation' event: an Expect header other than 100-continue. */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  answer(
    res,
    417,
    { error: `expectation ${JSON.stringify(req.headers.expect ?? '')} is not supported` },
    { connection: 'close' },
  );
}

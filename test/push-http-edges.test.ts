/**
 * The receiver at the edges of HTTP, as outsiders drove it: requests Node's parser refuses, bytes that are not
 * UTF-8, charsets and codings we do not read, many bodies at once, receivers configured unlike the writer, and a
 * leaked secret holding every connection. Every answer is JSON and says why; nothing acknowledged is lost.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { PushReceiver } from '../src/receiver/server.js';
import { testPlace } from './helpers/config.js';
import { PUSH_SECRET, startStack, type Stack } from './helpers/stack.js';

let stack: Stack | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await stack?.stop();
  stack = undefined;
});

const AT = '2024-07-08T09:05:00Z';
const good = (serial = '24000092104', depth = 15): string =>
  JSON.stringify({ serial, timestamp: AT, readings: [{ type: 'MOISTURE', depth, value: 27.4, unit: '%' }] });

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` as it is on a fresh connection; the first answer on it (and the socket, for more). */
function raw(port: number, request: string | Buffer): Promise<Raw & { closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let data = '';
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) return;
      const [statusLine, ...lines] = data.slice(0, head).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length'] ?? 0);
      if (data.length - head - 4 < length) return;
      socket.removeAllListeners('data');
      resolve({
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: data.slice(head + 4, head + 4 + length),
        closed,
      });
    });
    socket.write(request);
  });
}

const post = (body: string | Buffer, headers: Record<string, string> = {}, version = '1.1'): Buffer => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = Object.entries({
    host: 'localhost',
    'content-type': 'application/json',
    authorization: PUSH_SECRET,
    'content-length': String(bytes.length),
    ...headers,
  })
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`POST /push HTTP/${version}\r\n${head}\r\n`), bytes]);
};

describe('what Node itself refuses', () => {
  const cases: [string, string, number, RegExp][] = [
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, /not an HTTP request this receiver can read/],
    [
      'a content-length that is not a number',
      'POST /push HTTP/1.1\r\nhost: x\r\ncontent-length: -5\r\n\r\n',
      400,
      /not an HTTP request/,
    ],
    [
      'two content-lengths that disagree',
      'POST /push HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
      400,
      /not an HTTP request/,
    ],
    [
      'headers of 20 KB',
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      /request headers too large/,
    ],
    [
      'an Expect header other than 100-continue',
      'POST /push HTTP/1.1\r\nhost: x\r\nexpect: foo\r\ncontent-length: 0\r\n\r\n',
      417,
      /expectation "foo" is not supported/,
    ],
  ];
  for (const [what, request, status, error] of cases) {
    it(`answers ${what} with ${status} in JSON, and closes the connection`, async () => {
      stack = await startStack();
      const answer = await raw(stack.receiver.port, request);
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.headers.connection).toBe('close');
      expect((JSON.parse(answer.body) as { error: string }).error).toMatch(error);
      await answer.closed;
    });
  }
});

describe('bodies the receiver does not read as text', () => {
  it('refuses bytes that are not UTF-8 with 400, and keeps them as they came (base64), not with replacement characters', async () => {
    stack = await startStack();
    const bytes = Buffer.concat([
      Buffer.from('{"serial":"24000092104","readings":[{"type":"A'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`B","value":1,"timestamp":"${AT}"}]}`),
    ]);
    const answer = await raw(stack.receiver.port, post(bytes));
    expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({
      status: 400,
      body: { error: 'the body is not valid UTF-8 text', kept: 'verbatim (as base64), in rejected_pushes' },
    });
    await stack.drained();
    expect(await stack.rows('SELECT reason, body FROM rejected_pushes')).toEqual([
      { reason: 'the body is not valid UTF-8 text (kept as the base64 of its bytes)', body: bytes.toString('base64') },
    ]);
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 0 }]);
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    [
      'a charset other than UTF-8',
      { 'content-type': 'application/json; charset=latin1' },
      /charset "latin1" is not accepted: send UTF-8/,
    ],
    [
      'a transfer coding other than chunked',
      { 'transfer-encoding': 'gzip, chunked', 'content-length': '' },
      /transfer-encoding "gzip, chunked" is not accepted/,
    ],
  ];
  for (const [what, headers, error] of refused) {
    it(`refuses ${what} with 415, keeping nothing`, async () => {
      stack = await startStack();
      const body = good();
      const chunked = headers['transfer-encoding'] !== undefined;
      const answer = await raw(
        stack.receiver.port,
        post(chunked ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body, headers),
      );
      expect(answer.status).toBe(415);
      expect((JSON.parse(answer.body) as { error: string }).error).toMatch(error);
      await stack.drained();
      expect(
        await stack.rows(
          'SELECT (SELECT count(*) FROM rejected_pushes) AS rejected, (SELECT count(*) FROM raw_pushes) AS kept',
        ),
      ).toEqual([{ rejected: 0, kept: 0 }]);
    });
  }

  it('accepts UTF-8 named as utf-8 or utf8, in any case', async () => {
    stack = await startStack();
    for (const [i, charset] of ['utf-8', 'UTF8', '"utf-8"'].entries()) {
      expect(
        (
          await raw(
            stack.receiver.port,
            post(good('24000092104', 15 + i), { 'content-type': `application/json; charset=${charset}` }),
          )
        ).status,
      ).toBe(202);
    }
  });
});

describe('keep-alive', () => {
  it('is for HTTP/1.1 pushes; an HTTP/1.0 push is answered with connection: close', async () => {
    stack = await startStack();
    const eleven = await raw(stack.receiver.port, post(good()));
    expect([eleven.status, eleven.headers.connection, eleven.headers['keep-alive']]).toEqual([
      202,
      'keep-alive',
      'timeout=65',
    ]);
    const ten = await raw(stack.receiver.port, post(good('24000092104', 30), {}, '1.0'));
    expect([ten.status, ten.headers.connection]).toEqual([202, 'close']);
    await ten.closed;
  });
});

describe('many bodies at once', () => {
  it('past PUSH_MAX_PENDING_BYTES held, answers 503 (retry shortly) without reading more; the held push still lands', async () => {
    stack = await startStack({ env: { PUSH_MAX_BODY: '2048', PUSH_MAX_PENDING_BYTES: '2048' } });
    const port = stack.receiver.port;
    // one push arrives slowly: 1,200 of its bytes are in, the rest still to come
    const slowBody = JSON.stringify({
      serial: '24000092104',
      timestamp: AT,
      pad: 'x'.repeat(1_300),
      readings: [{ type: 'SI', depth: 15, value: 6.3, unit: 'SI' }],
    });
    const whole = post(slowBody);
    const head = whole.length - Buffer.byteLength(slowBody);
    const slow = connect(port, '127.0.0.1');
    sockets.push(slow);
    let slowAnswer = '';
    slow.on('data', (d: Buffer) => (slowAnswer += d.toString()));
    slow.write(whole.subarray(0, head + 1_200));
    await new Promise((r) => setTimeout(r, 300)); // (not a timing assertion: the bytes must have reached the receiver)
    // meanwhile another push of 1,000 bytes would take the held bytes past 2,048
    const other = JSON.stringify({
      serial: '24000092104',
      timestamp: AT,
      pad: 'y'.repeat(900),
      readings: [{ type: 'SI', depth: 30, value: 6.1, unit: 'SI' }],
    });
    const refused = await raw(port, post(other));
    expect({
      status: refused.status,
      retry: refused.headers['retry-after'],
      body: JSON.parse(refused.body) as unknown,
    }).toEqual({
      status: 503,
      retry: '1',
      body: {
        error: 'the receiver holds PUSH_MAX_PENDING_BYTES=2048 bytes of pushes in progress: retry shortly',
        limit: 'PUSH_MAX_PENDING_BYTES',
      },
    });
    slow.write(whole.subarray(head + 1_200));
    await new Promise<void>((resolve) => slow.on('data', () => slowAnswer.includes('\r\n\r\n') && resolve()));
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 202/);
    // and with the bytes let go, the other is taken
    expect((await raw(port, post(other))).status).toBe(202);
    await stack.drained();
    expect(await stack.rows('SELECT depth_cm FROM readings ORDER BY depth_cm')).toEqual([
      { depth_cm: 15 },
      { depth_cm: 30 },
    ]);
  });
});

describe('a receiver whose limits differ from the writer', () => {
  it('has what it accepted landed all the same: the writer judges by the limits the receiver used', async () => {
    stack = await startStack();
    const place = testPlace({ ...stack.place.env, PUSH_PORT: '0', PUSH_MAX_READINGS: '2000' });
    const generous = await PushReceiver.start(place.config, createLogger('silent'));
    try {
      const readings = Array.from({ length: 1_500 }, (_, i) => ({
        type: 'MOISTURE',
        depth: 15,
        value: i / 10,
        unit: '%',
        timestamp: new Date(Date.parse(AT) - i * 60_000).toISOString(),
      }));
      const answer = await raw(generous.port, post(JSON.stringify({ serial: '24000092104', readings })));
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.body)).toMatchObject({ readings_accepted: 1_500 });
      await stack.drained();
      expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 1_500 }]);
      expect(await stack.rows('SELECT count(*) AS n FROM rejected_pushes')).toEqual([{ n: 0 }]);
    } finally {
      await generous.stop();
      place.cleanup();
    }
  });
});

describe('a leaked secret', () => {
  it('cannot keep the pusher out by holding every connection: the one idle longest makes room', async () => {
    stack = await startStack({ env: { PUSH_MAX_CONNECTIONS: '8' } });
    const port = stack.receiver.port;
    // eight connections that pushed once with the secret and now sit idle, kept alive
    const held = await Promise.all(Array.from({ length: 8 }, (_, i) => raw(port, post(good('24000092104', 100 + i)))));
    expect(held.map((h) => h.status)).toEqual(Array(8).fill(202));
    const pusher = await raw(port, post(good('24000092104', 15)));
    expect(pusher.status).toBe(202);
    await Promise.race(held.map((h) => h.closed)); // one of the eight was closed to make room
    await stack.drained();
    expect(await stack.rows('SELECT count(*) AS n FROM readings')).toEqual([{ n: 9 }]);
  });
});

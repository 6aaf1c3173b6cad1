/**
 * The baseline for the receiver: a node:http server that does nothing but what any HTTP endpoint must do: read
 * the whole request body, answer 202 with a small JSON body. Run in a child process of its own, like the receiver,
 * so the two are measured the same way. Prints {"port": n} on stdout once listening; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER = JSON.stringify({ status: 'accepted' });

const server = createServer((req, res) => {
  // consume the body before answering, as the receiver must: answering first would flatter the baseline
  req.resume();
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 65_000; // as the receiver

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

/**
 * GET /metrics on METRICS_HOST:METRICS_PORT, for Prometheus: a port of its own in every role, never PUSH_PORT
 * (the README's proxy exposes that one). Read-only; anything else is a 404 or 405 that says what is served.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { closeServer, listenOn, serverUrl } from '../http-server.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

/** Connections open at once; more are closed as they arrive. */
const MAX_CONNECTIONS = 32;

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static async start(config: Config, metrics: Metrics, log: Logger): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      res.on('error', () => undefined); // a scraper that hangs up ends its request, not the process
      serve(req, res, metrics).catch((err: unknown) => {
        log.error({ err }, 'metrics request failed');
        if (!res.headersSent) reply(res, 500, 'metrics could not be collected: see the service log\n');
        else res.destroy();
      });
    });
    // a scraper or two, not a crowd: idle or slow connections past these never hold the process' file descriptors
    server.maxConnections = MAX_CONNECTIONS;
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.keepAliveTimeout = 5_000;
    await listenOn(
      server,
      config.metrics,
      'the metrics server',
      'METRICS_PORT / METRICS_HOST, or METRICS_PORT=0 for none',
    );
    const served = new MetricsServer(server);
    log.info({ url: `${served.url}/metrics` }, 'metrics served');
    return served;
  }

  get url(): string {
    return serverUrl(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, metrics: Metrics): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics') return reply(res, 404, 'not found: metrics are at GET /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return reply(res, 405, `method ${req.method} not allowed: GET /metrics\n`, { allow: 'GET, HEAD' });
  const { text, contentType } = await metrics.exposition();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

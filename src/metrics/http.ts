/**
 * The metrics listener (`metrics.host`/`metrics.port`, loopback by default):
 * GET /metrics answers the Prometheus text format, /healthz says the process
 * answers (200), /readyz runs the readiness checks (200 ready, 503 not,
 * JSON naming each check); anything else is 404/405. Read-only, no request
 * body is read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadinessReport } from '../health/readiness.js';
import type { Metrics } from './registry.js';

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export async function startMetricsServer(metrics: Metrics, listen: { host: string; port: number }, readiness?: () => Promise<ReadinessReport>): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const body = (text: string): string | undefined => (req.method === 'HEAD' ? undefined : text);
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body(text)),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, JSON_TYPE).end(body('{"status":"alive"}\n'));
    } else if (path === '/readyz' && readiness) {
      readiness().then(
        (r) => res.writeHead(r.ready ? 200 : 503, JSON_TYPE).end(body(`${JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })}\n`)),
        () => res.writeHead(503, JSON_TYPE).end(body('{"status":"not ready","checks":{}}\n')),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: listen.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The small HTTP server behind `--metrics-port`: GET /metrics answers the registry in Prometheus text
 * format; GET /healthz answers 200 while the process serves at all (liveness); GET /readyz answers 200
 * with the readiness checks the process handed over, or 503 naming the failing ones (readiness.ts).
 * Binds 127.0.0.1 unless a host is given (set it explicitly to expose the metrics).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { HpoError } from '../errors.js';
import { evaluateReadiness, type ReadinessChecks } from './readiness.js';

export interface MetricsServerOptions {
  /** A registry, or anything that renders one (a merge of several processes' metrics). */
  registry: Pick<Registry, 'metrics' | 'contentType'>;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Readiness checks for /readyz (or later, with setReadiness); none yet: not ready. */
  readiness?: ReadinessChecks;
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  /** Hands over (or replaces) the checks /readyz runs; `undefined`: not ready (`started`). */
  setReadiness(checks: ReadinessChecks | undefined): void;
  close(): Promise<void>;
}

/** The paths served, for a 404's hint (docs/METRICS.md). */
export const METRICS_SERVER_PATHS = ['/metrics', '/healthz', '/readyz'] as const;

function answerMetrics(
  registry: MetricsServerOptions['registry'],
  req: IncomingMessage,
  res: ServerResponse,
): void {
  registry.metrics().then(
    (body) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  );
}

function answerReadiness(
  checks: ReadinessChecks | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  void evaluateReadiness(checks).then((report) => {
    res.writeHead(report.ready ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(report)}\n`);
  });
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const host = options.host ?? '127.0.0.1';
  let readiness = options.readiness;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('only GET\n');
    } else if (path === '/metrics') {
      answerMetrics(registry, req, res);
    } else if (path === '/healthz') {
      // Alive: this process's event loop answers. Whether it can do its work is /readyz.
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : 'ok\n');
    } else if (path === '/readyz') {
      answerReadiness(readiness, req, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`GET ${METRICS_SERVER_PATHS.join(', ')}\n`);
    }
  });
  // Scrapes use keep-alive; close() must not wait for idle sockets.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HpoError(
          `cannot serve metrics on ${host}:${options.port}: ${err.code === 'EADDRINUSE' ? 'address already in use (choose another --metrics-port, or 0 for a free one)' : err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/metrics`,
    port: addr.port,
    setReadiness: (checks) => {
      readiness = checks;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

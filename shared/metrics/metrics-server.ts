/**
 * The small HTTP server behind `--metrics-port`: GET /metrics answers the registry in Prometheus text
 * format. Binds 127.0.0.1 unless a host is given (set it explicitly to expose the metrics).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { HpoError } from '../errors.js';

export interface MetricsServerOptions {
  /** A registry, or anything that renders one (a merge of several processes' metrics). */
  registry: Pick<Registry, 'metrics' | 'contentType'>;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('only GET\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
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
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The orchestrator's HTTP endpoint: GET /api/status and /api/leaderboard?top=N as JSON (the same
 * answers as over NATS). Binds 127.0.0.1 unless a host is given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HpoError } from '../../shared/errors.js';
import type { StoreReader } from '../store/types.js';
import { answerQuery, parseQuery } from './query.js';

export interface ApiServerOptions {
  store: StoreReader;
  experiment: string;
  port: number;
  host?: string;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

async function answerRequest(
  options: ApiServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (req.method !== 'GET') return send(405, { error: 'only GET' });
  const kind = url.pathname.replace(/^\/api\//, '');
  const top = url.searchParams.get('top');
  const query = parseQuery({ kind, ...(top === null ? {} : { top: Number(top) }) });
  if (!query) return send(404, { error: 'GET /api/status or /api/leaderboard?top=N' });
  const answer = await answerQuery(options.store, options.experiment, query);
  return answer ? send(200, answer) : send(404, { error: `no experiment '${options.experiment}'` });
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const server: Server = createServer((req, res) => {
    answerRequest(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HpoError(
          `cannot serve the API on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

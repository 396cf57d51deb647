/**
 * `hpo dashboard` and `--ui-port`: a web page served by this process (fastify), reading the database
 * through its own read-only StoreReader and pushing changes to the page as server-sent events. Binds
 * 127.0.0.1 unless a host is given.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { HpoError } from '../shared/errors.js';
import type { WorkerHeartbeat } from '../shared/protocol/bus.js';
import { loadAssets } from './assets.js';
import { ChangeFeed } from './change-feed.js';
import { openStoreReader } from '../orchestrator/store/index.js';
import { registerRoutes } from './routes.js';

export interface DashboardOptions {
  /** The hpo database (must exist). */
  db: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Lists the workers on the bus (the CLI passes one with --nats). */
  workers?: () => Promise<WorkerHeartbeat[]>;
  /** How often the database is checked for changes (default 200 ms). */
  pollMs?: number;
}

export interface Dashboard {
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const reader = openStoreReader(options.db, { live: true });
  const feed = new ChangeFeed(reader, { intervalMs: options.pollMs });
  const streams = new Set<() => void>();
  const app = Fastify({ logger: false });
  const assets = loadAssets();
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header(
      'content-security-policy',
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
    );
    return payload;
  });
  for (const [path, asset] of assets) {
    app.get(path, async (_req, reply) =>
      reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body),
    );
  }
  registerRoutes(app, { reader, feed, workers: options.workers, streams });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: `no ${req.method} ${req.url}` }),
  );
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port, host });
  } catch (err) {
    await reader.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new HpoError(
      `cannot serve the dashboard on ${host}:${options.port}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`,
      { cause: err },
    );
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    close: async () => {
      for (const end of [...streams]) end();
      feed.stop();
      await app.close();
      await reader.close();
    },
  };
}

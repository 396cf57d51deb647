/**
 * A real nats-server with JetStream for tests: `nats-server -js -a 127.0.0.1 -p <free port> -sd <temp>`,
 * plus an optional config file (`-c`) for what flags cannot say: auth (token, users), TLS.
 * restart() stops it (gracefully, or with SIGKILL) and starts it again on the same port and store after
 * an optional pause (JetStream's file store survives); stop() stops it and deletes the store.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The binary lookup, the port helpers and the process launcher are the benchmarks' (bench/nats-server.ts).
import { findNatsServer, freePort, natsProcess } from '../../bench/nats-server.js';

export { freePort };

export interface NatsServerOptions {
  /**
   * nats-server config text (e.g. an `authorization {...}` or `tls {...}` block), written to a file in
   * the server's temp folder and passed with `-c`. Host, port and store folder still come from flags.
   */
  config?: string;
  /** URL scheme clients should use (default `nats`; `tls` for a server that requires TLS). */
  scheme?: 'nats' | 'tls';
  /** Port to listen on (default: a free one). */
  port?: number;
  /** A config file to pass as it is (e.g. deploy/nats/nats-server.conf), instead of `config`. */
  configFile?: string;
  /** Environment of the server (on top of this process's): variables the config file refers to. */
  env?: NodeJS.ProcessEnv;
}

export interface RestartOptions {
  /** How the server is stopped (default SIGTERM: a graceful shutdown that flushes the store). */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** Time the server stays down before it starts again (default 0). */
  downMs?: number;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** The temp folder holding the JetStream store (and the config file, if any). */
  dir: string;
  /** Everything the server printed since its last start (at most the last 20,000 characters). */
  output(): string;
  stop(): Promise<void>;
  restart(options?: RestartOptions): Promise<void>;
  /** Stops the server (gracefully), keeping its port and store, until up(). */
  down(): Promise<void>;
  /** Starts it again after down(). */
  up(): Promise<void>;
}

export { findNatsServer };

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'hpo-nats-'));
  const storeDir = join(dir, 'store');
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (options.config !== undefined) {
    const configFile = join(dir, 'nats.conf');
    writeFileSync(configFile, options.config);
    args.unshift('-c', configFile);
  } else if (options.configFile !== undefined) args.unshift('-c', options.configFile);
  const server = natsProcess(bin, { args, port, env: options.env });
  await server.start();
  return {
    url: `${options.scheme ?? 'nats'}://127.0.0.1:${port}`,
    port,
    dir,
    output: server.output,
    async stop() {
      await server.halt();
      rmSync(dir, { recursive: true, force: true });
    },
    down: () => server.halt(),
    up: () => server.start(),
    async restart(how: RestartOptions = {}) {
      await server.halt(how.signal);
      if (how.downMs) await new Promise((r) => setTimeout(r, how.downMs));
      await server.start();
    },
  };
}

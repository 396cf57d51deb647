/**
 * A real nats-server with JetStream for tests: `nats-server -js -a 127.0.0.1 -p <free port> -sd <temp>`,
 * plus an optional config file (`-c`) for what flags cannot say: auth (token, users), TLS.
 * restart() stops it (gracefully, or with SIGKILL) and starts it again on the same port and store after
 * an optional pause (JetStream's file store survives); stop() stops it and deletes the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The binary lookup and port helpers are shared with the dispatch benchmark's server launcher.
import { canConnect, exited, findNatsServer, freePort } from '../../bench/nats-server.js';

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
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    child = proc;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`nats-server exited with code ${proc.exitCode}:\n${output}`);
      if (/Server is ready/.test(output) && (await canConnect(port))) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nats-server did not start within 15 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    const done = exited(proc);
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `${options.scheme ?? 'nats'}://127.0.0.1:${port}`,
    port,
    dir,
    output: () => output,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    down: () => halt(),
    up: () => launch(),
    async restart(how: RestartOptions = {}) {
      await halt(how.signal);
      if (how.downMs) await new Promise((r) => setTimeout(r, how.downMs));
      await launch();
    },
  };
}

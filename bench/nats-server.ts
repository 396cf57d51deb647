/**
 * A throwaway nats-server with JetStream for benchmarks: `nats-server -js -a 127.0.0.1 -p <free port>
 * -sd <temp dir>`, stopped (and its store deleted) by stop(), or killed at once by kill() (usable from
 * an exit handler). Same approach as the tests' helper, kept separate so bench code imports nothing
 * from test/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../cli/find-executable.js';

export interface BenchNatsServer {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s), then deletes the store folder. */
  stop(): Promise<void>;
  /** SIGKILL now and delete the store folder, synchronously. */
  kill(): void;
}

/** The nats-server binary (cli/find-executable.ts: on PATH, or in the sbin folders Debian installs it to). */
export function findNatsServer(): string {
  const bin = findExecutable('nats-server');
  if (bin === undefined) {
    throw new Error('nats-server not found: install it (Debian: apt-get install -y nats-server)');
  }
  return bin;
}

/** A TCP port free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves when the child process has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startNatsServer(): Promise<BenchNatsServer> {
  const bin = findNatsServer();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'hpo-bench-nats-'));
  let output = '';
  const proc = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const removeStore = () => rmSync(storeDir, { recursive: true, force: true });
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    removeStore();
  };
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`nats-server exited with code ${proc.exitCode}:\n${output}`);
      if (/Server is ready/.test(output) && (await canConnect(port))) break;
      if (Date.now() > deadline) throw new Error(`nats-server did not start within 15 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    kill();
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: proc.pid ?? -1,
    kill,
    async stop() {
      const done = exited(proc);
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
      removeStore();
    },
  };
}

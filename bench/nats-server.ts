/**
 * A throwaway nats-server with JetStream for benchmarks: `nats-server -js -a 127.0.0.1 -p <free port>
 * -sd <temp dir>`, stopped (and its store deleted) by stop(), or killed at once by kill() (usable from
 * an exit handler). `natsProcess` is the one launcher of nats-server processes: this server, the nodes
 * of bench/nats-cluster.ts and the tests' test/helpers/nats-server.ts use it (it lives here because
 * tests may import bench code but bench code imports nothing from test/).
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

export interface NatsProcessOptions {
  /** nats-server's arguments. */
  args: string[];
  /** The client port: ready once it accepts connections (and the server printed "Server is ready"). */
  port: number;
  /** Environment of the server (on top of this process's). */
  env?: NodeJS.ProcessEnv;
  /** How errors name it (default `nats-server`). */
  label?: string;
  /** How long a start may take (default 15,000 ms). */
  startMs?: number;
}

/** One nats-server process that can be started, stopped and started again with the same arguments. */
export interface NatsProcess {
  /** Whether the process runs now. */
  running(): boolean;
  /** Its process id (-1 while stopped). */
  pid(): number;
  /** Everything it printed since its last start (at most the last 20,000 characters). */
  output(): string;
  /** Starts it (nothing if it runs) and waits until it is ready; killed and thrown if it is not in time. */
  start(): Promise<void>;
  /** Sends `signal` (SIGKILL after 5 s) and waits for the exit. */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** SIGKILL now, synchronously (exit handlers). */
  killNow(): void;
}

/** The one launcher of nats-server processes: the bench's and the tests' servers and cluster nodes. */
export function natsProcess(bin: string, options: NatsProcessOptions): NatsProcess {
  const label = options.label ?? 'nats-server';
  const startMs = options.startMs ?? 15_000;
  let child: ChildProcess | undefined;
  let output = '';
  const proc: NatsProcess = {
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    pid: () => child?.pid ?? -1,
    output: () => output,
    async start() {
      if (proc.running()) return;
      output = '';
      const p = spawn(bin, options.args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
      });
      child = p;
      const collect = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      p.stdout?.on('data', collect);
      p.stderr?.on('data', collect);
      const deadline = Date.now() + startMs;
      for (;;) {
        if (p.exitCode !== null) throw new Error(`${label} exited with code ${p.exitCode}:\n${output}`);
        if (/Server is ready/.test(output) && (await canConnect(options.port))) return;
        if (Date.now() > deadline) {
          p.kill('SIGKILL');
          throw new Error(`${label} did not start within ${startMs / 1000} s:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async halt(signal = 'SIGTERM') {
      const p = child;
      child = undefined;
      if (!p) return;
      const done = exited(p);
      p.kill(signal);
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
    killNow() {
      if (proc.running()) child!.kill('SIGKILL');
    },
  };
  return proc;
}

export async function startNatsServer(): Promise<BenchNatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'hpo-bench-nats-'));
  const server = natsProcess(findNatsServer(), {
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    port,
  });
  const removeStore = () => rmSync(storeDir, { recursive: true, force: true });
  const kill = () => {
    server.killNow();
    removeStore();
  };
  try {
    await server.start();
  } catch (err) {
    kill();
    throw err;
  }
  const pid = server.pid();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid,
    kill,
    async stop() {
      await server.halt('SIGTERM');
      removeStore();
    },
  };
}

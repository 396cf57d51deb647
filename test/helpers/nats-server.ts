/**
 * A real nats-server with JetStream for tests: `nats-server -js -a 127.0.0.1 -p <free port> -sd <temp>`.
 * restart() stops it gracefully and starts it again on the same port and store (JetStream state
 * survives); stop() stops it and deletes the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The binary lookup and port helpers are shared with the dispatch benchmark's server launcher.
import { canConnect, exited, findNatsServer, freePort } from '../../orchestrator/bench/nats-server.js';

export interface NatsServerHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export { findNatsServer };

export async function startNatsServer(): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'hpo-nats-'));
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
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

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    const done = exited(proc);
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt();
      rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}

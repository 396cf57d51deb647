/**
 * `hpo up`: the monitoring stack without docker. Starts nats-server (JetStream, store under the state
 * folder) and Prometheus (deploy/local/prometheus.yml, data under the state folder) on this machine,
 * prints their URLs, and stops both on Ctrl-C / SIGTERM. Grafana is not started (deploy/README.md).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HpoError, UsageError } from '../../shared/errors.js';
import { executableAt, findExecutable } from '../find-executable.js';
import { ManagedProcess } from '../managed-process.js';
import { portValue, positiveInt } from '../options/option-values.js';

/** The Prometheus config `hpo up` uses unless --prometheus-config names another. */
export const LOCAL_PROMETHEUS_CONFIG = fileURLToPath(
  new URL('../../../deploy/local/prometheus.yml', import.meta.url),
);

interface UpFlags {
  host: string;
  natsPort: number;
  natsHttpPort: number;
  prometheusPort: number;
  stateDir: string;
  prometheusConfig: string;
  natsServerBin?: string;
  prometheusBin?: string;
  readyTimeout: number;
}

const INSTALL_HINTS: Record<string, string> = {
  'nats-server': 'Debian/Ubuntu: sudo apt-get install -y nats-server; elsewhere https://nats.io/download/',
  prometheus: 'Debian/Ubuntu: sudo apt-get install -y prometheus; elsewhere https://prometheus.io/download/',
};

/** Both binaries, or one error naming every one that is missing and how to install it. */
function resolveBinaries(flags: UpFlags): { nats: string; prometheus: string } {
  const wanted: Array<[name: string, flag: string, given: string | undefined]> = [
    ['nats-server', '--nats-server-bin', flags.natsServerBin],
    ['prometheus', '--prometheus-bin', flags.prometheusBin],
  ];
  const found: string[] = [];
  const problems: string[] = [];
  for (const [name, flag, given] of wanted) {
    const bin = given === undefined ? findExecutable(name) : executableAt(given);
    if (bin) found.push(bin);
    else if (given !== undefined) problems.push(`${flag} ${given}: not an executable file`);
    else problems.push(`${name} not found on PATH or in /usr/sbin (${INSTALL_HINTS[name]})`);
  }
  if (problems.length > 0) {
    throw new HpoError(`hpo up needs nats-server and prometheus installed:\n  ${problems.join('\n  ')}`);
  }
  return { nats: found[0], prometheus: found[1] };
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Resolves when `url` answers 200; throws when the process exits first or the timeout passes. */
async function waitReady(proc: ManagedProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) {
      throw new HpoError(`${proc.name} exited during start-up (log ${proc.logFile}):\n${proc.lastOutput()}`);
    }
    if (await httpOk(url)) return;
    if (Date.now() > deadline) {
      throw new HpoError(
        `${proc.name} did not answer ${url} within ${timeoutMs / 1000} s (log ${proc.logFile}):\n${proc.lastOutput()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function registerUp(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('up')
    .description('start nats-server and Prometheus on this machine (no docker) until Ctrl-C')
    .option('--host <address>', 'address both servers listen on', '127.0.0.1')
    .option('--nats-port <n>', 'NATS client port', portValue, 4222)
    .option('--nats-http-port <n>', 'NATS monitoring port', portValue, 8222)
    .option('--prometheus-port <n>', 'Prometheus web port', portValue, 9090)
    .option('--state-dir <dir>', 'JetStream store, Prometheus data and logs', '.hpo-up')
    .option('--prometheus-config <file>', 'Prometheus config', LOCAL_PROMETHEUS_CONFIG)
    .option('--nats-server-bin <file>', 'nats-server binary (default: found on PATH or in /usr/sbin)')
    .option('--prometheus-bin <file>', 'prometheus binary (default: found on PATH or in /usr/sbin)')
    .option('--ready-timeout <ms>', 'how long to wait for each server to answer', positiveInt, 30_000)
    .action(async (flags: UpFlags) => {
      const bins = resolveBinaries(flags);
      const config = resolve(flags.prometheusConfig);
      if (!existsSync(config)) throw new UsageError(`--prometheus-config ${config}: no such file`);
      const stateDir = resolve(flags.stateDir);
      const natsStore = resolve(stateDir, 'nats');
      const promData = resolve(stateDir, 'prometheus');
      mkdirSync(natsStore, { recursive: true });
      mkdirSync(promData, { recursive: true });
      const host = urlHost(flags.host);
      const log = (line: string) => process.stderr.write(`${line}\n`);

      const procs: ManagedProcess[] = [];
      let stopping = false;
      const stopAll = async () => {
        stopping = true;
        await Promise.all(procs.map((p) => p.stop()));
      };
      // Signals during start-up stop whatever has started.
      let signalled: (() => void) | undefined;
      const signal = new Promise<'signal'>((res) => {
        signalled = () => res('signal');
      });
      const onSignal = () => signalled?.();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const nats = new ManagedProcess({
          name: 'nats-server',
          bin: bins.nats,
          args: [
            '-js',
            '-a',
            flags.host,
            '-p',
            String(flags.natsPort),
            '-m',
            String(flags.natsHttpPort),
            '-sd',
            natsStore,
          ],
          logFile: resolve(stateDir, 'nats-server.log'),
        });
        procs.push(nats);
        const prometheus = new ManagedProcess({
          name: 'prometheus',
          bin: bins.prometheus,
          args: [
            `--config.file=${config}`,
            `--storage.tsdb.path=${promData}`,
            `--web.listen-address=${host}:${flags.prometheusPort}`,
          ],
          logFile: resolve(stateDir, 'prometheus.log'),
        });
        procs.push(prometheus);
        const ready = Promise.all([
          waitReady(nats, `http://${host}:${flags.natsHttpPort}/healthz`, flags.readyTimeout),
          waitReady(prometheus, `http://${host}:${flags.prometheusPort}/-/ready`, flags.readyTimeout),
        ]);
        if ((await Promise.race([ready, signal])) === 'signal') {
          log('hpo up: stopping');
          await stopAll();
          setExitCode(0);
          return;
        }
        const natsUrl = `nats://${host}:${flags.natsPort}`;
        log(`nats-server (pid ${nats.pid}): ${natsUrl}  monitoring http://${host}:${flags.natsHttpPort}`);
        log(`prometheus (pid ${prometheus.pid}): http://${host}:${flags.prometheusPort}  config ${config}`);
        log(`state and logs: ${stateDir}`);
        log('next, in other terminals:');
        log(`  hpo worker --nats ${natsUrl} --metrics-port 9465`);
        log(`  hpo search FILE --nats ${natsUrl} --metrics-port 9464`);
        log('Ctrl-C stops both servers.');

        const died = Promise.race(procs.map((p) => p.exited.then(() => p)));
        const first = await Promise.race([signal, died]);
        if (first === 'signal') {
          log('hpo up: stopping');
          await stopAll();
          log('hpo up: stopped');
          setExitCode(0);
          return;
        }
        const output = first.lastOutput();
        await stopAll();
        throw new HpoError(`${first.name} exited unexpectedly (log ${first.logFile}):\n${output}`);
      } catch (err) {
        if (!stopping) await stopAll();
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

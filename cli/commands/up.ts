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

const log = (line: string) => process.stderr.write(`${line}\n`);

/** What `hpo up` starts, checked and with its folders made. */
interface UpPlan {
  flags: UpFlags;
  bins: { nats: string; prometheus: string };
  /** The Prometheus config (absolute). */
  config: string;
  stateDir: string;
  natsStore: string;
  promData: string;
  /** --host as it goes in a URL. */
  host: string;
}

function planUp(flags: UpFlags): UpPlan {
  const bins = resolveBinaries(flags);
  const config = resolve(flags.prometheusConfig);
  if (!existsSync(config)) throw new UsageError(`--prometheus-config ${config}: no such file`);
  const stateDir = resolve(flags.stateDir);
  const natsStore = resolve(stateDir, 'nats');
  const promData = resolve(stateDir, 'prometheus');
  mkdirSync(natsStore, { recursive: true });
  mkdirSync(promData, { recursive: true });
  return { flags, bins, config, stateDir, natsStore, promData, host: urlHost(flags.host) };
}

function startNatsServer(plan: UpPlan): ManagedProcess {
  const { flags } = plan;
  return new ManagedProcess({
    name: 'nats-server',
    bin: plan.bins.nats,
    args: [
      '-js',
      '-a',
      flags.host,
      '-p',
      String(flags.natsPort),
      '-m',
      String(flags.natsHttpPort),
      '-sd',
      plan.natsStore,
    ],
    logFile: resolve(plan.stateDir, 'nats-server.log'),
  });
}

function startPrometheus(plan: UpPlan): ManagedProcess {
  return new ManagedProcess({
    name: 'prometheus',
    bin: plan.bins.prometheus,
    args: [
      `--config.file=${plan.config}`,
      `--storage.tsdb.path=${plan.promData}`,
      `--web.listen-address=${plan.host}:${plan.flags.prometheusPort}`,
    ],
    logFile: resolve(plan.stateDir, 'prometheus.log'),
  });
}

function printReady(plan: UpPlan, nats: ManagedProcess, prometheus: ManagedProcess): void {
  const { flags, host } = plan;
  const natsUrl = `nats://${host}:${flags.natsPort}`;
  log(`nats-server (pid ${nats.pid}): ${natsUrl}  monitoring http://${host}:${flags.natsHttpPort}`);
  log(`prometheus (pid ${prometheus.pid}): http://${host}:${flags.prometheusPort}  config ${plan.config}`);
  log(`state and logs: ${plan.stateDir}`);
  log('next, in other terminals:');
  log(`  hpo worker --nats ${natsUrl} --metrics-port 9465`);
  log(`  hpo search FILE --nats ${natsUrl} --metrics-port 9464`);
  log('Ctrl-C stops both servers.');
}

/** The two servers `hpo up` runs, and stopping them all. */
class UpServers {
  readonly procs: ManagedProcess[] = [];
  stopping = false;

  add(proc: ManagedProcess): ManagedProcess {
    this.procs.push(proc);
    return proc;
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

/** A promise settled by SIGINT / SIGTERM (also during start-up: that stops whatever has started). */
function watchSignals(): { signal: Promise<'signal'>; off: () => void } {
  let signalled: (() => void) | undefined;
  const signal = new Promise<'signal'>((res) => {
    signalled = () => res('signal');
  });
  const onSignal = () => signalled?.();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal,
    off: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Starts both servers, waits until they answer, then serves until a signal (or throws when one dies). */
async function serveUntilSignal(plan: UpPlan, servers: UpServers, signal: Promise<'signal'>): Promise<void> {
  const { flags, host } = plan;
  const nats = servers.add(startNatsServer(plan));
  const prometheus = servers.add(startPrometheus(plan));
  const ready = Promise.all([
    waitReady(nats, `http://${host}:${flags.natsHttpPort}/healthz`, flags.readyTimeout),
    waitReady(prometheus, `http://${host}:${flags.prometheusPort}/-/ready`, flags.readyTimeout),
  ]);
  if ((await Promise.race([ready, signal])) === 'signal') {
    log('hpo up: stopping');
    await servers.stopAll();
    return;
  }
  printReady(plan, nats, prometheus);
  const died = Promise.race(servers.procs.map((p) => p.exited.then(() => p)));
  const first = await Promise.race([signal, died]);
  if (first === 'signal') {
    log('hpo up: stopping');
    await servers.stopAll();
    log('hpo up: stopped');
    return;
  }
  const output = first.lastOutput();
  await servers.stopAll();
  throw new HpoError(`${first.name} exited unexpectedly (log ${first.logFile}):\n${output}`);
}

async function runUp(flags: UpFlags, setExitCode: (code: number) => void): Promise<void> {
  const plan = planUp(flags);
  const servers = new UpServers();
  const signals = watchSignals();
  try {
    await serveUntilSignal(plan, servers, signals.signal);
    setExitCode(0);
  } catch (err) {
    if (!servers.stopping) await servers.stopAll();
    throw err;
  } finally {
    signals.off();
  }
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
    .action((flags: UpFlags) => runUp(flags, setExitCode));
}

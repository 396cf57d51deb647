/**
 * One chaos run's real parts: a nats-server (file store), `hpo worker` and `hpo search`/`hpo resume`
 * OS processes, a temp folder, and a bus monitor that sees every epoch and result event as it is
 * published (to time faults "mid-trial"). stop() kills whatever is left and deletes the folder.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busNames } from '../../shared/protocol/bus.js';
import { parseMessage, validateEpochEvent, validateResultEvent } from '../../shared/protocol/validate.js';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { FINAL_STATES } from '../../orchestrator/store/types.js';
import { connectNats, type NatsConnection } from '../../worker/nats/index.js';
import { startHpo } from '../helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { workerArgs } from '../helpers/spawn-worker.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A started hpo process with its combined output. */
export interface HpoProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

/** What the monitor saw on the bus: published events, before any de-duplication or store. */
export class BusMonitor {
  /** Result messages seen per trial id (a re-published result counts again). */
  readonly results = new Map<string, number>();
  /** Per worker: trials with an epoch published and no result yet, with their last epoch. */
  readonly inProgress = new Map<string, Map<string, number>>();

  private constructor(private readonly nc: NatsConnection) {}

  static async start(url: string, experiment: string): Promise<BusMonitor> {
    const nc = await connectNats({ servers: [url], name: 'chaos monitor' });
    const monitor = new BusMonitor(nc);
    const names = busNames();
    // Subjects carry the experiment's random bus id (unknown here): every event, filtered by name.
    nc.subscribe(names.eventsWildcard, {
      callback: (err, msg) => {
        if (err) return;
        if (msg.subject.endsWith('.result')) {
          const r = parseMessage(msg.data, validateResultEvent);
          if (!r.ok || r.value.experiment !== experiment) return;
          monitor.results.set(r.value.trial_id, (monitor.results.get(r.value.trial_id) ?? 0) + 1);
          monitor.inProgress.get(r.value.worker)?.delete(r.value.trial_id);
        } else {
          const e = parseMessage(msg.data, validateEpochEvent);
          if (!e.ok || e.value.experiment !== experiment) return;
          let held = monitor.inProgress.get(e.value.worker);
          if (!held) monitor.inProgress.set(e.value.worker, (held = new Map()));
          held.set(e.value.trial_id, e.value.epoch);
        }
      },
    });
    await nc.flush();
    return monitor;
  }

  /** Result messages seen so far, all trials together. */
  resultCount(): number {
    let n = 0;
    for (const c of this.results.values()) n += c;
    return n;
  }

  /** Trials `worker` is running past their first epoch and before their last (`epochs`). */
  midTrial(worker: string, epochs: number): string[] {
    const held = this.inProgress.get(worker);
    if (!held) return [];
    return [...held.entries()].filter(([, epoch]) => epoch < epochs).map(([id]) => id);
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** hpo OS processes started by a test, each with its output; stop() kills whatever is left. */
export class HpoProcesses {
  protected readonly procs: HpoProcess[] = [];

  /** Starts `hpo ...args` (with the test data cache unless env says otherwise). */
  spawn(name: string, args: string[], env: NodeJS.ProcessEnv = {}): HpoProcess {
    const child = startHpo(args, env);
    let text = '';
    const collect = (d: Buffer) => {
      text = (text + d.toString()).slice(-50_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc: HpoProcess = { name, child, output: () => text, exit };
    this.procs.push(proc);
    return proc;
  }

  /** Every process's name and last output, for a failure report. */
  outputs(chars = 3000): string {
    return this.procs.map((p) => `--- ${p.name}:\n${p.output().slice(-chars)}`).join('\n');
  }

  /** SIGKILL (after SIGCONT) every process still running, and waits for them. */
  async stop(): Promise<void> {
    for (const p of this.procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
      }
    }
    await Promise.all(this.procs.map((p) => p.exit));
  }
}

export class Cluster extends HpoProcesses {
  monitor?: BusMonitor;

  private constructor(
    readonly server: NatsServerHandle,
    readonly dir: string,
  ) {
    super();
  }

  static async start(): Promise<Cluster> {
    const server = await startNatsServer();
    const dir = await mkdtemp(join(tmpdir(), 'hpo-chaos-'));
    return new Cluster(server, dir);
  }

  async file(name: string, text: string): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, text);
    return path;
  }

  async watch(experiment: string): Promise<BusMonitor> {
    this.monitor = await BusMonitor.start(this.server.url, experiment);
    return this.monitor;
  }

  /** `hpo worker` with 2 threads on the cpu backend. */
  worker(name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): HpoProcess {
    return this.spawn(name, workerArgs(this.server.url, name, { extra }), env);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.monitor?.close();
    await this.server.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Final trials of the experiment in the store right now (0 while the database does not exist yet). */
export async function finalTrials(db: string, experiment: string): Promise<number> {
  let store: SqliteStore;
  try {
    store = SqliteStore.open(db);
  } catch {
    return 0;
  }
  try {
    return (await store.listTrials(experiment)).filter((t) => FINAL_STATES.includes(t.state)).length;
  } catch {
    return 0;
  } finally {
    await store.close();
  }
}

/** Polls `check` every 50 ms until it is true; throws after `ms` or when `alive` says a process died. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms: number,
  alive?: HpoProcess,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (alive && alive.child.exitCode !== null) {
      throw new Error(`${alive.name} exited (${alive.child.exitCode}) while waiting for ${what}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits for a process to exit, at most `ms`. */
export async function exitCode(proc: HpoProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${proc.name} did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([proc.exit, limit]);
  } finally {
    clearTimeout(timer);
  }
}

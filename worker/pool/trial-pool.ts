/**
 * Runs trials in a Piscina pool of worker threads, one trial per thread. Epoch reports come back over a
 * MessagePort handed to each task; the decision for each epoch goes back on the same port. Aborting a
 * trial kills its thread (Piscina replaces it).
 */
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type BackendChoice, nativePackages } from '../backends/backend.js';
import { pinNativeBinding } from '../backends/native-pin.js';
import { applyNativeThreadShare } from '../backends/native-threads.js';
import {
  type ExecutionHooks,
  type TrialExecutor,
  TrialInterruptedError,
} from '../../shared/protocol/executor.js';
import {
  deliveryFields,
  type Decision,
  failedResult,
  resultEvent,
  type ResultEvent,
  type TrialSpec,
} from '../../shared/protocol/index.js';
import type { MainMessage, ThreadMessage, ThreadResult, ThreadTask } from './messages.js';
import type { PoolObserver, PoolTrialEnd } from './observer.js';
import type { TaskOffers } from '../tasks/task-offers.js';
import { runCommandTrial } from '../command/run-command.js';
import { childLogger, type Logger } from '../../shared/log/index.js';
import { errorText } from '../../shared/errors.js';

export interface TrialPoolOptions {
  /**
   * Trial threads (default: the machine's cores). With a libtensorflow backend each gets its share of
   * TensorFlow's threads (native-threads.ts).
   */
  threads?: number;
  /**
   * End a thread idle this long (ms); the next trial starts a fresh one, which loads its backend and data
   * set again. Default: never (threads keep both between trials).
   */
  threadIdleMs?: number;
  backend?: BackendChoice;
  /** Data cache folder handed to tasks. */
  dataDir?: string;
  /** Root under which trials save their models (resolved to an absolute path; default: none saved). */
  modelsDir?: string;
  /** Worker name in results (default: host name and pid). */
  name?: string;
  /** Task modules and command programs offered besides the built-in tasks (by name and sha256). */
  tasks?: TaskOffers;
  /** Command tasks: SIGTERM → SIGKILL grace (default 5000 ms). */
  killGraceMs?: number;
  /** Command tasks: root of the per-trial folders (default <tmp>/hpo-trials). */
  trialsDir?: string;
  /** Default: the process's logger, with this pool's worker name. */
  logger?: Logger;
}

/** One trial's run in the pool: its result event, and what the pool's observers learn of its thread. */
interface PoolTrialRun {
  event: ResultEvent;
  state: ResultEvent['state'];
  /** The thread died running it. */
  crashed: boolean;
  tfjs?: ThreadResult['tfjs'];
}

export class TrialPool implements TrialExecutor {
  readonly slots: number;
  readonly name: string;
  private readonly backend: BackendChoice;
  private readonly dataDir?: string;
  private readonly options: TrialPoolOptions;
  private readonly modelsDir?: string;
  private readonly piscina: Piscina<ThreadTask, ThreadResult>;
  private readonly observers: PoolObserver[] = [];
  private running = 0;
  private readonly log: Logger;

  constructor(options: TrialPoolOptions = {}) {
    this.options = options;
    this.backend = options.backend ?? 'auto';
    this.dataDir = options.dataDir;
    this.modelsDir = options.modelsDir === undefined ? undefined : resolve(options.modelsDir);
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.log = options.logger ?? childLogger({ component: 'trial-pool', worker: this.name });
    this.slots = options.threads ?? availableParallelism();
    // Before any thread loads libtensorflow: TensorFlow reads its thread settings once per process.
    const natives = nativePackages(this.backend);
    if (natives.length > 0) {
      applyNativeThreadShare(this.slots, { logger: this.log });
      this.pinNative(natives);
    }
    const idleMs = options.threadIdleMs;
    this.piscina = new Piscina({
      filename: new URL('./trial-thread.js', import.meta.url).href,
      minThreads: idleMs === undefined ? this.slots : 0,
      maxThreads: this.slots,
      // Threads keep their loaded backend and data set between trials (unless threadIdleMs).
      idleTimeout: idleMs ?? Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
      // Piscina loads the thread's module with require() first; on Node >= 20.19 that is require(esm),
      // and a thread terminated while it loads (a pool closed as its threads start) then aborts the whole
      // process in node::loader::ModuleWrap::CreateRequiredModuleFacade (seen once in a full test run).
      // Without require(esm) Piscina takes its import() path, which a termination ends cleanly.
      execArgv: ['--no-experimental-require-module'],
    });
  }

  /** Keeps the first built binding of `natives` loaded: a thread that ends must not unload it. */
  private pinNative(natives: string[]): void {
    for (const pkg of natives) {
      try {
        if (pinNativeBinding(pkg) !== undefined) return;
      } catch (err) {
        // The pool threads' own load of the backend says what is wrong, per trial.
        this.log.warn({ err, package: pkg }, `could not keep ${pkg}'s binding loaded: ${String(err)}`);
      }
    }
  }

  /** Trials running now (each holds one slot). */
  busy(): number {
    return this.running;
  }

  /** Adds an observer of trial starts, epochs and ends (e.g. the worker's metrics). */
  addObserver(observer: PoolObserver): void {
    this.observers.push(observer);
  }

  private notify(call: (o: PoolObserver) => void): void {
    for (const o of this.observers) {
      try {
        call(o);
      } catch {
        // An observer's failure never disturbs a trial.
      }
    }
  }

  async run(spec: TrialSpec, hooks: ExecutionHooks): Promise<ResultEvent> {
    this.running++;
    this.notify((o) => o.onTrialStart?.(spec));
    let end: PoolTrialEnd = 'cancelled';
    let thread: { id?: number; gone: boolean; tfjs?: ThreadResult['tfjs'] } = { gone: true };
    try {
      const result = await this.runTask(spec, hooks, (id) => (thread.id = id));
      end = result.state;
      thread = { id: thread.id, gone: false, ...(result.tfjs ? { tfjs: result.tfjs } : {}) };
      if (result.state === 'failed' && result.crashed) thread.gone = true;
      return result.event;
    } finally {
      this.running--;
      this.notify((o) => o.onTrialEnd?.(spec, end, thread));
    }
  }

  /** A command task runs as a child process; a module or built-in task in a pool thread. */
  private async runTask(
    spec: TrialSpec,
    hooks: ExecutionHooks,
    onThread: (id: number) => void,
  ): Promise<PoolTrialRun> {
    const offers = this.options.tasks;
    const refusal = offers
      ? offers.refusal(spec)
      : spec.task_sha256 === undefined
        ? null
        : `this worker does not offer task ${spec.task} (it offers built-in tasks only)`;
    if (refusal !== null) {
      const event = failedResult(spec, this.name, refusal);
      return { event, state: 'failed', crashed: false };
    }
    const offer = this.options.tasks?.forSpec(spec);
    if (offer?.kind === 'command') {
      const event = await runCommandTrial(spec, hooks, offer, {
        worker: this.name,
        graceMs: this.options.killGraceMs,
        trialsDir: this.options.trialsDir,
      });
      return { event, state: event.state, crashed: false };
    }
    return this.runInThread(
      spec,
      hooks,
      onThread,
      offer?.kind === 'module' ? { path: offer.path, sha256: offer.sha256 } : undefined,
    );
  }

  private async runInThread(
    spec: TrialSpec,
    hooks: ExecutionHooks,
    onThread: (id: number) => void,
    module?: ThreadTask['module'],
  ): Promise<PoolTrialRun> {
    const { port1, port2 } = new MessageChannel();
    /** Epochs the thread did not wait on: handled before the result is returned. */
    const told: Promise<unknown>[] = [];
    const onMessage = this.epochHandler(spec, hooks, port1, onThread, told);
    port1.on('message', onMessage);
    let ran: { result: ThreadResult; crashed: boolean };
    try {
      ran = await this.runOnThread(spec, hooks, port2, module);
    } finally {
      // An epoch posted without waiting may still be queued (it was posted before the result, on
      // another port): read it now, so every epoch reaches the hooks before the result.
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) {
        onMessage(m.message as ThreadMessage);
      }
      port1.close();
    }
    await Promise.all(told);
    const { result, crashed } = ran;
    if (!crashed) onThread(result.thread);
    const state = !result.ok ? 'failed' : result.stopped ? 'stopped' : 'completed';
    const event = this.threadResultEvent(spec, state, result);
    return { event, state, crashed, ...(result.tfjs ? { tfjs: result.tfjs } : {}) };
  }

  /**
   * The thread's epoch reports: observers see each, the hooks decide, and the decision goes back on
   * `port` when the thread waits for it (else its promise joins `told`).
   */
  private epochHandler(
    spec: TrialSpec,
    hooks: ExecutionHooks,
    port: MessagePort,
    onThread: (id: number) => void,
    told: Promise<unknown>[],
  ): (msg: ThreadMessage) => void {
    return (msg) => {
      if (msg.type !== 'epoch') return;
      onThread(msg.usage.thread);
      this.notify((o) => o.onEpoch?.(spec, msg.usage));
      const event = {
        ...deliveryFields(spec),
        epoch: msg.epoch,
        metrics: msg.metrics,
        worker: this.name,
      } as const;
      const reply = (decision: Decision) => {
        const answer: MainMessage = { type: 'decision', epoch: msg.epoch, decision };
        try {
          port.postMessage(answer);
        } catch {
          // The trial already ended.
        }
      };
      const decided = hooks.onEpoch(event);
      // A failing decision handler must not stall the trial: no answer means continue.
      if (msg.ask) decided.then(reply, () => reply('continue'));
      else told.push(decided.catch(() => undefined));
    };
  }

  /** Runs the trial on a pool thread; a thread that dies (not aborted) gives a failed result. */
  private async runOnThread(
    spec: TrialSpec,
    hooks: ExecutionHooks,
    port: MessagePort,
    module?: ThreadTask['module'],
  ): Promise<{ result: ThreadResult; crashed: boolean }> {
    const started = Date.now();
    const task: ThreadTask = {
      spec,
      port,
      backend: this.backend,
      dataDir: this.dataDir,
      modelsDir: this.modelsDir,
      worker: this.name,
      ...(module ? { module } : {}),
    };
    try {
      return {
        result: await this.piscina.run(task, { transferList: [port], signal: hooks.signal }),
        crashed: false,
      };
    } catch (err) {
      if (hooks.signal.aborted) throw new TrialInterruptedError(spec.trial_id);
      // The thread died (out of memory, a crash in native code): the trial failed.
      const error = errorText(err);
      this.log.warn(
        { experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt, error },
        `trial thread died: ${error}`,
      );
      const result: ThreadResult = {
        ok: false,
        metrics: {},
        epochs: 0,
        stopped: false,
        error,
        started_at: started,
        ended_at: Date.now(),
        thread: -1,
      };
      return { result, crashed: true };
    }
  }

  /** The trial's result event from what its thread returned. */
  private threadResultEvent(spec: TrialSpec, state: ResultEvent['state'], result: ThreadResult): ResultEvent {
    return resultEvent(spec, {
      state,
      metrics: result.metrics,
      epochs: result.epochs,
      error: result.error,
      worker: this.name,
      backend: result.backend,
      model: result.ok && result.model ? result.model : undefined,
      started_at: result.started_at,
      ended_at: result.ended_at,
    });
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}

/**
 * Runs (or resumes) one experiment: asks the strategy what to try, keeps the transport's free slots
 * busy, records every epoch and result in the store, and asks the scheduler whether each running trial
 * continues. The store is the source of truth, so a run can be killed at any point and resumed:
 * trials that were running are re-run, finished ones never.
 */
import { mixSeed } from '../../shared/prng.js';
import { HpoError } from '../../shared/errors.js';
import {
  type Decision,
  type EpochEvent,
  type FinalState,
  PROTOCOL_VERSION,
  type ResultEvent,
  type TrialParams,
  type TrialSpec,
  epochLimit,
} from '../../shared/protocol/index.js';
import type { Scheduler, TrialSnapshot } from '../schedulers/scheduler.js';
import type { SearchSpace } from '../search-space/types.js';
import type { FinishedProposal, Strategy } from '../strategies/strategy.js';
import { FINAL_STATES, type Store, type TrialRecord } from '../store/types.js';
import type { Transport } from '../transport/transport.js';
import { notifyObserver, type SearchObserver } from './observer.js';
import type { SearchProgress } from './progress.js';

export interface SearchRunnerOptions {
  store: Store;
  transport: Transport;
  strategy: Strategy;
  scheduler: Scheduler;
  /** Name of an experiment that exists in the store. */
  experiment: string;
  /** Data set identity sent with multi-digit-mnist trials, so workers can check theirs. */
  data?: { seed: number; sha256?: string };
  /** Aborting (Ctrl-C) cancels running trials and leaves the experiment interrupted, resumable. */
  signal?: AbortSignal;
  onProgress?: (progress: SearchProgress) => void;
  /** Known total of trials, for progress (null: unknown). */
  total?: number | null;
  /** Told about dispatches, epochs, results and the run's end (e.g. the orchestrator's metrics). */
  observer?: SearchObserver;
  /** Model saving: whether trials save their model, and what happens once a result is stored. */
  models?: {
    saves(): boolean;
    recorded(result: ResultEvent): void;
  };
}

export interface SearchOutcome {
  experiment: string;
  status: 'completed' | 'interrupted';
  progress: SearchProgress;
}

/** Trial ids are the proposal index, zero-padded so they sort. */
export function trialId(index: number): string {
  return `t${String(index).padStart(4, '0')}`;
}

/** A trial's seed: the search seed mixed with the trial index (same on every resume). */
export function trialSeed(searchSeed: number, index: number): number {
  return mixSeed(searchSeed, index + 1);
}

export class SearchRunner {
  private readonly space: SearchSpace;
  private readonly busId: string;
  private readonly snapshots = new Map<string, TrialSnapshot>();
  private readonly inFlight = new Set<string>();
  private wake: () => void = () => {};
  private best: SearchProgress['best'] = null;
  /** Every trial's params in proposal order, and the finished ones' values: the strategy's view. */
  private readonly seen: TrialParams[] = [];
  private readonly finished: FinishedProposal[] = [];
  /** Interrupted trials waiting to re-run, in index order. */
  private pending: TrialRecord[] = [];
  private readonly counts = { completed: 0, stopped: 0, failed: 0 };

  constructor(private readonly options: SearchRunnerOptions) {
    const exp = options.store.getExperiment(options.experiment);
    if (!exp) throw new HpoError(`experiment '${options.experiment}' does not exist`);
    this.space = exp.space;
    this.busId = exp.bus_id;
  }

  async run(): Promise<SearchOutcome> {
    const { store, transport, experiment, signal } = this.options;
    store.requeueRunning(experiment);
    store.setExperimentStatus(experiment, 'running');
    this.notify((o) => o.onStart?.(experiment));
    for (const t of store.listTrials(experiment)) {
      this.seen.push(t.params);
      if (t.state === 'pending') this.pending.push(t);
      else this.noteFinished(t);
    }
    await transport.start({ onEpoch: (e) => this.onEpoch(e), onResult: (r) => this.onResult(r) });
    const aborted = new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    this.report({ kind: 'started' });

    let exhausted = false;
    while (!signal?.aborted) {
      while (transport.capacity() > 0 && !signal?.aborted) {
        const next = this.nextTrial();
        if (!next) {
          exhausted = true;
          break;
        }
        await this.dispatch(next);
      }
      if (exhausted && this.inFlight.size === 0) break;
      await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), aborted]);
    }

    if (signal?.aborted) {
      await transport.cancel(experiment);
      store.requeueRunning(experiment);
      store.setExperimentStatus(experiment, 'interrupted');
      this.notify((o) => o.onEnd?.(experiment, 'interrupted'));
      return {
        experiment,
        status: 'interrupted',
        progress: this.progress({ kind: 'result', text: 'interrupted' }),
      };
    }
    store.setExperimentStatus(experiment, 'completed');
    this.notify((o) => o.onEnd?.(experiment, 'completed'));
    return {
      experiment,
      status: 'completed',
      progress: this.progress({ kind: 'result', text: 'completed' }),
    };
  }

  /** The next trial to run: an interrupted (pending) one first, else a new proposal. */
  private nextTrial(): TrialRecord | null {
    const { store, experiment, strategy } = this.options;
    const pending = this.pending.shift();
    if (pending) return pending;
    const params = strategy.next({ proposed: this.seen.length, seen: this.seen, finished: this.finished });
    if (!params) return null;
    const index = this.seen.length;
    this.seen.push(params);
    return store.addTrial(experiment, {
      trial_id: trialId(index),
      index,
      params,
      seed: trialSeed(this.space.seed, index),
    });
  }

  private async dispatch(trial: TrialRecord): Promise<void> {
    const { store, transport, experiment, data } = this.options;
    const attempt = store.startTrial(experiment, trial.trial_id, null);
    if (attempt === null) return;
    const spec: TrialSpec = {
      v: PROTOCOL_VERSION,
      experiment,
      experiment_id: this.busId,
      trial_id: trial.trial_id,
      attempt,
      task: this.space.task,
      params: trial.params,
      seed: trial.seed,
      ...(data ? { data } : {}),
    };
    if (this.options.models?.saves()) spec.save_model = true;
    this.inFlight.add(trial.trial_id);
    this.snapshots.set(trial.trial_id, {
      trial_id: trial.trial_id,
      params: trial.params,
      history: [],
      index: trial.index,
    });
    this.notify((o) => o.onDispatch?.(spec, transport.name));
    await transport.submit(spec);
    this.report({ kind: 'started', trial_id: trial.trial_id });
  }

  private async onEpoch(e: EpochEvent): Promise<Decision> {
    if (e.experiment !== this.options.experiment) return 'continue';
    const snap = this.snapshots.get(e.trial_id);
    // An epoch past the trial's own epochs is not recorded (nor kept: each trial's history stays bounded).
    if (e.epoch > epochLimit(snap?.params ?? {})) return 'continue';
    this.options.store.recordEpoch(e.experiment, e.trial_id, e.epoch, e.metrics);
    this.notify((o) => o.onEpoch?.(e));
    if (!snap) return 'continue';
    const history = snap.history.slice(0, e.epoch);
    history[e.epoch - 1] = e.metrics;
    const updated: TrialSnapshot = { ...snap, history };
    this.snapshots.set(e.trial_id, updated);
    this.report({ kind: 'epoch', trial_id: e.trial_id });
    return this.options.scheduler.decide(updated, e.epoch, [...this.snapshots.values()]);
  }

  private async onResult(r: ResultEvent): Promise<void> {
    const { store, experiment } = this.options;
    if (r.experiment !== experiment) return;
    const applied = store.recordResult(experiment, r.trial_id, r);
    this.inFlight.delete(r.trial_id);
    if (applied) this.options.models?.recorded(r);
    const record = applied ? store.getTrial(experiment, r.trial_id) : undefined;
    if (record) this.noteFinished(record);
    this.notify((o) => o.onResult?.(r, record));
    this.report({ kind: 'result', trial_id: r.trial_id, text: r.state === 'failed' ? r.error : undefined });
    this.wake();
  }

  /** Counts a trial in a final state, keeps the best, and tells the scheduler (rebuilt on resume). */
  private noteFinished(t: TrialRecord): void {
    if (!FINAL_STATES.includes(t.state)) return;
    const state = t.state as FinalState;
    this.counts[state]++;
    this.finished.push({ params: t.params, value: t.value, state, epochs: t.epochs });
    const { store, experiment, scheduler } = this.options;
    if (scheduler.trialFinished) {
      const history: Record<string, number>[] = [];
      for (const e of store.listEpochs(experiment, t.trial_id)) history[e.epoch - 1] = e.metrics;
      scheduler.trialFinished({ trial_id: t.trial_id, params: t.params, index: t.index, state, history });
    }
    if (t.value === null || t.state === 'failed') return;
    const better =
      this.space.metric.goal === 'maximize'
        ? t.value > (this.best?.value ?? -Infinity)
        : t.value < (this.best?.value ?? Infinity);
    if (better) this.best = { trial_id: t.trial_id, value: t.value, params: t.params };
  }

  private progress(event: SearchProgress['event']): SearchProgress {
    const { completed, stopped, failed } = this.counts;
    return {
      experiment: this.options.experiment,
      total: this.options.total ?? null,
      done: completed + stopped + failed,
      completed,
      stopped,
      failed,
      running: this.inFlight.size,
      best: this.best,
      event,
    };
  }

  private notify(call: (o: SearchObserver) => void): void {
    notifyObserver(this.options.observer, call);
  }

  private report(event: SearchProgress['event']): void {
    if (this.options.onProgress) this.options.onProgress(this.progress(event));
  }
}

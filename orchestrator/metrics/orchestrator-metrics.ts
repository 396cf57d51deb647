/** The orchestrator metrics of docs/METRICS.md, fed by SearchRunner through its observer hooks. Per-trial
 * series (`hpo_trial_*`) stay bounded: running trials plus the top `top` finished ones by the objective;
 * every series of an experiment is dropped `retentionSeconds` after its run ends. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type {
  EpochEvent,
  ParamValue,
  ResultEvent,
  TrialParams,
  TrialSpec,
} from '../../shared/protocol/index.js';
import { trackInvalidMessages } from '../../shared/metrics/invalid-messages.js';
import { archLabel, backendLabel } from '../../shared/metrics/labels.js';
import type { SearchObserver } from '../core/observer.js';
import type { Goal } from '../search-space/types.js';
import { allParamNames } from '../search-space/values.js';
import {
  FINAL_STATES,
  TRIAL_STATES,
  type StoreReader,
  type TrialRecord,
  type TrialState,
} from '../store/types.js';

export interface OrchestratorMetricsOptions {
  registry: Registry;
  /** Read at scrape time for `hpo_trials` and on start for the finished trials of a resumed run. */
  store: StoreReader;
  /** Finished trials whose per-trial series are kept, best first (default 20). */
  top?: number;
  /** Seconds after a run ends before all its series are removed (default 3600). */
  retentionSeconds?: number;
  /** Transport names to pre-initialise `hpo_dispatch_latency_seconds` with (e.g. ['in-process']). */
  transports?: string[];
  /** The orchestrator's count of bus messages rejected by validation (e.g. NatsTransport.invalidMessages). */
  invalidMessages?: () => number;
}

export const DEFAULT_METRICS_TOP = 20;
export const DEFAULT_METRICS_RETENTION_SECONDS = 3600;

/** Trial durations: a second (synthetic) to a day (large CNNs on cpu). */
const TRIAL_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];
/** Dispatch latency: milliseconds on an idle fleet to minutes when trials wait in the queue. */
const DISPATCH_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

type InfoLabels = Record<
  'experiment' | 'trial_id' | 'state' | 'arch' | 'optimizer' | 'learning_rate' | 'batch_size' | 'params',
  string
>;

/** The series one trial currently has, so they can be removed exactly. */
interface TrialSeries {
  trial_id: string;
  index: number;
  info?: InfoLabels;
  metrics: Set<string>;
  hasValue: boolean;
  hasEpoch: boolean;
  /** Objective for ranking finished trials (null: none, or failed). */
  rank: number | null;
}

/** The labels of an experiment's hpo_experiment_info series. */
function infoLabels(e: ExperimentState) {
  return { experiment: e.name, metric: e.metric, goal: e.goal, task: e.task, method: e.method };
}

interface ExperimentState {
  name: string;
  metric: string;
  goal: Goal;
  task: string;
  method: string;
  paramOrder: string[];
  /** Label sets of the experiment's histogram series, removed with it. */
  durationLabels: Map<string, { arch: string; backend: string; state: string }>;
  transports: Set<string>;
  running: Map<string, TrialSeries>;
  /** Finished trials that still have series (at most `top`). */
  finished: Map<string, TrialSeries>;
  /** When each trial (attempt) was handed to the transport. */
  dispatched: Map<string, { attempt: number; at: number; transport: string }>;
  best: number | null;
  expiry?: NodeJS.Timeout;
}

const text = (v: ParamValue | undefined): string =>
  v === undefined ? '' : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);

export class OrchestratorMetrics implements SearchObserver {
  private readonly store: StoreReader;
  private readonly top: number;
  private readonly retentionMs: number;
  private readonly experiments = new Map<string, ExperimentState>();
  private readonly ended: Counter<'experiment' | 'state'>;
  private readonly best: Gauge<'experiment' | 'metric'>;
  private readonly trialValue: Gauge<'experiment' | 'trial_id'>;
  private readonly trialMetric: Gauge<'experiment' | 'trial_id' | 'metric'>;
  private readonly trialEpoch: Gauge<'experiment' | 'trial_id'>;
  private readonly trialInfo: Gauge<keyof InfoLabels>;
  private readonly duration: Histogram<'experiment' | 'arch' | 'backend' | 'state'>;
  private readonly dispatch: Histogram<'experiment' | 'transport'>;
  private readonly info: Gauge<'experiment' | 'metric' | 'goal' | 'task' | 'method'>;
  private readonly transports: readonly string[];
  private readonly retries: Counter<'experiment'>;
  private readonly duplicates: Counter<'experiment'>;
  private readonly trials: Gauge<'experiment' | 'state'>;
  private readonly runningGauge: Gauge<'experiment'>;

  constructor(options: OrchestratorMetricsOptions) {
    const { registry } = options;
    this.store = options.store;
    this.top = options.top ?? DEFAULT_METRICS_TOP;
    this.retentionMs = (options.retentionSeconds ?? DEFAULT_METRICS_RETENTION_SECONDS) * 1000;
    if (!Number.isInteger(this.top) || this.top < 0) throw new RangeError('top must be an integer >= 0');
    if (!(this.retentionMs >= 0)) throw new RangeError('retentionSeconds must be >= 0');
    const registers = [registry];
    const experiments = this.experiments;
    const store = this.store;

    this.trials = new Gauge({
      name: 'hpo_trials',
      help: 'Trials of the experiment by state, read from the store at scrape time.',
      labelNames: ['experiment', 'state'],
      registers,
      async collect() {
        for (const name of experiments.keys()) {
          const counts = await store.countTrials(name);
          for (const state of TRIAL_STATES) this.set({ experiment: name, state }, counts[state]);
        }
      },
    });
    this.ended = new Counter({
      name: 'hpo_trials_ended_total',
      help: 'Trials that reached a final state (completed, stopped, failed) in this process.',
      labelNames: ['experiment', 'state'],
      registers,
    });
    this.runningGauge = new Gauge({
      name: 'hpo_trials_running',
      help: 'Trials dispatched and not ended.',
      labelNames: ['experiment'],
      registers,
      collect() {
        for (const e of experiments.values()) this.set({ experiment: e.name }, e.running.size);
      },
    });
    this.best = new Gauge({
      name: 'hpo_best_value',
      help: "Best objective value among the experiment's finished trials (metric = the search's metric.name).",
      labelNames: ['experiment', 'metric'],
      registers,
    });
    this.trialValue = new Gauge({
      name: 'hpo_trial_value',
      help: "A trial's objective: the latest epoch's value while running, the final value when finished.",
      labelNames: ['experiment', 'trial_id'],
      registers,
    });
    this.trialMetric = new Gauge({
      name: 'hpo_trial_metric',
      help: "A trial's latest per-epoch validation metric (val_* and the objective).",
      labelNames: ['experiment', 'trial_id', 'metric'],
      registers,
    });
    this.trialEpoch = new Gauge({
      name: 'hpo_trial_epoch',
      help: 'Latest epoch a trial reported.',
      labelNames: ['experiment', 'trial_id'],
      registers,
    });
    this.trialInfo = new Gauge({
      name: 'hpo_trial_info',
      help: "A trial's parameters (value 1), for table joins; params is k=v,k=v in file order.",
      labelNames: [
        'experiment',
        'trial_id',
        'state',
        'arch',
        'optimizer',
        'learning_rate',
        'batch_size',
        'params',
      ],
      registers,
    });
    this.duration = new Histogram({
      name: 'hpo_trial_duration_seconds',
      help: 'Wall time of each finished trial (arch = params.arch, else the task name; backend none without tfjs).',
      labelNames: ['experiment', 'arch', 'backend', 'state'],
      buckets: TRIAL_BUCKETS,
      registers,
    });
    this.dispatch = new Histogram({
      name: 'hpo_dispatch_latency_seconds',
      help: "From handing a trial to the transport until a worker slot started it (the worker's start time).",
      labelNames: ['experiment', 'transport'],
      buckets: DISPATCH_BUCKETS,
      registers,
    });
    this.transports = options.transports ?? [];
    this.info = new Gauge({
      name: 'hpo_experiment_info',
      help: "Always 1: the experiment's objective (metric), its goal (maximize or minimize), task and method.",
      labelNames: ['experiment', 'metric', 'goal', 'task', 'method'],
      registers,
    });
    this.retries = new Counter({
      name: 'hpo_trial_retries_total',
      help: 'Re-runs: trials dispatched with attempt > 1.',
      labelNames: ['experiment'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'hpo_duplicate_results_total',
      help: 'Results ignored because the trial was already final (the first result wins).',
      labelNames: ['experiment'],
      registers,
    });
    trackInvalidMessages(registry, 'orchestrator', options.invalidMessages);
  }

  async onStart(experiment: string): Promise<void> {
    const record = await this.store.getExperiment(experiment);
    if (!record) return;
    const previous = this.experiments.get(experiment);
    if (previous) this.drop(previous);
    const space = record.space;
    const e: ExperimentState = {
      name: experiment,
      metric: space.metric.name,
      goal: space.metric.goal,
      task: space.task,
      method: space.method,
      durationLabels: new Map(),
      transports: new Set(this.transports),
      paramOrder: allParamNames(space),
      running: new Map(),
      finished: new Map(),
      dispatched: new Map(),
      best: null,
    };
    this.experiments.set(experiment, e);
    this.info.set(infoLabels(e), 1);
    for (const transport of this.transports) this.dispatch.zero({ experiment, transport });
    for (const state of FINAL_STATES) this.ended.inc({ experiment, state }, 0);
    this.retries.inc({ experiment }, 0);
    this.duplicates.inc({ experiment }, 0);
    // A resumed run: its finished trials rank from the start.
    for (const t of await this.store.listTrials(experiment)) {
      if (FINAL_STATES.includes(t.state)) this.finish(e, t);
    }
  }

  onDispatch(spec: TrialSpec, transport: string, queued = false): void {
    const e = this.experiments.get(spec.experiment);
    if (!e) return;
    if (spec.attempt > 1) this.retries.inc({ experiment: e.name });
    e.dispatched.set(spec.trial_id, { attempt: spec.attempt, at: Date.now(), transport });
    const series = e.running.get(spec.trial_id) ?? this.newSeries(e, spec.trial_id);
    e.running.set(spec.trial_id, series);
    this.setInfo(e, series, spec.params, queued ? 'queued' : 'running');
  }

  onStarted(experiment: string, trialId: string): void {
    const series = this.experiments.get(experiment)?.running.get(trialId);
    if (!series?.info) return;
    this.trialInfo.remove(series.info);
    this.trialInfo.set((series.info = { ...series.info, state: 'running' }), 1);
  }

  onEpoch(event: EpochEvent): void {
    const e = this.experiments.get(event.experiment);
    const series = e?.running.get(event.trial_id);
    if (!e || !series) return; // a late epoch of a trial already final: nothing to show
    const labels = { experiment: e.name, trial_id: event.trial_id };
    this.trialEpoch.set(labels, event.epoch);
    series.hasEpoch = true;
    for (const [name, value] of Object.entries(event.metrics)) {
      if (!Number.isFinite(value) || !(name === e.metric || name.startsWith('val_'))) continue;
      this.trialMetric.set({ ...labels, metric: name }, value);
      series.metrics.add(name);
    }
    const objective = event.metrics[e.metric];
    if (Number.isFinite(objective)) {
      this.trialValue.set(labels, objective);
      series.hasValue = true;
    }
  }

  onResult(event: ResultEvent, record: TrialRecord | undefined): void {
    const e = this.experiments.get(event.experiment);
    if (!e) return;
    if (!record) {
      this.duplicates.inc({ experiment: e.name });
      return;
    }
    this.ended.inc({ experiment: e.name, state: record.state });
    const seconds = (event.ended_at - event.started_at) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) {
      const labels = {
        arch: archLabel({ params: record.params, task: e.task }),
        backend: backendLabel(event.backend),
        state: record.state,
      };
      e.durationLabels.set(JSON.stringify(labels), labels);
      this.duration.observe({ experiment: e.name, ...labels }, seconds);
    }
    const sent = e.dispatched.get(event.trial_id);
    if (sent && sent.attempt === event.attempt && Number.isFinite(event.started_at)) {
      // Across machines this includes the clocks' offset: never below zero.
      e.transports.add(sent.transport);
      this.dispatch.observe(
        { experiment: e.name, transport: sent.transport },
        Math.max(0, event.started_at - sent.at) / 1000,
      );
    }
    e.dispatched.delete(event.trial_id);
    this.finish(e, record);
  }

  onEnd(experiment: string, _status: 'completed' | 'interrupted'): void {
    const e = this.experiments.get(experiment);
    if (!e) return;
    // Interrupted: the running trials were cancelled and wait (pending) for a resume.
    for (const series of e.running.values()) this.removeSeries(e, series);
    e.running.clear();
    e.dispatched.clear();
    clearTimeout(e.expiry);
    if (this.retentionMs === 0) return this.drop(e);
    e.expiry = setTimeout(() => this.drop(e), this.retentionMs);
    e.expiry.unref();
  }

  /** Experiments whose series are exported now (for tests and logs). */
  trackedExperiments(): string[] {
    return [...this.experiments.keys()];
  }

  /** Stops the retention timers (the process is exiting). */
  close(): void {
    for (const e of this.experiments.values()) clearTimeout(e.expiry);
  }

  /** A trial reached a final state: final value, info state, best, and the top-N cut. */
  private finish(e: ExperimentState, t: TrialRecord): void {
    const series = e.running.get(t.trial_id) ?? e.finished.get(t.trial_id) ?? this.newSeries(e, t.trial_id);
    series.index = t.index;
    e.running.delete(t.trial_id);
    const value = t.state === 'failed' ? null : t.value;
    series.rank = value;
    const labels = { experiment: e.name, trial_id: t.trial_id };
    if (t.value !== null) {
      this.trialValue.set(labels, t.value);
      series.hasValue = true;
    }
    if (t.epochs > 0) {
      this.trialEpoch.set(labels, t.epochs);
      series.hasEpoch = true;
    }
    for (const [name, v] of Object.entries(t.metrics ?? {})) {
      if (!Number.isFinite(v) || !(name === e.metric || name.startsWith('val_'))) continue;
      this.trialMetric.set({ ...labels, metric: name }, v);
      series.metrics.add(name);
    }
    this.setInfo(e, series, t.params, t.state);
    e.finished.set(t.trial_id, series);
    if (value !== null && (e.best === null || this.better(e.goal, value, e.best))) {
      e.best = value;
      this.best.set({ experiment: e.name, metric: e.metric }, value);
    }
    this.cut(e);
  }

  /** Keeps the series of the best `top` finished trials, removes the others'. */
  private cut(e: ExperimentState): void {
    if (e.finished.size <= this.top) return;
    const ranked = [...e.finished.values()].sort((a, b) => {
      if (a.rank === null || b.rank === null) {
        if (a.rank !== b.rank) return a.rank === null ? 1 : -1;
      } else if (a.rank !== b.rank) return this.better(e.goal, a.rank, b.rank) ? -1 : 1;
      return a.index - b.index;
    });
    for (const series of ranked.slice(this.top)) {
      this.removeSeries(e, series);
      e.finished.delete(series.trial_id);
    }
  }

  private better(goal: Goal, a: number, b: number): boolean {
    return goal === 'maximize' ? a > b : a < b;
  }

  private newSeries(e: ExperimentState, trialId: string): TrialSeries {
    return {
      trial_id: trialId,
      index: Number.MAX_SAFE_INTEGER,
      metrics: new Set(),
      hasValue: false,
      hasEpoch: false,
      rank: null,
    };
  }

  private setInfo(e: ExperimentState, series: TrialSeries, params: TrialParams, state: TrialState): void {
    if (series.info) this.trialInfo.remove(series.info);
    const order = [...e.paramOrder, ...Object.keys(params).filter((k) => !e.paramOrder.includes(k))];
    series.info = {
      experiment: e.name,
      trial_id: series.trial_id,
      state,
      arch: text(params.arch),
      optimizer: text(params.optimizer),
      learning_rate: text(params.learning_rate),
      batch_size: text(params.batch_size),
      params: order
        .filter((k) => params[k] !== undefined)
        .map((k) => `${k}=${text(params[k])}`)
        .join(','),
    };
    this.trialInfo.set(series.info, 1);
  }

  private removeSeries(e: ExperimentState, series: TrialSeries): void {
    const labels = { experiment: e.name, trial_id: series.trial_id };
    if (series.info) this.trialInfo.remove(series.info);
    if (series.hasValue) this.trialValue.remove(labels);
    if (series.hasEpoch) this.trialEpoch.remove(labels);
    for (const metric of series.metrics) this.trialMetric.remove({ ...labels, metric });
    series.info = undefined;
    series.hasValue = false;
    series.hasEpoch = false;
    series.metrics.clear();
  }

  /** Removes every series of the experiment (retention over, or a new run of it starts). */
  private drop(e: ExperimentState): void {
    clearTimeout(e.expiry);
    for (const series of [...e.running.values(), ...e.finished.values()]) this.removeSeries(e, series);
    const experiment = e.name;
    for (const state of TRIAL_STATES) this.trials.remove({ experiment, state });
    for (const state of FINAL_STATES) this.ended.remove({ experiment, state });
    this.runningGauge.remove({ experiment });
    this.best.remove({ experiment, metric: e.metric });
    this.info.remove(infoLabels(e));
    for (const labels of e.durationLabels.values()) this.duration.remove({ experiment, ...labels });
    for (const transport of e.transports) this.dispatch.remove({ experiment, transport });
    this.retries.remove({ experiment });
    this.duplicates.remove({ experiment });
    if (this.experiments.get(experiment) === e) this.experiments.delete(experiment);
  }
}

/** The orchestrator metrics of docs/METRICS.md, fed by SearchRunner through its observer hooks. Per-trial
 * series (`hpo_trial_*`) stay bounded: running trials plus the top `top` finished ones by the objective;
 * every series of an experiment is dropped `retentionSeconds` after its run ends. */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
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
import {
  type InfoLabels,
  runFamilies,
  timingFamilies,
  trialCountFamilies,
  trialValueFamilies,
} from './metric-families.js';
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
    // Registered in this order (the order of the exposition).
    ({
      trials: this.trials,
      ended: this.ended,
      running: this.runningGauge,
    } = trialCountFamilies(registers, this.experiments, this.store));
    ({
      best: this.best,
      value: this.trialValue,
      metric: this.trialMetric,
      epoch: this.trialEpoch,
      info: this.trialInfo,
    } = trialValueFamilies(registers));
    ({ duration: this.duration, dispatch: this.dispatch } = timingFamilies(registers));
    this.transports = options.transports ?? [];
    ({ info: this.info, retries: this.retries, duplicates: this.duplicates } = runFamilies(registers));
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

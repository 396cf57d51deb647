/**
 * The metric families OrchestratorMetrics feeds (docs/METRICS.md), by group: trial counts, trial values,
 * timings, and per-run facts. Each group is registered in the order it lists them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TRIAL_STATES, type StoreReader } from '../store/types.js';

/** Trial durations: a second (synthetic) to a day (large CNNs on cpu). */
const TRIAL_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];
/** Dispatch latency: milliseconds on an idle fleet to minutes when trials wait in the queue. */
const DISPATCH_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** The labels of a trial's hpo_trial_info series. */
export type InfoLabels = Record<
  'experiment' | 'trial_id' | 'state' | 'arch' | 'optimizer' | 'learning_rate' | 'batch_size' | 'params',
  string
>;

type Registers = Registry[];

/** What the scrape-time gauges read: the experiments followed (their running trials), and the store. */
type Followed = ReadonlyMap<string, { name: string; running: ReadonlyMap<string, unknown> }>;

/** hpo_trials (from the store at scrape time), hpo_trials_ended_total, hpo_trials_running. */
export function trialCountFamilies(registers: Registers, experiments: Followed, store: StoreReader) {
  const trials = new Gauge({
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
  const ended = new Counter({
    name: 'hpo_trials_ended_total',
    help: 'Trials that reached a final state (completed, stopped, failed) in this process.',
    labelNames: ['experiment', 'state'],
    registers,
  });
  const running = new Gauge({
    name: 'hpo_trials_running',
    help: 'Trials dispatched and not ended.',
    labelNames: ['experiment'],
    registers,
    collect() {
      for (const e of experiments.values()) this.set({ experiment: e.name }, e.running.size);
    },
  });
  return { trials, ended, running };
}

/** hpo_best_value and the per-trial series: hpo_trial_value, _metric, _epoch, _info. */
export function trialValueFamilies(registers: Registers) {
  const best = new Gauge({
    name: 'hpo_best_value',
    help: "Best objective value among the experiment's finished trials (metric = the search's metric.name).",
    labelNames: ['experiment', 'metric'],
    registers,
  });
  const value = new Gauge({
    name: 'hpo_trial_value',
    help: "A trial's objective: the latest epoch's value while running, the final value when finished.",
    labelNames: ['experiment', 'trial_id'],
    registers,
  });
  const metric = new Gauge({
    name: 'hpo_trial_metric',
    help: "A trial's latest per-epoch validation metric (val_* and the objective).",
    labelNames: ['experiment', 'trial_id', 'metric'],
    registers,
  });
  const epoch = new Gauge({
    name: 'hpo_trial_epoch',
    help: 'Latest epoch a trial reported.',
    labelNames: ['experiment', 'trial_id'],
    registers,
  });
  const info = new Gauge<keyof InfoLabels>({
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
  return { best, value, metric, epoch, info };
}

/** hpo_trial_duration_seconds and hpo_dispatch_latency_seconds. */
export function timingFamilies(registers: Registers) {
  const duration = new Histogram({
    name: 'hpo_trial_duration_seconds',
    help: 'Wall time of each finished trial (arch = params.arch, else the task name; backend none without tfjs).',
    labelNames: ['experiment', 'arch', 'backend', 'state'],
    buckets: TRIAL_BUCKETS,
    registers,
  });
  const dispatch = new Histogram({
    name: 'hpo_dispatch_latency_seconds',
    help: "From handing a trial to the transport until a worker slot started it (the worker's start time).",
    labelNames: ['experiment', 'transport'],
    buckets: DISPATCH_BUCKETS,
    registers,
  });
  return { duration, dispatch };
}

/** hpo_experiment_info, hpo_trial_retries_total, hpo_duplicate_results_total. */
export function runFamilies(registers: Registers) {
  const info = new Gauge({
    name: 'hpo_experiment_info',
    help: "Always 1: the experiment's objective (metric), its goal (maximize or minimize), task and method.",
    labelNames: ['experiment', 'metric', 'goal', 'task', 'method'],
    registers,
  });
  const retries = new Counter({
    name: 'hpo_trial_retries_total',
    help: 'Re-runs: trials dispatched with attempt > 1.',
    labelNames: ['experiment'],
    registers,
  });
  const duplicates = new Counter({
    name: 'hpo_duplicate_results_total',
    help: 'Results ignored because the trial was already final (the first result wins).',
    labelNames: ['experiment'],
    registers,
  });
  return { info, retries, duplicates };
}

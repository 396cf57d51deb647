/**
 * Everything a report shows, read from the store for one or more experiments of the same task and metric
 * (the report's SGD and Adam runs are two experiments: a sweep file cannot tie the rate to the optimizer).
 */
import { UsageError } from '../../shared/errors.js';
import { shortNumber } from '../../shared/number-format.js';
import type { Goal, SearchSpace } from '../search-space/types.js';
import { allParamNames } from '../search-space/values.js';
import type {
  EpochRecord,
  ExperimentRecord,
  ModelRecord,
  RunInfo,
  StoreReader,
  TrialRecord,
} from '../store/types.js';

export interface ReportExperiment {
  record: ExperimentRecord;
  runs: RunInfo[];
  models: ModelRecord[];
}

export interface ReportTrial extends TrialRecord {
  epochList: EpochRecord[];
}

export interface ReportData {
  experiments: ReportExperiment[];
  metric: { name: string; goal: Goal };
  task: string;
  /** Every trial of every experiment, in experiment then index order. */
  trials: ReportTrial[];
  /** Finished trials with a value, best first by the validation objective (test metrics never rank). */
  leaderboard: ReportTrial[];
  /** Parameters that take more than one value across the trials, in the first space's order. */
  searched: string[];
  /** Backend name -> trials that ran on it. */
  backends: Record<string, number>;
  generatedAt: number;
}

function paramOrder(spaces: SearchSpace[]): string[] {
  const names: string[] = [];
  // Branch parameters too (a learning rate per optimizer): they are searched whenever they vary.
  for (const s of spaces) for (const n of allParamNames(s)) if (!names.includes(n)) names.push(n);
  return names;
}

export async function collectReport(
  store: StoreReader,
  names: readonly string[],
  now: number = Date.now(),
): Promise<ReportData> {
  if (names.length === 0) throw new UsageError('name at least one experiment');
  const experiments: ReportExperiment[] = [];
  for (const name of names) {
    const record = await store.getExperiment(name);
    if (!record) throw new UsageError(`no experiment '${name}' in the database (see hpo experiments)`);
    experiments.push({ record, runs: await store.listRuns(name), models: await store.listModels(name) });
  }
  const first = experiments[0].record.space;
  for (const { record } of experiments.slice(1)) {
    const m = record.space.metric;
    if (m.name !== first.metric.name || m.goal !== first.metric.goal || record.space.task !== first.task) {
      throw new UsageError(
        `experiments '${experiments[0].record.name}' and '${record.name}' differ in task or metric ` +
          `(${first.task} ${first.metric.goal} ${first.metric.name} vs ${record.space.task} ${m.goal} ${m.name}): ` +
          'report them separately',
      );
    }
  }
  const trials: ReportTrial[] = [];
  for (const { record } of experiments) {
    for (const t of await store.listTrials(record.name)) {
      trials.push({ ...t, epochList: await store.listEpochs(record.name, t.trial_id) });
    }
  }
  const sign = first.metric.goal === 'maximize' ? -1 : 1;
  const leaderboard = trials
    .filter((t) => (t.state === 'completed' || t.state === 'stopped') && t.value !== null)
    .sort(
      (a, b) => sign * (a.value! - b.value!) || a.experiment.localeCompare(b.experiment) || a.index - b.index,
    );
  const searched = paramOrder(experiments.map((e) => e.record.space)).filter(
    (p) => new Set(trials.map((t) => JSON.stringify(t.params[p]))).size > 1,
  );
  const backends: Record<string, number> = {};
  for (const t of trials) if (t.backend) backends[t.backend] = (backends[t.backend] ?? 0) + 1;
  return {
    experiments,
    metric: first.metric,
    task: first.task,
    trials,
    leaderboard,
    searched,
    backends,
    generatedAt: now,
  };
}

/** "t0004 cnn sgd lr=4.1153e-4 b32": numbers shortened for reading (with the experiment when the report spans several). */
export function trialLabel(t: TrialRecord, searched: readonly string[], multi: boolean): string {
  const parts = searched.map((p) => {
    const v = t.params[p];
    const text = typeof v === 'number' ? shortNumber(v) : String(v);
    if (p === 'arch' || p === 'optimizer') return text;
    if (p === 'batch_size') return `b${text}`;
    if (p === 'learning_rate') return `lr=${text}`;
    return `${p}=${text}`;
  });
  return [multi ? `${t.experiment}/${t.trial_id}` : t.trial_id, ...parts].join(' ');
}

/**
 * The dashboard's JSON answers, built from the StoreReader's aggregates: an experiment's summary, the
 * best-so-far history, parallel-coordinates rows, learning curves of chosen trials and the MNIST seed
 * table. Each answer is bounded in size whatever the number of trials.
 */
import type { ParamValue } from '../shared/protocol/index.js';
import { trialRung, type ParamSpec } from '../orchestrator/search-space/index.js';
import { buildReportTable, SEED_REPORT_REFERENCE, type TableRow } from '../orchestrator/report/index.js';
import type { ExperimentRecord, StoreReader, TrialRecord, TrialState } from '../orchestrator/store/index.js';
import { searchedParams } from './importance.js';
import { MNIST_TASK } from '../shared/task-names.js';

/** Points of the best-so-far history beyond which finished trials are thinned (improvements always kept). */
export const HISTORY_POINTS = 2000;
/** Parallel coordinates show at most this many of the best trials. */
export const PARALLEL_ROWS = 500;
/** Learning curves of at most this many trials at once. */
export const MAX_CURVES = 20;

export interface ExperimentListItem {
  name: string;
  status: string;
  task: string;
  method: string;
  metric: string;
  goal: string;
  trials: Record<TrialState, number> & { total: number };
  created_at: number;
  updated_at: number;
}

export interface ExperimentSummaryView extends ExperimentListItem {
  description: string | null;
  /** Searched parameters (file order) and their specs; constants separately. */
  params: { name: string; spec: ParamSpec }[];
  constants: Record<string, ParamValue>;
  epoch_rows: number;
  epoch_metrics: string[];
  best: TrialRecord | null;
  hyperband: boolean;
  /** Stopped trials grouped by epochs run and rung reached (with hyperband), fewest epochs first. */
  stopped_at: { epochs: number; rung: number | null; trials: number }[];
  errors: { error: string; trials: number; trial_id: string }[];
  /** True for the MNIST task: the seed report's table applies. */
  seed_table: boolean;
}

function withTotal(c: Record<TrialState, number>): Record<TrialState, number> & { total: number } {
  return { ...c, total: Object.values(c).reduce((a, b) => a + b, 0) };
}

function listItem(e: ExperimentRecord, counts: Record<TrialState, number>): ExperimentListItem {
  return {
    name: e.name,
    status: e.status,
    task: e.space.task,
    method: e.space.method,
    metric: e.space.metric.name,
    goal: e.space.metric.goal,
    trials: withTotal(counts),
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

/** Newest first (then by name). */
function byCreatedDesc(a: ExperimentRecord, b: ExperimentRecord): number {
  return b.created_at - a.created_at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export async function experimentList(reader: StoreReader): Promise<ExperimentListItem[]> {
  const counts = await reader.countTrialsByExperiment();
  const experiments = (await reader.listExperiments()).sort(byCreatedDesc);
  const items: ExperimentListItem[] = [];
  for (const e of experiments)
    items.push(listItem(e, counts.get(e.name) ?? (await reader.countTrials(e.name))));
  return items;
}

export async function experimentSummary(
  reader: StoreReader,
  name: string,
): Promise<ExperimentSummaryView | undefined> {
  const e = await reader.getExperiment(name);
  if (!e) return undefined;
  const space = e.space;
  const groups = new Map<string, { epochs: number; rung: number | null; trials: number }>();
  for (const t of await reader.stoppedTrials(name)) {
    const rung = trialRung(space, t);
    const key = `${t.epochs}/${rung}`;
    const g = groups.get(key) ?? { epochs: t.epochs, rung, trials: 0 };
    g.trials++;
    groups.set(key, g);
  }
  const constants: Record<string, ParamValue> = {};
  for (const [n, spec] of Object.entries(space.parameters))
    if (spec.kind === 'constant') constants[n] = spec.value;
  return {
    ...listItem(e, await reader.countTrials(name)),
    description: space.description ?? null,
    params: searchedParams(space).map((n) => ({ name: n, spec: space.parameters[n] })),
    constants,
    epoch_rows: await reader.countEpochs(name),
    epoch_metrics: await reader.lastEpochMetricNames(name),
    best: (await reader.leaderboard(name, { top: 1 }))[0] ?? null,
    hyperband: space.early_terminate?.type === 'hyperband',
    stopped_at: [...groups.values()].sort((a, b) => a.epochs - b.epochs || (a.rung ?? -1) - (b.rung ?? -1)),
    errors: await reader.errorGroups(name, 10),
    seed_table: space.task === MNIST_TASK,
  };
}

export interface HistoryView {
  goal: string;
  /** Finished trials with a value. */
  total: number;
  /** [n-th finished, value, trial_id]: every trial up to HISTORY_POINTS, then evenly thinned. */
  points: [number, number, string][];
  /** [n-th finished, best so far, trial_id] at each improvement, and at the last trial. */
  best: [number, number, string][];
}

export async function bestSoFar(reader: StoreReader, name: string): Promise<HistoryView | undefined> {
  const e = await reader.getExperiment(name);
  if (!e) return undefined;
  const goal = e.space.metric.goal;
  const rows = await reader.finishedOrder(name);
  const stride = Math.max(1, Math.ceil(rows.length / HISTORY_POINTS));
  const points: [number, number, string][] = [];
  const best: [number, number, string][] = [];
  let top: { value: number; trial_id: string } | null = null;
  rows.forEach((r, i) => {
    const n = i + 1;
    const improved = !top || (goal === 'minimize' ? r.value < top.value : r.value > top.value);
    if (improved) {
      top = { value: r.value, trial_id: r.trial_id };
      best.push([n, r.value, r.trial_id]);
    }
    if (i % stride === 0 || improved) points.push([n, r.value, r.trial_id]);
  });
  const last = best[best.length - 1];
  if (last && last[0] !== rows.length) best.push([rows.length, last[1], last[2]]);
  return { goal, total: rows.length, points, best };
}

export interface ParallelView {
  params: { name: string; spec: ParamSpec }[];
  metric: string;
  goal: string;
  /** Finished trials with a value, and how many (the best) are shown. */
  total: number;
  rows: { trial_id: string; params: Record<string, ParamValue>; value: number }[];
}

export async function parallelRows(reader: StoreReader, name: string): Promise<ParallelView | undefined> {
  const e = await reader.getExperiment(name);
  if (!e) return undefined;
  const rows = await reader.leaderboard(name, { top: PARALLEL_ROWS });
  const counts = await reader.countTrials(name);
  return {
    params: searchedParams(e.space).map((n) => ({ name: n, spec: e.space.parameters[n] })),
    metric: e.space.metric.name,
    goal: e.space.metric.goal,
    total: rows.length < PARALLEL_ROWS ? rows.length : counts.completed + counts.stopped,
    rows: rows.map((t) => ({ trial_id: t.trial_id, params: t.params, value: t.value! })),
  };
}

export interface CurvesView {
  metric: string;
  trials: { trial_id: string; index: number; state: string; points: [number, number | null][] }[];
}

/** Learning curves of the given trials (at most MAX_CURVES) for one metric (default: the objective). */
export async function learningCurves(
  reader: StoreReader,
  name: string,
  trialIds: readonly string[],
  metric?: string,
): Promise<CurvesView | undefined> {
  const e = await reader.getExperiment(name);
  if (!e) return undefined;
  const m = metric ?? e.space.metric.name;
  const trials: CurvesView['trials'] = [];
  for (const id of trialIds.slice(0, MAX_CURVES)) {
    const t = await reader.getTrial(name, id);
    if (!t) continue;
    const points = (await reader.listEpochs(name, id)).map((r): [number, number | null] => {
      const v = r.metrics[m];
      return [r.epoch, typeof v === 'number' && Number.isFinite(v) ? v : null];
    });
    trials.push({ trial_id: id, index: t.index, state: t.state, points });
  }
  return { metric: m, trials };
}

export interface TrialDetailView {
  trial: TrialRecord;
  rung: number | null;
  epochs: { epoch: number; metrics: Record<string, number>; recorded_at: number }[];
}

export async function trialDetail(
  reader: StoreReader,
  name: string,
  trialId: string,
): Promise<TrialDetailView | undefined> {
  const e = await reader.getExperiment(name);
  const trial = e && (await reader.getTrial(name, trialId));
  if (!e || !trial) return undefined;
  const epochs = (await reader.listEpochs(name, trialId)).map(({ epoch, metrics, recorded_at }) => ({
    epoch,
    metrics,
    recorded_at,
  }));
  return { trial, rung: trialRung(e.space, trial), epochs };
}

/** The seed report's table for an MNIST experiment; undefined for other tasks (no such panel there). */
export async function seedTable(reader: StoreReader, name: string): Promise<TableRow[] | undefined> {
  const e = await reader.getExperiment(name);
  if (!e || e.space.task !== MNIST_TASK) return undefined;
  const trials = (await reader.leaderboard(name, { top: 10_000 })).map((t) => ({ ...t, experiment: name }));
  return buildReportTable(trials, SEED_REPORT_REFERENCE.rows, { goal: e.space.metric.goal });
}

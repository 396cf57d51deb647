/**
 * The report's table rebuilt from a run: one row per architecture / optimizer / learning rate / batch
 * size, with train and test accuracy as "(top %, bottom %)", beside the seed report's own numbers where a
 * reference row matches. Pure: trials in, rows out.
 *
 * When several trials share a row's configuration (other parameters differ, or several experiments), the
 * row shows the one with the best validation objective: the test numbers are shown, never used to choose.
 */
import type { Goal } from '../search-space/types.js';
import type { ReferenceRow } from './reference.js';
import type { TrialParams } from '../../shared/protocol/index.js';

/** What the table needs of a trial (a TrialRecord fits). */
export interface TableTrial {
  experiment: string;
  trial_id: string;
  state: string;
  params: TrialParams;
  /** The validation objective. */
  value: number | null;
  metrics: Record<string, number> | null;
  epochs: number;
}

export interface TableRow {
  arch: string;
  optimizer: string;
  learning_rate: number;
  batch_size: number;
  /** Epochs the shown trial ran. */
  epochs: number;
  /** The trial shown, and how many trials had this configuration. */
  experiment: string;
  trial_id: string;
  trials: number;
  value: number;
  /** (top, bottom) as fractions in [0, 1]; train is the last epoch's running training accuracy. */
  train: [number, number] | null;
  test: [number, number] | null;
  /** Seed-report rows with this configuration (batch size unstated counts as matching). */
  reference: ReferenceRow[];
}

const KEY_PARAMS = ['arch', 'optimizer', 'learning_rate', 'batch_size'] as const;

function pair(metrics: Record<string, number> | null, top: string, bottom: string): [number, number] | null {
  const t = metrics?.[top];
  const b = metrics?.[bottom];
  return typeof t === 'number' && typeof b === 'number' ? [t, b] : null;
}

function sameRate(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** Reference rows matching a configuration: same arch, optimizer and rate; batch equal or unstated. */
export function matchReference(
  row: Pick<TableRow, 'arch' | 'optimizer' | 'learning_rate' | 'batch_size'>,
  reference: readonly ReferenceRow[],
): ReferenceRow[] {
  return reference.filter(
    (r) =>
      r.arch === row.arch &&
      r.optimizer === row.optimizer &&
      sameRate(r.learning_rate, row.learning_rate) &&
      (r.batch_size === null || r.batch_size === row.batch_size),
  );
}

function better(goal: Goal, a: number, b: number): boolean {
  return goal === 'maximize' ? a > b : a < b;
}

/**
 * Rows for the finished trials (completed or stopped, with a value) that carry the four key parameters,
 * ordered by the architecture order given (then optimizer, learning rate, batch size).
 */
export function buildReportTable(
  trials: readonly TableTrial[],
  reference: readonly ReferenceRow[],
  options: { goal: Goal; archOrder?: readonly string[] },
): TableRow[] {
  const groups = new Map<string, { best: TableTrial; count: number }>();
  for (const t of trials) {
    if ((t.state !== 'completed' && t.state !== 'stopped') || t.value === null) continue;
    const p = t.params;
    if (typeof p.arch !== 'string' || typeof p.optimizer !== 'string') continue;
    if (typeof p.learning_rate !== 'number' || typeof p.batch_size !== 'number') continue;
    const key = JSON.stringify(KEY_PARAMS.map((k) => p[k]));
    const g = groups.get(key);
    if (!g) groups.set(key, { best: t, count: 1 });
    else {
      g.count++;
      if (better(options.goal, t.value, g.best.value!)) g.best = t;
    }
  }
  const rows: TableRow[] = [...groups.values()].map(({ best: t, count }) => {
    const row = {
      arch: t.params.arch as string,
      optimizer: t.params.optimizer as string,
      learning_rate: t.params.learning_rate as number,
      batch_size: t.params.batch_size as number,
    };
    return {
      ...row,
      epochs: t.epochs,
      experiment: t.experiment,
      trial_id: t.trial_id,
      trials: count,
      value: t.value!,
      train: pair(t.metrics, 'train_acc_top', 'train_acc_bottom'),
      test: pair(t.metrics, 'test_acc_top', 'test_acc_bottom'),
      reference: matchReference(row, reference),
    };
  });
  const order = options.archOrder ?? [];
  const archRank = (a: string) => (order.includes(a) ? order.indexOf(a) : order.length);
  return rows.sort(
    (a, b) =>
      archRank(a.arch) - archRank(b.arch) ||
      a.arch.localeCompare(b.arch) ||
      a.optimizer.localeCompare(b.optimizer) ||
      a.learning_rate - b.learning_rate ||
      a.batch_size - b.batch_size,
  );
}

/** "(84%, 83%)" from fractions; "-" when absent. */
export function formatPair(p: readonly [number, number] | null): string {
  if (!p) return '-';
  return `(${Math.round(p[0] * 100)}%, ${Math.round(p[1] * 100)}%)`;
}

/** "(84%, 83%)" from the reference's percentages. */
export function formatPercentPair(p: readonly [number, number]): string {
  return `(${p[0]}%, ${p[1]}%)`;
}

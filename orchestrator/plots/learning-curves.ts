/**
 * Learning curves: one small panel per trial, loss or accuracy per epoch. The series come from the
 * metrics the task reported: the MNIST task's train/validation loss and per-digit accuracies by their
 * names, any other task's `*loss*` metrics, and its objective and `*acc*` metrics. A trial with no value
 * of the plot's series gets no panel, and a plot with no value at all is not drawn (`null`).
 */
import type { ChartSpec } from './render.js';

export interface CurveTrial {
  /** Panel title, e.g. "t0004 cnn sgd lr=0.01 b32". */
  label: string;
  epochs: { epoch: number; metrics: Record<string, number> }[];
}

export type CurveKind = 'loss' | 'accuracy';

/** Known metric names and their legend names (the MNIST task's). */
const KNOWN: Record<CurveKind, [metric: string, name: string][]> = {
  loss: [
    ['train_loss', 'train'],
    ['val_loss', 'validation'],
  ],
  accuracy: [
    ['train_acc_top', 'train top'],
    ['train_acc_bottom', 'train bottom'],
    ['val_acc_top', 'validation top'],
    ['val_acc_bottom', 'validation bottom'],
  ],
};

/** The series of a plot: [metric, legend name], known names first, from what the trials reported. */
export function curveSeries(
  trials: readonly CurveTrial[],
  kind: CurveKind,
  objective?: string,
): [metric: string, name: string][] {
  const reported = new Set<string>();
  for (const t of trials) for (const e of t.epochs) for (const k of Object.keys(e.metrics)) reported.add(k);
  const known = KNOWN[kind].filter(([m]) => reported.has(m));
  if (kind === 'accuracy' && known.length > 0) return known;
  const isLoss = (m: string) => /loss/i.test(m);
  const others = [...reported]
    .filter((m) => !KNOWN[kind].some(([k]) => k === m))
    .filter((m) => (kind === 'loss' ? isLoss(m) : !isLoss(m) && (m === objective || /acc/i.test(m))))
    .sort();
  return [...known, ...others.map((m): [string, string] => [m, m])];
}

export function learningCurveSpec(
  trials: readonly CurveTrial[],
  kind: CurveKind,
  columns = 4,
  objective?: string,
): ChartSpec | null {
  const series = curveSeries(trials, kind, objective);
  const values: { trial: string; epoch: number; series: string; y: number }[] = [];
  const shown: string[] = [];
  for (const t of trials) {
    const before = values.length;
    for (const e of t.epochs) {
      for (const [metric, name] of series) {
        const y = e.metrics[metric];
        if (typeof y === 'number' && Number.isFinite(y))
          values.push({ trial: t.label, epoch: e.epoch, series: name, y });
      }
    }
    if (values.length > before) shown.push(t.label);
  }
  if (values.length === 0) return null;
  const unit = values.every((v) => v.y >= 0 && v.y <= 1);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { field: 'trial', type: 'nominal', title: null, sort: shown },
    columns: Math.min(columns, shown.length),
    spec: {
      width: 170,
      height: 110,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, title: 'epoch' },
        y: {
          field: 'y',
          type: 'quantitative',
          title: kind === 'loss' ? 'loss' : 'accuracy',
          ...(kind === 'accuracy' && unit ? { scale: { domain: [0, 1] } } : { scale: { zero: false } }),
        },
        color: { field: 'series', type: 'nominal', title: null, sort: series.map(([, s]) => s) },
      },
    },
    resolve: { scale: { y: kind === 'loss' ? 'independent' : 'shared' } },
  } as ChartSpec;
}

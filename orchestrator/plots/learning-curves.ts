/**
 * Learning curves: one small panel per trial, loss (train and validation) or accuracy (train top and
 * bottom, validation mean) per epoch.
 */
import type { ChartSpec } from './render.js';

export interface CurveTrial {
  /** Panel title, e.g. "t0004 cnn sgd lr=0.01 b32". */
  label: string;
  epochs: { epoch: number; metrics: Record<string, number> }[];
}

export type CurveKind = 'loss' | 'accuracy';

const SERIES: Record<CurveKind, [metric: string, name: string][]> = {
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

export function learningCurveSpec(trials: readonly CurveTrial[], kind: CurveKind, columns = 4): ChartSpec {
  const values: { trial: string; epoch: number; series: string; y: number }[] = [];
  for (const t of trials) {
    for (const e of t.epochs) {
      for (const [metric, series] of SERIES[kind]) {
        const y = e.metrics[metric];
        if (typeof y === 'number' && Number.isFinite(y))
          values.push({ trial: t.label, epoch: e.epoch, series, y });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { field: 'trial', type: 'nominal', title: null, sort: trials.map((t) => t.label) },
    columns,
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
          ...(kind === 'accuracy' ? { scale: { domain: [0, 1] } } : {}),
        },
        color: { field: 'series', type: 'nominal', title: null, sort: SERIES[kind].map(([, s]) => s) },
      },
    },
    resolve: { scale: { y: kind === 'loss' ? 'independent' : 'shared' } },
  } as ChartSpec;
}

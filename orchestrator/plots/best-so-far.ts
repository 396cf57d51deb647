/**
 * Best so far against wall time: a step line of the best objective reached by any finished trial, and a
 * point per finished trial at the time it ended (its own value), one colour per experiment.
 */
import type { ChartSpec } from './render.js';

export interface BestSoFarPlotPoint {
  experiment: string;
  trial: string;
  /** Wall-clock minutes since the experiment's first start. */
  minutes: number;
  /** The trial's own objective. */
  value: number;
  /** The best objective of the experiment's trials finished so far (this one included). */
  best: number;
}

export function bestSoFarSpec(metric: string, points: readonly BestSoFarPlotPoint[]): ChartSpec {
  const multi = new Set(points.map((p) => p.experiment)).size > 1;
  const color = multi ? { color: { field: 'experiment', type: 'nominal', title: 'experiment' } } : {};
  const x = { field: 'minutes', type: 'quantitative', title: 'wall time (minutes since the start)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 520,
    height: 260,
    title: `best ${metric} so far against wall time`,
    data: { values: points.map((p) => ({ ...p })) },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 30, opacity: 0.45, ...(multi ? {} : { color: 'gray' }) },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          ...color,
          tooltip: [{ field: 'trial' }, { field: 'minutes' }, { field: 'value' }],
        },
      },
      {
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, point: false },
        encoding: {
          x,
          y: { field: 'best', type: 'quantitative', title: metric, scale: { zero: false } },
          ...(multi ? { ...color, detail: { field: 'experiment' } } : {}),
        },
      },
    ],
  } as ChartSpec;
}

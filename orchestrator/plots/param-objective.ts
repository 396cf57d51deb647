/** One searched parameter against the objective: a point per finished trial. */
import type { ChartSpec } from './render.js';

export interface ParamPoint {
  value: string | number | boolean;
  objective: number;
  /** Colour group, e.g. the architecture (no colour legend when no point has one). */
  group?: string;
}

export function paramObjectiveSpec(
  param: string,
  metric: string,
  points: readonly ParamPoint[],
  groupTitle = 'arch',
): ChartSpec {
  const grouped = points.some((p) => p.group !== undefined && p.group !== '');
  const numeric = points.every((p) => typeof p.value === 'number');
  const distinct = new Set(points.map((p) => p.value)).size;
  const nums = points.map((p) => p.value).filter((v): v is number => typeof v === 'number');
  const logScale =
    numeric && nums.length > 0 && Math.min(...nums) > 0 && Math.max(...nums) / Math.min(...nums) >= 20;
  const x =
    numeric && distinct > 2
      ? {
          field: 'value',
          type: 'quantitative',
          title: param,
          scale: logScale ? { type: 'log' } : { zero: false },
        }
      : { field: 'value', type: 'ordinal', title: param, sort: 'ascending', axis: { labelAngle: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 260,
    height: 180,
    title: `${metric} by ${param}`,
    data: { values: points.map((p) => ({ value: p.value, objective: p.objective, group: p.group ?? '' })) },
    mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
    encoding: {
      x,
      ...((numeric && distinct > 2) || !grouped ? {} : { xOffset: { field: 'group', type: 'nominal' } }),
      y: { field: 'objective', type: 'quantitative', title: metric, scale: { zero: false } },
      ...(grouped ? { color: { field: 'group', type: 'nominal', title: groupTitle } } : {}),
      tooltip: [{ field: 'value' }, { field: 'objective' }, ...(grouped ? [{ field: 'group' }] : [])],
    },
  } as ChartSpec;
}

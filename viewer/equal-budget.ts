/**
 * Parameter importance compares trials at equal budget: with early stopping (or a varying `epochs`) the
 * finished trials ran different numbers of epochs, and a value after 1 epoch is not comparable with one
 * after 9. The budget is the largest epoch count that at least `minTrials` finished trials reached (else
 * the smallest any reached); each trial that reached it counts with its objective at that epoch.
 */
import type { ParamValue } from '../shared/protocol/index.js';

export interface FinishedTrial {
  trial_id: string;
  params: Record<string, ParamValue>;
  value: number;
  epochs: number;
}

export interface EqualBudget {
  trials: { params: Record<string, ParamValue>; value: number }[];
  /** What was compared, when the trials' budgets differed (shown with the importance). */
  note?: string;
}

/**
 * The trials at one budget. `objectiveAt(epoch)` gives each trial's objective recorded at `epoch` (by
 * trial id), read only when the budgets differ.
 */
export async function atEqualBudget(
  finished: readonly FinishedTrial[],
  minTrials: number,
  metric: string,
  objectiveAt: (epoch: number) => Promise<Map<string, number>>,
): Promise<EqualBudget> {
  const epochs = finished.map((t) => t.epochs);
  const min = Math.min(...epochs);
  const max = Math.max(...epochs);
  if (finished.length === 0 || min === max)
    return { trials: finished.map(({ params, value }) => ({ params, value })) };
  const sorted = [...epochs].sort((a, b) => b - a);
  const budget = sorted.length >= minTrials ? sorted[minTrials - 1] : min;
  const values = await objectiveAt(budget);
  const trials: EqualBudget['trials'] = [];
  for (const t of finished) {
    const v = t.epochs >= budget ? values.get(t.trial_id) : undefined;
    if (v !== undefined && Number.isFinite(v)) trials.push({ params: t.params, value: v });
  }
  return {
    trials,
    note: `compared at equal budget: ${metric} at epoch ${budget} of the ${trials.length} trials that reached it (finished trials ran ${min} to ${max} epochs)`,
  };
}

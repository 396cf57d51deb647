/**
 * The line under a leaderboard whose trials ran different numbers of epochs (early stopping, or an
 * `epochs` parameter that varies): their values are at different budgets, so the ranking mixes them.
 */
import type { TrialRecord } from '../orchestrator/store/types.js';

/** `note: ...\n`, or '' when every ranked row ran the same number of epochs. */
export function budgetNote(rows: readonly Pick<TrialRecord, 'epochs' | 'state'>[]): string {
  const epochs = rows.filter((r) => r.state !== 'failed').map((r) => r.epochs);
  if (epochs.length < 2) return '';
  const min = Math.min(...epochs);
  const max = Math.max(...epochs);
  if (min === max) return '';
  const stopped = rows.some((r) => r.state === 'stopped');
  return `note: these trials ran ${min} to ${max} epochs${stopped ? ': a stopped trial is ranked by its metric at the epoch it stopped' : ''}, so the ranking mixes budgets; compare trials with equal epochs_run\n`;
}

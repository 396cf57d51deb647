/**
 * The median stopping rule (Golovin et al., Google Vizier, KDD 2017; as Optuna's MedianPruner): after
 * the grace period, a trial is stopped at epoch t when its best objective so far is worse than the median
 * of the objectives that finished trials (completed or stopped, not failed) recorded at epoch t, once at
 * least `min_trials` of them reached t. Worse: below for maximize, above for minimize.
 */
import type { Decision } from '../../shared/protocol/index.js';
import type { MedianTerminate, Metric } from '../search-space/types.js';
import { scoreOf } from './objective.js';
import type { FinishedTrial, Scheduler, TrialSnapshot } from './scheduler.js';
import { ScoreTable } from './score-table.js';

export const DEFAULT_GRACE_EPOCHS = 1;
export const DEFAULT_MIN_TRIALS = 3;

export class MedianScheduler implements Scheduler {
  readonly name = 'median';
  readonly graceEpochs: number;
  readonly minTrials: number;
  /** Per epoch (index 0 = epoch 1): the finished trials' scores at that epoch. */
  private readonly byEpoch: ScoreTable[] = [];

  constructor(
    private readonly metric: Metric,
    config: MedianTerminate = { type: 'median' },
  ) {
    this.graceEpochs = config.grace_epochs ?? DEFAULT_GRACE_EPOCHS;
    this.minTrials = config.min_trials ?? DEFAULT_MIN_TRIALS;
  }

  decide(trial: TrialSnapshot, epoch: number): Decision {
    if (epoch <= this.graceEpochs) return 'continue';
    const table = this.byEpoch[epoch - 1];
    if (!table || table.size < this.minTrials) return 'continue';
    let best = -Infinity;
    for (let e = 0; e < epoch && e < trial.history.length; e++) {
      best = Math.max(best, scoreOf(this.metric, trial.history[e]));
    }
    return best < table.median() ? 'stop' : 'continue';
  }

  trialFinished(trial: FinishedTrial): void {
    if (trial.state === 'failed') return;
    trial.history.forEach((metrics, e) => {
      if (!metrics) return;
      this.byEpoch[e] ??= new ScoreTable();
      this.byEpoch[e].record(trial.trial_id, scoreOf(this.metric, metrics));
    });
  }
}

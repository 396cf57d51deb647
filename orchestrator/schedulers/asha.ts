/**
 * Asynchronous successive halving (ASHA; Li et al., MLSys 2020), stopping variant: a trial that reaches
 * a rung records its objective there and continues only if it is among the top max(1, floor(n / eta))
 * of the n results recorded at that rung so far (its own included; ties continue). The first results at
 * a rung therefore continue while few are known, as in Optuna's SuccessiveHalvingPruner, since a
 * running trial cannot be paused until enough others arrive. With `s` brackets (Hyperband-style), trial
 * i runs in bracket i mod s, whose first rung is min_iter * eta^b; each bracket ranks only its own trials.
 * A trial without a finite objective at a rung stops. At max_iter every trial stops. Rungs and brackets:
 * rungs.ts.
 */
import type { Decision } from '../../shared/protocol/index.js';
import { unitHash } from '../../shared/prng.js';
import type { HyperbandTerminate, Metric } from '../search-space/types.js';
import { scoreOf } from './objective.js';
import {
  bracketOf,
  bracketRungs,
  type HyperbandSettings,
  hyperbandSettings,
} from '../search-space/hyperband.js';
import type { FinishedTrial, Scheduler, TrialSnapshot } from './scheduler.js';
import { ScoreTable } from './score-table.js';

export class AshaScheduler implements Scheduler {
  readonly name = 'asha';
  readonly settings: HyperbandSettings;
  /** Per bracket: rung epoch → its position, and one score table per rung. */
  private readonly rungIndex: Map<number, number>[] = [];
  private readonly tables: ScoreTable[][] = [];

  constructor(
    private readonly metric: Metric,
    config: HyperbandTerminate,
  ) {
    this.settings = hyperbandSettings(config);
    for (let b = 0; b < this.settings.brackets; b++) {
      const rungs = bracketRungs(this.settings, b);
      this.rungIndex.push(new Map(rungs.map((r, k) => [r, k])));
      this.tables.push(rungs.map(() => new ScoreTable()));
    }
  }

  /** The rung epochs of a bracket. */
  rungs(bracket: number): number[] {
    return [...this.rungIndex[bracket].keys()];
  }

  /** How many results a rung of a bracket holds. */
  recorded(bracket: number, rung: number): number {
    const k = this.rungIndex[bracket].get(rung);
    return k === undefined ? 0 : this.tables[bracket][k].size;
  }

  bracketOf(trial: Pick<TrialSnapshot, 'trial_id' | 'index'>): number {
    // Without an index (a snapshot from elsewhere), a hash of the id spreads trials over the brackets.
    const index = trial.index ?? Math.floor(unitHash(trial.trial_id) * this.settings.brackets);
    return bracketOf(this.settings, index);
  }

  decide(trial: TrialSnapshot, epoch: number): Decision {
    if (epoch >= this.settings.maxIter) return 'stop';
    const bracket = this.bracketOf(trial);
    const k = this.rungIndex[bracket].get(epoch);
    if (k === undefined) return 'continue';
    const table = this.tables[bracket][k];
    const score = scoreOf(this.metric, trial.history[epoch - 1]);
    table.record(trial.trial_id, score);
    if (score === -Infinity) return 'stop'; // no finite objective: diverged or not reported
    const promoted = Math.max(1, Math.floor(table.size / this.settings.eta));
    return score >= table.kthBest(promoted) ? 'continue' : 'stop';
  }

  trialFinished(trial: FinishedTrial): void {
    const bracket = this.bracketOf(trial);
    for (const [rung, k] of this.rungIndex[bracket]) {
      const metrics = trial.history[rung - 1];
      if (metrics) this.tables[bracket][k].record(trial.trial_id, scoreOf(this.metric, metrics));
    }
  }
}

/**
 * The rung arithmetic of `early_terminate: {type: hyperband}` (ASHA), shared by the scheduler, the parser's
 * checks and the leaderboard (which derives the rung a trial reached from its recorded epochs).
 *
 * Bracket b (0 <= b < s) has rungs at round(min_iter * eta^(b + k)) epochs, k = 0, 1, ..., strictly below
 * max_iter when max_iter is set (a trial stops at max_iter anyway). Trial number i runs in bracket i mod s.
 * Without min_iter, min_iter = max(1, floor(max_iter / eta^k)) for the largest k that leaves it >= 1.
 */
import type { HyperbandTerminate, SearchSpace } from './types.js';

export const DEFAULT_ETA = 3;
/** Rungs are listed up to this many epochs when max_iter is not set. */
const RUNG_LIMIT = 1_000_000;

export interface HyperbandSettings {
  minIter: number;
  /** Infinity when not set. */
  maxIter: number;
  eta: number;
  brackets: number;
}

export function hyperbandSettings(et: HyperbandTerminate): HyperbandSettings {
  const eta = et.eta ?? DEFAULT_ETA;
  const maxIter = et.max_iter ?? Infinity;
  let minIter = et.min_iter;
  if (minIter === undefined) {
    minIter = maxIter;
    while (minIter / eta >= 1) minIter /= eta;
    minIter = Math.max(1, Math.floor(minIter));
  }
  return { minIter, maxIter, eta, brackets: et.s ?? 1 };
}

/** The rung epochs of one bracket, ascending, without duplicates. */
export function bracketRungs(settings: HyperbandSettings, bracket: number): number[] {
  const { minIter, maxIter, eta } = settings;
  const limit = Math.min(maxIter, RUNG_LIMIT);
  const rungs: number[] = [];
  for (let k = bracket; ; k++) {
    const r = Math.round(minIter * eta ** k);
    if (r >= limit) break;
    if (rungs[rungs.length - 1] !== r) rungs.push(r);
  }
  return rungs;
}

/** The bracket of trial number `index` (its proposal order). */
export function bracketOf(settings: HyperbandSettings, index: number): number {
  return index % settings.brackets;
}

/**
 * The highest rung (in epochs) a trial of bracket `bracket` reached with `epochs` epochs recorded, or
 * null when it reached none. A trial that ran to max_iter reports max_iter.
 */
export function rungReached(settings: HyperbandSettings, bracket: number, epochs: number): number | null {
  if (epochs >= settings.maxIter) return settings.maxIter;
  let reached: number | null = null;
  for (const r of bracketRungs(settings, bracket)) {
    if (r > epochs) break;
    reached = r;
  }
  return reached;
}

/**
 * The rung a trial of the space reached, derived from its recorded epochs and the space's early_terminate
 * (null without hyperband, or below the first rung).
 */
export function trialRung(
  space: Pick<SearchSpace, 'early_terminate'>,
  trial: { index: number; epochs: number },
): number | null {
  const et = space.early_terminate;
  if (et?.type !== 'hyperband') return null;
  const settings = hyperbandSettings(et);
  return rungReached(settings, bracketOf(settings, trial.index), trial.epochs);
}

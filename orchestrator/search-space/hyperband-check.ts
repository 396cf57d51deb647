/**
 * The parser's checks of `early_terminate: {type: hyperband}` beyond the schema, and the warning when
 * hpo's bracket layout (ASHA, `s` brackets) differs from the epochs at which W&B would stop runs.
 */
import { bracketRungs, hyperbandSettings } from './hyperband.js';
import type { PathSegment } from './task-catalog.js';
import type { HyperbandTerminate } from './types.js';

type Report = (path: readonly PathSegment[], message: string) => void;

/**
 * Errors: neither min_iter nor max_iter, min_iter > max_iter, a bracket without a rung below max_iter,
 * trials' epochs below max_iter (or, without it, the first rung).
 */
export function checkHyperband(et: HyperbandTerminate, maxEpochs: number | undefined, report: Report): void {
  const { min_iter: minIter, max_iter: maxIter } = et;
  if (minIter === undefined && maxIter === undefined) {
    report(['early_terminate'], 'expected min_iter or max_iter');
    return;
  }
  if (minIter !== undefined && maxIter !== undefined && minIter > maxIter) {
    report(['early_terminate', 'min_iter'], `expected an integer <= max_iter (${maxIter}), got ${minIter}`);
    return;
  }
  const settings = hyperbandSettings(et);
  if (settings.brackets > 1 && bracketRungs(settings, settings.brackets - 1).length === 0) {
    report(
      ['early_terminate', 's'],
      `expected brackets that each have a rung below max_iter (${maxIter}): min_iter * eta^(s-1) < max_iter, got ${settings.brackets}`,
    );
  }
  if (maxEpochs === undefined) return;
  if (maxIter !== undefined && maxEpochs < maxIter) {
    report(
      ['early_terminate', 'max_iter'],
      `expected at most the trials' epochs (parameters.epochs, up to ${maxEpochs}), got ${maxIter}`,
    );
  } else if (maxIter === undefined && maxEpochs < settings.minIter) {
    report(
      ['early_terminate', 'min_iter'],
      `expected at most the trials' epochs (parameters.epochs, up to ${maxEpochs}), got ${settings.minIter}`,
    );
  }
}

/** The epochs at which W&B's hyperband would check runs (its "brackets"), ascending, up to `limit`. */
export function wandbMilestones(et: HyperbandTerminate, limit: number): number[] {
  const eta = et.eta ?? 3;
  const out = new Set<number>();
  if (et.max_iter !== undefined) {
    const s = et.s ?? 0;
    for (let k = 1; k <= s; k++) {
      const r = Math.round(et.max_iter / eta ** k);
      if (r >= 1) out.add(r);
    }
  } else if (et.min_iter !== undefined) {
    for (let r = et.min_iter; r < limit && out.size < 64; r = Math.round(r * eta)) out.add(r);
  }
  return [...out].filter((r) => r < limit).sort((a, b) => a - b);
}

/** Warnings where hpo's hyperband differs from W&B's for this file (strict, bracket layout). */
export function hyperbandWarnings(et: HyperbandTerminate, maxEpochs: number | undefined, warn: Report): void {
  if (et.strict !== undefined) {
    warn(['early_terminate', 'strict'], "ignored: hpo's ASHA has no strict mode (see Differences from W&B)");
  }
  if (et.min_iter === undefined && et.max_iter === undefined) return;
  const settings = hyperbandSettings(et);
  const limit = Math.min(settings.maxIter, maxEpochs ?? Infinity, 1_000_000);
  const ours = bracketRungs(settings, 0).filter((r) => r < limit);
  const theirs = wandbMilestones(et, limit);
  const same = ours.length === theirs.length && ours.every((r, i) => r === theirs[i]);
  if (same && settings.brackets === 1) return;
  const list = (xs: number[]) => (xs.length === 0 ? 'none' : xs.join(', '));
  const brackets =
    settings.brackets > 1
      ? `${settings.brackets} brackets (trial i in bracket i mod ${settings.brackets}; bracket 0 rungs at epochs ${list(ours)})`
      : `rungs at epochs ${list(ours)}`;
  warn(
    ['early_terminate'],
    `hpo's hyperband (ASHA) differs from W&B's here: W&B would check runs at epochs ${list(theirs)}; hpo uses ${brackets}`,
  );
}

/**
 * The parser's checks of `early_terminate` (for hyperband, beyond the schema, against the trials' epochs),
 * and the warning when hpo's bracket layout (ASHA, `s` brackets) differs from the epochs at which W&B
 * would stop runs.
 */
import { bracketRungs, hyperbandSettings } from './hyperband.js';
import type { PathSegment } from './task-catalog.js';
import { type NumberRange, numberRange } from './number-range.js';
import type { EarlyTerminate, HyperbandTerminate, ParamSpec } from './types.js';

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

/** `4`, or `3 to 9` */
function showRange(r: NumberRange): string {
  return r.min === r.max ? `${r.min}` : `${r.min} to ${r.max}`;
}

/**
 * What max_iter does to trials with more epochs (they are stopped there), and a layout whose rungs all
 * lie at or after the trials' last epoch (hyperband then never stops a trial early), in plain words.
 */
export function hyperbandBudgetWarnings(
  et: HyperbandTerminate,
  epochs: NumberRange | undefined,
  warn: Report,
): void {
  if (epochs === undefined || (et.min_iter === undefined && et.max_iter === undefined)) return;
  const settings = hyperbandSettings(et);
  const cap = settings.maxIter;
  if (epochs.max > cap) {
    warn(
      ['early_terminate', 'max_iter'],
      epochs.min > cap
        ? `every trial is stopped at epoch ${cap} (max_iter) although it asks for ${showRange(epochs)} epochs: none completes, and the leaderboard ranks models trained ${cap} epochs; set max_iter to ${epochs.max} (or epochs to ${cap}) to let trials finish`
        : `trials with more than ${cap} epochs are stopped at epoch ${cap} (max_iter) and never complete; only those with at most ${cap} epochs can`,
    );
    return;
  }
  const firsts = Array.from(
    { length: settings.brackets },
    (_, b) => bracketRungs(settings, b)[0] ?? Infinity,
  );
  const idle = firsts.flatMap((r, b) => (r >= epochs.max ? [b] : []));
  const first = Math.min(...firsts);
  if (idle.length === firsts.length) {
    warn(
      ['early_terminate'],
      `no rung lies before the trials' last epoch (epochs ${showRange(epochs)}${first === Infinity ? '' : `, first rung ${first}`}): hyperband never stops a trial early here`,
    );
  } else if (idle.length > 0) {
    warn(
      ['early_terminate', 's'],
      `bracket${idle.length > 1 ? 's' : ''} ${idle.join(', ')} of ${settings.brackets} ha${idle.length > 1 ? 've' : 's'} no rung before the trials' last epoch (epochs ${showRange(epochs)}): ${idle.length} in ${settings.brackets} trials (trial i runs in bracket i mod ${settings.brackets}) are never stopped early`,
    );
  }
}

/** Warnings where hpo's hyperband differs from W&B's for this file (strict, bracket layout), and its budget. */
export function hyperbandWarnings(
  et: HyperbandTerminate,
  epochs: NumberRange | undefined,
  warn: Report,
): void {
  if (et.strict !== undefined) {
    warn(['early_terminate', 'strict'], "ignored: hpo's ASHA has no strict mode (see Differences from W&B)");
  }
  if (et.min_iter === undefined && et.max_iter === undefined) return;
  hyperbandBudgetWarnings(et, epochs, warn);
  const settings = hyperbandSettings(et);
  const limit = Math.min(settings.maxIter, epochs?.max ?? Infinity, 1_000_000);
  const ours = bracketRungs(settings, 0).filter((r) => r < limit);
  const theirs = wandbMilestones(et, limit);
  const same = ours.length === theirs.length && ours.every((r, i) => r === theirs[i]);
  if (same && settings.brackets === 1) return;
  const list = (xs: number[]) => (xs.length === 0 ? 'none' : xs.join(', '));
  const brackets =
    settings.brackets > 1
      ? `${settings.brackets} brackets (trial i in bracket i mod ${settings.brackets}; bracket 0 rungs at epochs ${list(ours)})`
      : `rungs at epochs ${list(ours)}`;
  const wandb =
    theirs.length > 0
      ? `W&B would check runs at epochs ${list(theirs)}`
      : et.max_iter !== undefined && et.min_iter === undefined && et.s === undefined
        ? 'W&B needs s with max_iter (its schema refuses the file without it)'
        : `W&B would check no run before epoch ${limit}`;
  warn(['early_terminate'], `hpo's hyperband (ASHA) differs from W&B's here: ${wandb}; hpo uses ${brackets}`);
}

/**
 * The range of the trials' epochs: from the `epochs` parameter, else the task's default (undefined when
 * unknown, or when the parameter is malformed: null).
 */
export function trialEpochs(
  spec: ParamSpec | null | undefined,
  taskDefault: unknown,
): NumberRange | undefined {
  if (spec === null) return undefined;
  if (spec !== undefined) return numberRange(spec);
  return typeof taskDefault === 'number' ? { min: taskDefault, max: taskDefault } : undefined;
}

/** A sound `early_terminate` (copied); for hyperband, its errors and warnings against the trials' epochs. */
export function checkEarlyTerminate(
  raw: EarlyTerminate,
  epochs: NumberRange | undefined,
  report: Report,
  warn: Report,
): EarlyTerminate {
  const earlyTerminate = { ...raw };
  if (earlyTerminate.type === 'hyperband') {
    checkHyperband(earlyTerminate, epochs?.max, report);
    hyperbandWarnings(earlyTerminate, epochs, warn);
  }
  return earlyTerminate;
}

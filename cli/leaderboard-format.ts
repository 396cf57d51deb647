/** Renders leaderboard rows as a table, JSON, CSV or Markdown. */
import { stringify } from 'csv-stringify/sync';
import type { TrialParams } from '../shared/protocol/index.js';
import { trialRung } from '../orchestrator/search-space/hyperband.js';
import type { ParamSpecs } from '../orchestrator/search-space/types.js';
import type { ExperimentRecord, TrialRecord } from '../orchestrator/store/types.js';
import { plainTable } from './plain-table.js';
import { budgetNote } from './leaderboard-budget.js';
import { displayNumber, exactNumber } from '../shared/number-format.js';

export const LEADERBOARD_FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
export type LeaderboardFormat = (typeof LEADERBOARD_FORMATS)[number];

/** The JSON form of one row. */
export interface LeaderboardEntry {
  rank: number;
  trial_id: string;
  params: TrialParams;
  state: string;
  value: number | null;
  metrics: Record<string, number> | null;
  epochs: number;
  /** With hyperband: the highest rung (epochs) the trial reached, null below the first. */
  rung?: number | null;
  worker: string | null;
}

export function leaderboardEntries(
  rows: TrialRecord[],
  exp?: Pick<ExperimentRecord, 'space'>,
): LeaderboardEntry[] {
  const hyperband = exp?.space.early_terminate?.type === 'hyperband';
  return rows.map((t, i) => ({
    rank: i + 1,
    trial_id: t.trial_id,
    params: t.params,
    state: t.state,
    value: t.value,
    metrics: t.metrics,
    epochs: t.epochs,
    ...(hyperband ? { rung: trialRung(exp!.space, t) } : {}),
    worker: t.worker,
  }));
}

/** How a format writes numbers: CSV exactly (round-trips), tables rounded for display (>= 6 digits). */
type NumberText = (x: number) => string;

/** A cell: empty when absent (e.g. a parameter inactive in the trial's branch); lists and mappings as JSON. */
const cellOf = (v: TrialParams[string] | undefined, show: NumberText) =>
  v === undefined || v === null
    ? ''
    : typeof v === 'number'
      ? show(v)
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
/** The searched parameters: every non-constant one, and every one that exists only in some branches. */
function searchedParams(parameters: ParamSpecs, inBranch = false, out = new Set<string>()): Set<string> {
  for (const [name, spec] of Object.entries(parameters)) {
    if (inBranch || spec.kind !== 'constant') out.add(name);
    if (spec.kind === 'categorical') for (const b of spec.branches ?? []) if (b) searchedParams(b, true, out);
  }
  return out;
}

/**
 * Columns: rank, trial, state, the metric, each searched (non-constant) parameter, epochs run, the rung
 * reached (with hyperband early termination), test accuracy (when the task reports it, for every trial
 * that has it: completed or stopped), worker. CSV and JSON keep every number at full precision; the table and Markdown round for
 * display only, to 6 significant digits.
 */
function columns(
  exp: Pick<ExperimentRecord, 'space'>,
  rows: TrialRecord[],
  show: NumberText,
): { head: string[]; cells: string[][] } {
  const params = [...searchedParams(exp.space.parameters)];
  const metric = exp.space.metric.name;
  const hyperband = exp.space.early_terminate?.type === 'hyperband';
  const testAcc = rows.some((r) => typeof r.metrics?.test_acc === 'number');
  const head = [
    'rank',
    'trial',
    'state',
    metric,
    ...params,
    'epochs_run',
    ...(hyperband ? ['rung'] : []),
    ...(testAcc ? ['test_acc'] : []),
    'worker',
  ];
  const cells = rows.map((r, i) => [
    String(i + 1),
    r.trial_id,
    r.state,
    cellOf(r.value, show),
    ...params.map((p) => cellOf(r.params[p], show)),
    String(r.epochs),
    ...(hyperband ? [String(trialRung(exp.space, r) ?? '-')] : []),
    // Test accuracy is shown whenever the trial reported it (a stopped trial too, as in JSON); never ranks.
    ...(testAcc ? [cellOf(r.metrics?.test_acc, show)] : []),
    r.worker ?? '',
  ]);
  return { head, cells };
}

export function renderLeaderboard(
  exp: Pick<ExperimentRecord, 'space'>,
  rows: TrialRecord[],
  format: LeaderboardFormat,
): string {
  if (format === 'json') return `${JSON.stringify(leaderboardEntries(rows, exp), null, 2)}\n`;
  const { head, cells } = columns(exp, rows, format === 'csv' ? exactNumber : (x) => displayNumber(x));
  switch (format) {
    case 'csv':
      return stringify([head, ...cells]);
    case 'markdown': {
      const line = (c: string[]) => `| ${c.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`;
      const note = budgetNote(rows); // after a blank line: a line right under a table is one of its rows
      return `${[line(head), line(head.map(() => '---')), ...cells.map(line)].join('\n')}\n${note && `\n${note}`}`;
    }
    case 'table': {
      const table = plainTable(head);
      table.push(...cells);
      return `${table.toString()}\n${budgetNote(rows)}`;
    }
  }
}

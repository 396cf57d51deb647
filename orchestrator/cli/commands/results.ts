/** `hpo leaderboard`, `hpo experiments`, `hpo status`: read the store; safe while a search runs. */
import type { Command } from 'commander';
import { UsageError } from '../../../worker/errors.js';
import type { ExperimentRecord, Store, TrialRecord } from '../../store/index.js';
import { LEADERBOARD_FORMATS, type LeaderboardFormat, renderLeaderboard } from '../leaderboard-format.js';
import { oneOf, positiveInt } from '../parse.js';
import { addDbOption, withStore } from '../store-options.js';
import { plainTable } from '../table.js';

/** The named experiment, or the most recently created one when no name is given. */
function pickExperiment(store: Store, name: string | undefined, db: string): ExperimentRecord {
  if (name !== undefined) {
    const exp = store.getExperiment(name);
    if (!exp) throw new UsageError(`no experiment '${name}' in ${db} (see hpo experiments --db ${db})`);
    return exp;
  }
  const all = store.listExperiments();
  if (all.length === 0) throw new UsageError(`no experiments in ${db} yet (start one with hpo search FILE)`);
  return all.reduce((a, b) => (b.created_at > a.created_at ? b : a));
}

export interface ExperimentSummary {
  name: string;
  status: string;
  method: string;
  task: string;
  metric: string;
  goal: string;
  trials: Record<string, number>;
  best: { trial_id: string; value: number | null; params: TrialRecord['params'] } | null;
  created_at: string;
  updated_at: string;
}

export function summarize(store: Store, exp: ExperimentRecord): ExperimentSummary {
  const trials = store.listTrials(exp.name);
  const counts: Record<string, number> = {
    total: trials.length,
    pending: 0,
    running: 0,
    completed: 0,
    stopped: 0,
    failed: 0,
  };
  for (const t of trials) counts[t.state]++;
  const [best] = store.leaderboard(exp.name, { top: 1 });
  return {
    name: exp.name,
    status: exp.status,
    method: exp.space.method,
    task: exp.space.task,
    metric: exp.space.metric.name,
    goal: exp.space.metric.goal,
    trials: counts,
    best: best ? { trial_id: best.trial_id, value: best.value, params: best.params } : null,
    created_at: new Date(exp.created_at).toISOString(),
    updated_at: new Date(exp.updated_at).toISOString(),
  };
}

export function registerResults(program: Command): void {
  addDbOption(
    program
      .command('leaderboard')
      .description(
        'best trials of an experiment, ranked by its metric on validation (test accuracy never ranks)',
      )
      .argument('[name]', 'experiment (default: the latest)')
      .option('--top <n>', 'rows to show', positiveInt, 10)
      .option(
        '--format <f>',
        `output (${LEADERBOARD_FORMATS.join(', ')})`,
        oneOf(LEADERBOARD_FORMATS),
        'table' as LeaderboardFormat,
      ),
  ).action((name: string | undefined, flags: { db: string; top: number; format: LeaderboardFormat }) =>
    withStore(flags.db, (store) => {
      const exp = pickExperiment(store, name, flags.db);
      const rows = store.leaderboard(exp.name, { top: flags.top });
      if (flags.format === 'table')
        process.stdout.write(`${exp.name} (${exp.space.metric.goal} ${exp.space.metric.name})\n`);
      process.stdout.write(renderLeaderboard(exp, rows, flags.format));
    }),
  );

  addDbOption(
    program
      .command('experiments')
      .description('list the experiments in the database')
      .option('--json', 'print JSON'),
  ).action((flags: { db: string; json?: boolean }) =>
    withStore(flags.db, (store) => {
      const rows = store.listExperiments().map((e) => summarize(store, e));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = plainTable([
        'name',
        'status',
        'method',
        'task',
        'done/total',
        'failed',
        'best',
        'created',
      ]);
      for (const r of rows) {
        const done = r.trials.completed + r.trials.stopped + r.trials.failed;
        table.push([
          r.name,
          r.status,
          r.method,
          r.task,
          `${done}/${r.trials.total}`,
          String(r.trials.failed),
          r.best?.value?.toFixed(4) ?? '-',
          r.created_at,
        ]);
      }
      process.stdout.write(`${table.toString()}\n`);
    }),
  );

  addDbOption(
    program
      .command('status')
      .description('state of an experiment: trials by state, running trials, best so far')
      .argument('[name]', 'experiment (default: the latest)')
      .option('--json', 'print JSON'),
  ).action((name: string | undefined, flags: { db: string; json?: boolean }) =>
    withStore(flags.db, (store) => {
      const exp = pickExperiment(store, name, flags.db);
      const summary = summarize(store, exp);
      const running = store.listTrials(exp.name).filter((t) => t.state === 'running');
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ ...summary, running: running.map((t) => ({ trial_id: t.trial_id, params: t.params, epochs: t.epochs, attempt: t.attempt })) }, null, 2)}\n`,
        );
        return;
      }
      const c = summary.trials;
      process.stdout.write(
        `${summary.name}: ${summary.status} (${summary.method}, task ${summary.task}, ${summary.goal} ${summary.metric})\n` +
          `trials: ${c.total} total, ${c.completed} completed, ${c.stopped} stopped, ${c.failed} failed, ${c.running} running, ${c.pending} pending\n` +
          `best: ${summary.best ? `${summary.best.trial_id} ${summary.best.value?.toFixed(4)} ${JSON.stringify(summary.best.params)}` : '-'}\n`,
      );
      for (const t of running)
        process.stdout.write(
          `running: ${t.trial_id} epoch ${t.epochs} attempt ${t.attempt} ${JSON.stringify(t.params)}\n`,
        );
    }),
  );
}

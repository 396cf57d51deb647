/**
 * `hpo leaderboard`, `hpo experiments`, `hpo status`: read the local database (safe while a search
 * runs), or with --nats ask the orchestrator running the experiment, from any machine.
 */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { connectNats } from '../../worker/nats/index.js';
import {
  type LeaderboardAnswer,
  leaderboardAnswer,
  queryOrchestrator,
  type StatusAnswer,
  statusAnswer,
  summarize,
} from '../../orchestrator/api/index.js';
import type { ExperimentRecord, StoreReader } from '../../orchestrator/store/index.js';
import { LEADERBOARD_FORMATS, type LeaderboardFormat, renderLeaderboard } from '../leaderboard-format.js';
import { addNatsOptions, type NatsFlags, natsSettings } from '../options/nats-options.js';
import { oneOf, positiveInt } from '../options/option-values.js';
import { jsonOption } from '../options/output-options.js';
import { addDbOption, withExistingStore } from '../options/store-options.js';
import { plainTable } from '../plain-table.js';
import { displayNumber } from '../../shared/number-format.js';
import { formatDuration } from '../../orchestrator/search-space/duration.js';

/** The named experiment, or the most recently created one when no name is given. */
async function pickExperiment(
  store: StoreReader,
  name: string | undefined,
  db: string,
): Promise<ExperimentRecord> {
  if (name !== undefined) {
    const exp = await store.getExperiment(name);
    if (!exp) throw new UsageError(`no experiment '${name}' in ${db} (see hpo experiments --db ${db})`);
    return exp;
  }
  const all = await store.listExperiments();
  if (all.length === 0) throw new UsageError(`no experiments in ${db} yet (start one with hpo search FILE)`);
  return all.reduce((a, b) => (b.created_at > a.created_at ? b : a));
}

/** Answers from the orchestrator on the bus when --nats is given, else from the local database. */
async function ask<T>(
  name: string | undefined,
  flags: NatsFlags & { db: string },
  query: object,
  local: (store: StoreReader, exp: ExperimentRecord) => Promise<T> | T,
): Promise<T> {
  const settings = natsSettings(flags);
  if (!settings)
    return withExistingStore(flags.db, async (store) =>
      local(store, await pickExperiment(store, name, flags.db)),
    );
  if (name === undefined) throw new UsageError('with --nats, name the experiment');
  const nc = await connectNats({ ...settings, name: 'hpo query' });
  try {
    const answer = (await queryOrchestrator(nc, name, query)) as T & { error?: string };
    if (answer.error) throw new UsageError(answer.error);
    return answer;
  } finally {
    await nc.close();
  }
}

function printStatus(s: StatusAnswer): void {
  const c = s.trials;
  const status = s.orphaned_since
    ? `${s.status}, orphaned since ${s.orphaned_since}` +
      (s.owner
        ? ` (driver pid ${s.owner.pid} on ${s.owner.host} stopped; hpo resume ${s.name} continues it)`
        : '')
    : s.status;
  process.stdout.write(
    `${s.name}: ${status} (${s.method}, task ${s.task}, ${s.goal} ${s.metric})\n` +
      `trials: ${c.total} total, ${c.completed} completed, ${c.stopped} stopped, ${c.failed} failed, ${c.running} running, ${c.queued} queued, ${c.pending} pending\n` +
      `best: ${s.best ? `${s.best.trial_id} ${s.best.value === null ? '-' : displayNumber(s.best.value)} ${JSON.stringify(s.best.params)}` : '-'}\n`,
  );
  if (s.time_budget) {
    const b = s.time_budget;
    const left =
      b.left_seconds === null
        ? ''
        : b.left_seconds > 0
          ? `, ${formatDuration(b.left_seconds)} left`
          : ', spent';
    process.stdout.write(
      `time budget: ${formatDuration(b.seconds)}${b.hard ? ' (hard)' : ''}, ends ${b.ends_at}${left}\n`,
    );
  }
  if (s.stopped_at?.length) {
    const where = s.stopped_at.map((g) =>
      g.rung === null
        ? `${g.trials} at epoch ${g.epochs}`
        : `${g.trials} at rung ${g.rung} (epoch ${g.epochs})`,
    );
    process.stdout.write(`stopped early: ${where.join(', ')}\n`);
  }
  for (const t of s.running) {
    process.stdout.write(
      `running: ${t.trial_id} epoch ${t.epochs} attempt ${t.attempt} ${t.worker ?? ''} ${JSON.stringify(t.params)}\n`,
    );
  }
}

/** `hpo leaderboard [name]`: the best trials, from the database or the orchestrator on the bus. */
function leaderboardCommand(program: Command): void {
  addNatsOptions(
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
    ),
  ).action(
    async (
      name: string | undefined,
      flags: NatsFlags & { db: string; top: number; format: LeaderboardFormat },
    ) => {
      const answer: LeaderboardAnswer = await ask(
        name,
        flags,
        { kind: 'leaderboard', top: flags.top },
        async (store, exp) => await leaderboardAnswer(store, exp, flags.top),
      );
      const exp = answer.experiment;
      if (flags.format === 'table')
        process.stdout.write(`${exp.name} (${exp.space.metric.goal} ${exp.space.metric.name})\n`);
      process.stdout.write(renderLeaderboard(exp, answer.rows, flags.format));
    },
  );
}

/** `hpo experiments`: every experiment in the database, one line each. */
function experimentsCommand(program: Command): void {
  addDbOption(
    program
      .command('experiments')
      .description('list the experiments in the database')
      .addOption(jsonOption()),
  ).action((flags: { db: string; json?: boolean }) =>
    withExistingStore(flags.db, async (store) => {
      const rows = await Promise.all((await store.listExperiments()).map((e) => summarize(store, e)));
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
          r.orphaned_since ? `${r.status} (orphaned)` : r.status,
          r.method,
          r.task,
          `${done}/${r.trials.total}`,
          String(r.trials.failed),
          r.best?.value == null ? '-' : displayNumber(r.best.value),
          r.created_at,
        ]);
      }
      process.stdout.write(`${table.toString()}\n`);
    }),
  );
}

/** `hpo status [name]`: trials by state, running trials, best so far. */
function statusCommand(program: Command): void {
  addNatsOptions(
    addDbOption(
      program
        .command('status')
        .description('state of an experiment: trials by state, running trials, best so far')
        .argument('[name]', 'experiment (default: the latest)')
        .addOption(jsonOption()),
    ),
  ).action(async (name: string | undefined, flags: NatsFlags & { db: string; json?: boolean }) => {
    const answer: StatusAnswer = await ask(name, flags, { kind: 'status' }, statusAnswer);
    if (flags.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    else printStatus(answer);
  });
}

export function registerResults(program: Command): void {
  leaderboardCommand(program);
  experimentsCommand(program);
  statusCommand(program);
}

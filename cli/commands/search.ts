/** `hpo search FILE` and `hpo resume NAME`: run an experiment on this machine (embedded default). */
import { basename, extname } from 'node:path';
import { type Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import type { SearchOutcome } from '../../orchestrator/core/index.js';
import { formatDuration, type SearchSpace } from '../../orchestrator/search-space/index.js';
import {
  type ExperimentRecord,
  LEASE_STALE_MS,
  type Store,
  type TrialRecord,
} from '../../orchestrator/store/index.js';
import { composeRun } from '../compose-run.js';
import { addMaxGridOption, loadForRun, printWarnings, summary } from './validate.js';
import { checkCommandForWorkers, offersForSpace, requireRunnable } from '../user-tasks.js';
import { addRunWithOptions, type RunWithFlags } from '../options/run-with-options.js';
import { type HeldLease, holdLease } from '../owner.js';
import { natsSettings } from '../options/nats-options.js';
import { renderLeaderboard } from '../leaderboard-format.js';
import { nonNegativeInt } from '../options/option-values.js';
import { seedOption } from '../options/seed-option.js';
import { requireDatabase, withStore } from '../options/store-options.js';
import { type RunFlags, addRunOptions, DRY_RUN_PROPOSALS } from './run-options.js';
import { dryRunProposals, resumeWarnings } from './search-preview.js';
import { lingerDashboard, uiLingerSeconds } from './linger.js';
import { lingerThenClose, openSearchSite, type SearchSite } from './search-site.js';

/** Runs the experiment while holding its owner lease (refused, exit 2, if another process drives it). */
async function driveExperiment(store: Store, name: string, flags: RunFlags): Promise<number> {
  const lease = await holdLease(store, name, flags, flags.ownerTimeout ?? LEASE_STALE_MS);
  try {
    return await runExperiment(store, name, flags, lease);
  } finally {
    await lease.release();
  }
}

/** The run's time budget: --time-budget, else the file's run_time_budget; --time-budget-hard needs one. */
function runTimeBudget(flags: RunFlags, space: SearchSpace): { seconds: number; hard: boolean } | undefined {
  const seconds = flags.timeBudget ?? space.run_time_budget;
  if (seconds === undefined && flags.timeBudgetHard) {
    throw new UsageError(
      '--time-budget-hard needs a time budget (--time-budget or run_time_budget in the file)',
    );
  }
  return seconds === undefined ? undefined : { seconds, hard: flags.timeBudgetHard === true };
}

async function runExperiment(store: Store, name: string, flags: RunFlags, lease: HeldLease): Promise<number> {
  const exp = (await store.getExperiment(name))!;
  const timeBudget = runTimeBudget(flags, exp.space);
  const bus = natsSettings(flags) !== undefined;
  // User code first: a changed module or a command that cannot start fails before anything opens.
  const tasks = offersForSpace(exp.space, { bus });
  if (bus) checkCommandForWorkers(exp.space);
  const controller = new AbortController();
  const { outcome, site } = await composeRun({
    store,
    experiment: name,
    space: exp.space,
    dataDir: flags.dataDir,
    backendChoice: flags.backend,
    timeBudget,
    signal: controller.signal,
    // Local results cannot be replayed: a failed write stops the run. On NATS the event stays unacked.
    onStoreFailure: bus ? 'retry' : 'interrupt',
    open: () => openSearchSite({ store, exp, flags, lease, tasks, controller }),
  });
  printOutcome(exp, await store.leaderboard(name, { top: 10 }), outcome, flags, timeBudget);
  await lingerAfter(site, outcome, flags);
  if (outcome.status === 'interrupted') {
    process.stderr.write(`hpo: resume with: hpo resume ${name} --db ${flags.db}\n`);
    return 130;
  }
  return 0;
}

/** The outcome and leaderboard on stdout: JSON with --json, else a line and a table. */
function printOutcome(
  exp: ExperimentRecord,
  board: TrialRecord[],
  outcome: SearchOutcome,
  flags: RunFlags,
  timeBudget: { seconds: number } | undefined,
): void {
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...outcome, leaderboard: JSON.parse(renderLeaderboard(exp, board, 'json')) }, null, 2)}\n`,
    );
    return;
  }
  const p = outcome.progress;
  const why =
    outcome.reason === 'target'
      ? ` (metric.target ${exp.space.metric.target} reached)`
      : outcome.reason === 'time_budget'
        ? ` (time budget of ${formatDuration(timeBudget?.seconds ?? 0)} spent${outcome.status === 'interrupted' ? ': running trials cancelled' : ''})`
        : '';
  process.stdout.write(
    `\n${exp.name}: ${outcome.status}${why}; ${p.completed} completed, ${p.stopped} stopped, ${p.failed} failed\n`,
  );
  if (board.length > 0) process.stdout.write(renderLeaderboard(exp, board, 'table'));
}

/** /metrics and the dashboard linger at once (one Ctrl-C ends both); nothing lingers after a Ctrl-C during the search. */
async function lingerAfter(site: SearchSite, outcome: SearchOutcome, flags: RunFlags): Promise<void> {
  const { metrics, ui, observer } = site;
  const interrupted = outcome.reason === 'interrupted';
  await Promise.all([
    metrics
      ? lingerThenClose(metrics, outcome.status === 'completed' ? flags.metricsLinger : 0, observer)
      : undefined,
    ui ? lingerDashboard(ui, interrupted ? 0 : uiLingerSeconds(flags.uiLinger), site.pageUrl) : undefined,
  ]);
  if (ui)
    process.stderr.write(`hpo: dashboard closed; browse the results with: hpo dashboard --db ${flags.db}\n`);
}

function defaultName(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${basename(file, extname(file))}-${stamp}`;
}

type SearchFlags = RunFlags &
  RunWithFlags & {
    name?: string;
    seed?: number;
    maxGrid: number;
    dryRun?: number | true;
    resumeExisting?: boolean;
  };

/** A valid experiment name: --name, or the file's name and the time. */
function experimentName(file: string, flags: SearchFlags): string {
  const name = flags.name ?? defaultName(file);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new UsageError(`--name: expected letters, digits, '.', '_' or '-' (at most 128), got '${name}'`);
  }
  return name;
}

/** Creates the experiment and drives it; an existing one is refused, or resumed with --resume-existing. */
async function createAndDrive(
  store: Store,
  name: string,
  loaded: { space: SearchSpace; source: string },
  flags: SearchFlags,
): Promise<number> {
  if ((await store.getExperiment(name)) && flags.resumeExisting && flags.name !== undefined) {
    process.stderr.write(`hpo: experiment '${name}' exists in ${flags.db}: resuming it\n`);
    return driveExperiment(store, name, flags);
  }
  if (await store.getExperiment(name)) {
    throw new UsageError(
      `experiment '${name}' already exists in ${flags.db}: use 'hpo resume ${name}' or another --name`,
    );
  }
  await store.createExperiment(name, loaded.space, loaded.source);
  return driveExperiment(store, name, flags);
}

/** `hpo search FILE`: the exit code, or undefined after --dry-run (which runs nothing). */
async function searchFile(file: string, flags: SearchFlags): Promise<number | undefined> {
  const loaded = await loadForRun(file, flags);
  const { space } = loaded;
  if (flags.dryRun === undefined) requireRunnable(file, loaded, { bus: natsSettings(flags) !== undefined });
  if (flags.seed !== undefined) space.seed = flags.seed;
  if (flags.dryRun !== undefined) {
    const n = flags.dryRun === true ? DRY_RUN_PROPOSALS : flags.dryRun;
    process.stdout.write(summary(file, loaded) + dryRunProposals(space, n));
    return undefined;
  }
  runTimeBudget(flags, space); // --time-budget-hard without a budget fails before the warnings
  printWarnings(file, loaded);
  const name = experimentName(file, flags);
  return withStore(flags.db, (store) => createAndDrive(store, name, loaded, flags));
}

function searchCommand(program: Command): Command {
  return addRunWithOptions(
    addMaxGridOption(
      addRunOptions(
        program
          .command('search')
          .description('run a search described by a sweep file on this machine')
          .argument('<file>', 'search-space file (YAML, W&B sweep format; see docs/SEARCH-SPACES.md)')
          .option('--name <name>', 'experiment name (default: file name and time)')
          .addOption(seedOption('override the file seed'))
          .option(
            '--dry-run [n]',
            `check the file and print the first n proposals (default ${DRY_RUN_PROPOSALS}) without running anything`,
            nonNegativeInt,
          )
          .option(
            '--resume-existing',
            'if the experiment (--name) already exists, resume it instead (a service that restarts, as in compose)',
          ),
      ),
    ),
  );
}

/** `hpo resume NAME`: the stored file's warnings again, then the experiment driven like a search. */
function resumeCommand(program: Command, setExitCode: (code: number) => void): void {
  addRunOptions(
    program
      .command('resume')
      .description('continue an interrupted experiment: finished trials are kept, interrupted ones run again')
      .argument('<name>', 'experiment name'),
  ).action(async (name: string, flags: RunFlags) => {
    requireDatabase(flags.db);
    setExitCode(
      await withStore(flags.db, async (store) => {
        const exp = await store.getExperiment(name);
        if (!exp)
          throw new UsageError(
            `no experiment '${name}' in ${flags.db} (see hpo experiments --db ${flags.db})`,
          );
        resumeWarnings(name, exp.source);
        return driveExperiment(store, name, flags);
      }),
    );
  });
}

export function registerSearch(program: Command, setExitCode: (code: number) => void): void {
  searchCommand(program).action(async (file: string, flags: SearchFlags) => {
    const code = await searchFile(file, flags);
    if (code !== undefined) setExitCode(code);
  });
  resumeCommand(program, setExitCode);
}

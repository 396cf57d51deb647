/** `hpo search FILE` and `hpo resume NAME`: run an experiment on this machine (embedded default). */
import { basename, extname } from 'node:path';
import { type Command } from 'commander';
import { loadDataset } from '../../worker/data/dataset.js';
import { UsageError } from '../../shared/errors.js';
import { collectRunInfo, SearchRunner, type SearchOutcome } from '../../orchestrator/core/index.js';
import { createScheduler } from '../../orchestrator/schedulers/index.js';
import { formatDuration } from '../../orchestrator/search-space/index.js';
import { addMaxGridOption, loadForRun, printWarnings, summary } from './validate.js';
import { checkCommandForWorkers, offersForSpace, requireRunnable } from '../user-tasks.js';
import { addRunWithOptions, type RunWithFlags } from '../options/run-with-options.js';
import { LEASE_STALE_MS, type Store } from '../../orchestrator/store/index.js';
import { type HeldLease, holdLease } from '../owner.js';
import { orchestratorReadiness } from '../readiness-checks.js';
import { createStrategy } from '../../orchestrator/strategies/index.js';
import { startApiServer } from '../../orchestrator/api/index.js';
import { startDashboard, type Dashboard } from '../../viewer/index.js';
import { natsSettings } from '../options/nats-options.js';
import { renderLeaderboard } from '../leaderboard-format.js';
import { nonNegativeInt } from '../options/option-values.js';
import { seedOption } from '../options/seed-option.js';
import { createProgressDisplay } from '../progress-display.js';
import { requireDatabase, withStore } from '../options/store-options.js';
import { announceMetrics, openMetrics, type OpenedMetrics } from '../options/metrics-options.js';
import { OrchestratorMetrics } from '../../orchestrator/metrics/index.js';
import { ModelKeeper } from '../../orchestrator/artifacts/index.js';
import { type RunFlags, addRunOptions, DRY_RUN_PROPOSALS, expectedTotal, modelsRoot } from './run-options.js';
import { type OpenedTransport, openTransport } from './run-transport.js';
import { dryRunProposals, resumeWarnings } from './search-preview.js';
import { lingerDashboard, uiLingerSeconds, untilSignalOr } from './linger.js';

/** Runs the experiment while holding its owner lease (refused, exit 2, if another process drives it). */
async function driveExperiment(store: Store, name: string, flags: RunFlags): Promise<number> {
  const lease = await holdLease(store, name, flags, flags.ownerTimeout ?? LEASE_STALE_MS);
  try {
    return await runExperiment(store, name, flags, lease);
  } finally {
    await lease.release();
  }
}

async function runExperiment(store: Store, name: string, flags: RunFlags, lease: HeldLease): Promise<number> {
  const exp = (await store.getExperiment(name))!;
  const space = exp.space;
  const budgetSeconds = flags.timeBudget ?? space.run_time_budget;
  const timeBudget =
    budgetSeconds === undefined ? undefined : { seconds: budgetSeconds, hard: flags.timeBudgetHard === true };
  if (flags.timeBudgetHard && !timeBudget) {
    throw new UsageError(
      '--time-budget-hard needs a time budget (--time-budget or run_time_budget in the file)',
    );
  }
  // User code first: a changed module or a command that cannot start fails before anything opens.
  const tasks = offersForSpace(space, { bus: natsSettings(flags) !== undefined });
  if (natsSettings(flags)) checkCommandForWorkers(space);
  let data: { seed: number; sha256: string } | undefined;
  if (space.task === 'multi-digit-mnist') {
    // Generate (or verify) the data set once here, so pool threads only read the cache.
    const ds = await loadDataset({ seed: space.data.seed, dataDir: flags.dataDir });
    data = { seed: space.data.seed, sha256: ds.sha256 };
  }
  // The servers first: a port in use fails here, before any connection or thread pool is open.
  const metrics = await openMetrics(flags);
  let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
  let ui: Dashboard | undefined;
  let opened: OpenedTransport;
  try {
    api =
      flags.httpPort === undefined
        ? undefined
        : await startApiServer({ store, experiment: name, port: flags.httpPort, host: flags.httpHost });
    ui =
      flags.uiPort === undefined
        ? undefined
        : await startDashboard({ db: flags.db, port: flags.uiPort, host: flags.httpHost });
    opened = await openTransport(store, name, flags, metrics, tasks, lease.claim);
  } catch (err) {
    await ui?.close();
    await api?.close();
    await metrics?.server.close();
    throw err;
  }
  const { transport, where, stopResponder } = opened;
  const observer = metrics
    ? new OrchestratorMetrics({
        registry: metrics.registry,
        store,
        top: flags.metricsTop,
        retentionSeconds: flags.metricsRetention,
        transports: [transport.name],
        invalidMessages: opened.invalidMessages,
      })
    : undefined;
  metrics?.server.setReadiness(
    orchestratorReadiness({ lease, bus: opened.bus, staleMs: flags.ownerTimeout ?? LEASE_STALE_MS }),
  );
  announceMetrics(metrics);
  await store.recordRun(name, {
    ...collectRunInfo({ backendChoice: flags.backend, workers: where, data }),
    ...(timeBudget ? { time_budget: timeBudget } : {}),
  });
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nhpo: stopping: cancelling running trials (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const display = createProgressDisplay(space.metric.name);
  process.stderr.write(
    `hpo: experiment '${name}': ${space.method} search, task ${space.task}, ${where}, db ${flags.db}${api ? `, api ${api.url}/api/status` : ''}\n`,
  );
  const pageUrl = ui ? `${ui.url}#exp=${encodeURIComponent(name)}` : '';
  if (ui) process.stderr.write(`hpo: dashboard at ${pageUrl}\n`);
  else process.stderr.write(`hpo: watch it live: hpo dashboard --db ${flags.db}\n`);
  let outcome: SearchOutcome | undefined;
  try {
    outcome = await new SearchRunner({
      store,
      transport,
      strategy: createStrategy(space),
      scheduler: createScheduler(space),
      experiment: name,
      data,
      signal: controller.signal,
      total: expectedTotal(space),
      timeBudget,
      onProgress: (p) => display.update(p),
      observer,
      // Local results cannot be replayed: a failed write stops the run. On NATS the event stays unacked.
      onStoreFailure: natsSettings(flags) ? 'retry' : 'interrupt',
      models: new ModelKeeper({
        store,
        experiment: name,
        experimentId: exp.bus_id,
        policy: flags.saveModels,
        root: modelsRoot(flags),
        remote: opened.remoteModels,
      }),
    }).run();
  } finally {
    display.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    stopResponder();
    await api?.close();
    await opened.releaseLease?.().catch(() => undefined);
    await opened.remoteModels?.close?.();
    await transport.close();
    if (!outcome) await ui?.close();
    if (metrics && !outcome) await lingerThenClose(metrics, 0, observer);
  }
  const board = await store.leaderboard(name, { top: 10 });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...outcome, leaderboard: JSON.parse(renderLeaderboard(exp, board, 'json')) }, null, 2)}\n`,
    );
  } else {
    const p = outcome.progress;
    const why =
      outcome.reason === 'target'
        ? ` (metric.target ${space.metric.target} reached)`
        : outcome.reason === 'time_budget'
          ? ` (time budget of ${formatDuration(timeBudget?.seconds ?? 0)} spent${outcome.status === 'interrupted' ? ': running trials cancelled' : ''})`
          : '';
    process.stdout.write(
      `\n${name}: ${outcome.status}${why}; ${p.completed} completed, ${p.stopped} stopped, ${p.failed} failed\n`,
    );
    if (board.length > 0) process.stdout.write(renderLeaderboard(exp, board, 'table'));
  }
  // Both linger at once (one Ctrl-C ends both); nothing lingers after a Ctrl-C during the search.
  const interrupted = outcome.reason === 'interrupted';
  await Promise.all([
    metrics
      ? lingerThenClose(metrics, outcome.status === 'completed' ? flags.metricsLinger : 0, observer)
      : undefined,
    ui ? lingerDashboard(ui, interrupted ? 0 : uiLingerSeconds(flags.uiLinger), pageUrl) : undefined,
  ]);
  if (ui)
    process.stderr.write(`hpo: dashboard closed; browse the results with: hpo dashboard --db ${flags.db}\n`);
  if (outcome.status === 'interrupted') {
    process.stderr.write(`hpo: resume with: hpo resume ${name} --db ${flags.db}\n`);
    return 130;
  }
  return 0;
}

/** Serves /metrics `seconds` longer (a signal cuts it short) so Prometheus scrapes the final values. */
async function lingerThenClose(
  metrics: OpenedMetrics,
  seconds: number,
  observer: OrchestratorMetrics | undefined,
): Promise<void> {
  if (seconds > 0) {
    process.stderr.write(`hpo: serving ${metrics.server.url} for ${seconds} s more (--metrics-linger)\n`);
    await untilSignalOr(seconds);
  }
  observer?.close();
  await metrics.server.close();
}

function defaultName(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${basename(file, extname(file))}-${stamp}`;
}

interface SearchFlags {
  name?: string;
  seed?: number;
  maxGrid: number;
  dryRun?: number | true;
}

export function registerSearch(program: Command, setExitCode: (code: number) => void): void {
  addRunWithOptions(
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
  ).action(
    async (file: string, flags: RunFlags & SearchFlags & RunWithFlags & { resumeExisting?: boolean }) => {
      const loaded = await loadForRun(file, flags);
      const { space, source } = loaded;
      if (flags.dryRun === undefined)
        requireRunnable(file, loaded, { bus: natsSettings(flags) !== undefined });
      if (flags.seed !== undefined) space.seed = flags.seed;
      if (flags.dryRun !== undefined) {
        const n = flags.dryRun === true ? DRY_RUN_PROPOSALS : flags.dryRun;
        process.stdout.write(summary(file, loaded) + dryRunProposals(space, n));
        return;
      }
      if (flags.timeBudgetHard && flags.timeBudget === undefined && space.run_time_budget === undefined) {
        throw new UsageError(
          '--time-budget-hard needs a time budget (--time-budget or run_time_budget in the file)',
        );
      }
      printWarnings(file, loaded);
      const name = flags.name ?? defaultName(file);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
        throw new UsageError(
          `--name: expected letters, digits, '.', '_' or '-' (at most 128), got '${name}'`,
        );
      }
      setExitCode(
        await withStore(flags.db, async (store) => {
          if ((await store.getExperiment(name)) && flags.resumeExisting && flags.name !== undefined) {
            process.stderr.write(`hpo: experiment '${name}' exists in ${flags.db}: resuming it\n`);
            return driveExperiment(store, name, flags);
          }
          if (await store.getExperiment(name)) {
            throw new UsageError(
              `experiment '${name}' already exists in ${flags.db}: use 'hpo resume ${name}' or another --name`,
            );
          }
          await store.createExperiment(name, space, source);
          return driveExperiment(store, name, flags);
        }),
      );
    },
  );

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

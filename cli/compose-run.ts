/**
 * The one way a run is composed, shared by `hpo search` / `hpo resume` (cli/commands/search.ts) and the
 * library's search() (cli/library/run-search.ts): the MNIST data set first, then where the trials run
 * (opened by the caller: a thread pool, NATS, servers), the run recorded, the SearchRunner built from the
 * space (strategy, scheduler, expected total) and run, and what the caller opened closed again. What
 * differs between callers (progress display, signals, servers, output) comes in through the RunSite.
 */
import {
  collectRunInfo,
  SearchRunner,
  type SearchOutcome,
  type SearchRunnerOptions,
} from '../orchestrator/core/index.js';
import { createScheduler } from '../orchestrator/schedulers/index.js';
import { gridSize, type SearchSpace } from '../orchestrator/search-space/index.js';
import type { Store } from '../orchestrator/store/index.js';
import { createStrategy } from '../orchestrator/strategies/index.js';
import type { Transport } from '../orchestrator/transport/index.js';
import { loadDataset } from '../worker/data/dataset.js';
import { MNIST_TASK } from '../shared/task-names.js';

/** The data set of a multi-digit-mnist run: its identity goes with every trial, so workers check theirs. */
export interface RunData {
  seed: number;
  sha256: string;
}

/** Where a run's trials go and what watches them, opened by the caller once the data set is ready. */
export interface RunSite {
  transport: Transport;
  /** Where trials run, for the run's record (e.g. "4 local trial thread(s)"). */
  where: string;
  onProgress?: SearchRunnerOptions['onProgress'];
  observer?: SearchRunnerOptions['observer'];
  models?: SearchRunnerOptions['models'];
  /** Called once the run is recorded, just before the search starts (start lines, signal handlers). */
  starting?: () => void;
  /** Closes what was opened: after the search with its outcome, or with undefined when it failed. */
  close(outcome: SearchOutcome | undefined): Promise<void>;
}

export interface ComposeRunOptions<S extends RunSite> {
  store: Store;
  /** An experiment that exists in the store once `open` has returned. */
  experiment: string;
  space: SearchSpace;
  /** Where the MNIST data set is cached (default: the data module's). */
  dataDir?: string;
  /** The task brings its own data (a library task made with defineTask): no MNIST set is prepared. */
  ownData?: boolean;
  /** The backend asked for, as the run's record shows it. */
  backendChoice: string;
  timeBudget?: { seconds: number; hard: boolean };
  /** Aborting cancels running trials and leaves the experiment interrupted, resumable. */
  signal?: AbortSignal;
  onStoreFailure?: SearchRunnerOptions['onStoreFailure'];
  /** Opens where the trials run. Called after the data set is ready: a bad data set fails before anything opens. */
  open(data: RunData | undefined): Promise<S>;
}

export interface ComposedRun<S extends RunSite> {
  outcome: SearchOutcome;
  /** What `open` returned (already closed). */
  site: S;
}

/** Trials the search will run, when that is known. */
function expectedTotal(space: SearchSpace): number | null {
  const total = Math.min(gridSize(space) ?? Infinity, space.run_cap ?? Infinity);
  return Number.isFinite(total) ? total : null;
}

/** Generates (or verifies) the data set once here, so trial threads and workers only read the cache. */
async function prepareData<S extends RunSite>(o: ComposeRunOptions<S>): Promise<RunData | undefined> {
  if (o.ownData || o.space.task !== MNIST_TASK) return undefined;
  const ds = await loadDataset({ seed: o.space.data.seed, dataDir: o.dataDir });
  return { seed: o.space.data.seed, sha256: ds.sha256 };
}

async function recordRun<S extends RunSite>(
  o: ComposeRunOptions<S>,
  site: S,
  data: RunData | undefined,
): Promise<void> {
  await o.store.recordRun(o.experiment, {
    ...collectRunInfo({ backendChoice: o.backendChoice, workers: site.where, data }),
    ...(o.timeBudget ? { time_budget: o.timeBudget } : {}),
  });
}

function searchRunner<S extends RunSite>(
  o: ComposeRunOptions<S>,
  site: S,
  data: RunData | undefined,
): SearchRunner {
  return new SearchRunner({
    store: o.store,
    transport: site.transport,
    strategy: createStrategy(o.space),
    scheduler: createScheduler(o.space),
    experiment: o.experiment,
    data,
    signal: o.signal,
    total: expectedTotal(o.space),
    timeBudget: o.timeBudget,
    onProgress: site.onProgress,
    observer: site.observer,
    onStoreFailure: o.onStoreFailure,
    models: site.models,
  });
}

/** Prepares the data, opens the site, records and runs the search, closes the site (also on failure). */
export async function composeRun<S extends RunSite>(o: ComposeRunOptions<S>): Promise<ComposedRun<S>> {
  const data = await prepareData(o);
  const site = await o.open(data);
  let outcome: SearchOutcome | undefined;
  try {
    await recordRun(o, site, data);
    site.starting?.();
    outcome = await searchRunner(o, site, data).run();
  } finally {
    await site.close(outcome);
  }
  return { outcome, site };
}

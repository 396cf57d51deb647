/** The orchestrator's durable record of experiments, trials and per-epoch metrics. */
import type { LeaseClock, OwnerClaim, OwnerLease } from './owner-lease.js';
import {
  FINAL_STATES as RESULT_STATES,
  type FinalState,
  type ParamValue,
  type ResultEvent,
  type TrialParams,
} from '../../shared/protocol/index.js';
import type { SearchSpace } from '../search-space/types.js';

export type ExperimentStatus = 'running' | 'interrupted' | 'completed';
/**
 * pending: created, not yet dispatched (or interrupted and waiting to re-run); queued: dispatched over the
 * bus, no worker has started it yet; running: a worker (or a local thread) runs it.
 */
export type TrialState = 'pending' | 'queued' | 'running' | FinalState;
/** The final states of a trial: those a result ends it in (shared/protocol). */
export const FINAL_STATES: readonly TrialState[] = RESULT_STATES;
export const TRIAL_STATES: readonly TrialState[] = ['pending', 'queued', 'running', ...FINAL_STATES];
/** States of a trial dispatched and not yet final (both go back to pending on resume). */
export const IN_FLIGHT_STATES: readonly TrialState[] = ['queued', 'running'];

export interface ExperimentRecord {
  name: string;
  /**
   * Random id naming the experiment on the bus (subjects, consumers, message ids, model folders):
   * two stores may hold experiments of the same name, their ids never meet.
   */
  bus_id: string;
  /**
   * Random secret (never sent): keys the delivery tokens the orchestrator mints for each dispatch, so an
   * orchestrator resuming the experiment recognises tokens minted before it started.
   */
  bus_secret: string;
  space: SearchSpace;
  /** The search file's text as given, for the record. */
  source: string;
  status: ExperimentStatus;
  created_at: number;
  updated_at: number;
}

export interface TrialRecord {
  experiment: string;
  trial_id: string;
  /** 0-based order of proposal within the experiment. */
  index: number;
  params: TrialParams;
  seed: number;
  state: TrialState;
  /** Runs started so far (0 while never dispatched). */
  attempt: number;
  worker: string | null;
  backend: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  /** The experiment's objective (metric.name) from the final metrics, if reported. */
  value: number | null;
  metrics: Record<string, number> | null;
  /** Epochs completed (highest epoch recorded). */
  epochs: number;
  error: string | null;
}

export interface EpochRecord {
  trial_id: string;
  epoch: number;
  metrics: Record<string, number>;
  recorded_at: number;
}

export interface NewTrial {
  trial_id: string;
  index: number;
  params: TrialParams;
  seed: number;
}

/** A trial's final outcome as the store records it: a ResultEvent without its addressing fields. */
export type TrialResult = Omit<ResultEvent, 'v' | 'experiment' | 'experiment_id' | 'token' | 'trial_id'>;

/** Where and on what one `hpo search`/`hpo resume` of an experiment ran (recorded at its start). */
export interface RunInfo {
  /** ms since the epoch. */
  started_at: number;
  hpo_version: string;
  node_version: string;
  tfjs_version: string;
  /** The --backend asked for (each trial records the backend it actually ran on). */
  backend_choice: string;
  /** 'local pool of N threads' or the NATS servers. */
  workers: string;
  host: { cpu_model: string; cores: number; memory_bytes: number; os: string; arch: string };
  data?: { seed: number; sha256: string };
  /** Load average (1, 5, 15 min) at the start. */
  load_average?: number[];
  /** The run's time budget (--time-budget or the file's run_time_budget), counted from started_at. */
  time_budget?: { seconds: number; hard: boolean };
}

/** A trained model saved on disk for a trial. */
export interface ModelRecord {
  trial_id: string;
  /** Folder with model.json, weights.bin and hpo-model.json (on the machine of `worker`). */
  path: string;
  worker: string | null;
  saved_at: number;
}

export interface LeaderboardOptions {
  /** At most this many rows (default: all). */
  top?: number;
}

/** Fields a page of trials sorts by (besides `param:NAME`), in the order a usage error lists them. */
export const TRIAL_SORT_FIELDS = [
  'value',
  'index',
  'state',
  'epochs',
  'started_at',
  'ended_at',
  'worker',
] as const;
export type TrialSortField = (typeof TRIAL_SORT_FIELDS)[number];

/** A page of an experiment's trials (the web dashboard's table). */
export interface TrialPageQuery {
  /** Only trials in this state (default: all). */
  state?: TrialState;
  /** A TRIAL_SORT_FIELDS entry or `param:NAME` of a parameter of the space (trialSortProblem checks it). */
  sort: string;
  descending: boolean;
  offset: number;
  limit: number;
}

export interface TrialPage {
  /** Trials matching the state filter. */
  total: number;
  rows: TrialRecord[];
}

/** Failed trials sharing one error message, with one of them to look at. */
export interface ErrorGroup {
  error: string;
  trials: number;
  trial_id: string;
}

/** A finished trial with a value (completed or stopped), in the order trials finished. */
export interface FinishedOrderRow {
  trial_id: string;
  index: number;
  value: number;
  /** ended_at, or created_at for a trial without one. */
  ended_at: number;
}

/** A finished trial with a value and its parameters (parameter importance's input). */
export interface FinishedParamsRow {
  trial_id: string;
  params: Record<string, ParamValue>;
  value: number;
  epochs: number;
}

/** What a change listener is told: the store's version after the change, and when it was seen. */
export interface StoreChange {
  version: number;
  /** ms since the epoch. */
  at: number;
}

export interface WatchOptions {
  /** For a store that polls (SQLite: every 200 ms by default): how often it looks. */
  intervalMs?: number;
}

/** The owner-lease rules' clock fields other than `now` (the store's own clock), and --force. */
export type LeaseOptions = Omit<LeaseClock, 'now'> & { force?: boolean };

/**
 * The read half of the store contract: everything the reports, `hpo status`/results and the web
 * dashboard read, and the change feed. Every method returns a promise (a store may be a server's
 * database); every answer is bounded by what was asked or by the experiment.
 */
export interface StoreReader {
  getExperiment(name: string): Promise<ExperimentRecord | undefined>;
  /** Oldest first. */
  listExperiments(): Promise<ExperimentRecord[]>;
  getTrial(experiment: string, trialId: string): Promise<TrialRecord | undefined>;
  /** By index. */
  listTrials(experiment: string): Promise<TrialRecord[]>;
  /** How many trials of the experiment are in each state (every state present; all 0 for an unknown one). */
  countTrials(experiment: string): Promise<Record<TrialState, number>>;
  /** countTrials of every experiment with trials, in one read. */
  countTrialsByExperiment(): Promise<Map<string, Record<TrialState, number>>>;
  listEpochs(experiment: string, trialId: string): Promise<EpochRecord[]>;
  /** Epochs recorded for the experiment's trials in all. */
  countEpochs(experiment: string): Promise<number>;
  /** Completed and stopped trials with a value, best first by the experiment's metric goal. */
  leaderboard(experiment: string, options?: LeaderboardOptions): Promise<TrialRecord[]>;
  /**
   * One page of trials and how many match the filter (none for an unknown experiment); ties and missing
   * values sort after the others, then by index. Throws StoreError for a sort trialSortProblem refuses.
   */
  trialPage(experiment: string, query: TrialPageQuery): Promise<TrialPage>;
  /** Distinct errors of failed trials, most frequent first, at most `limit`. */
  errorGroups(experiment: string, limit: number): Promise<ErrorGroup[]>;
  /** (index, epochs) of every stopped trial (the rung each reached derives from them). */
  stoppedTrials(experiment: string): Promise<{ index: number; epochs: number }[]>;
  /** The metric names of the last epoch of the experiment's newest trial with epochs. */
  lastEpochMetricNames(experiment: string): Promise<string[]>;
  /** Finished trials with a value, in the order they finished (then by index). */
  finishedOrder(experiment: string): Promise<FinishedOrderRow[]>;
  /** Finished trials with a value, by index, with their parameters. */
  finishedParams(experiment: string): Promise<FinishedParamsRow[]>;
  /** Each trial's `metric` recorded at `epoch`, by trial id (trials without it are absent). */
  metricAtEpoch(experiment: string, epoch: number, metric: string): Promise<Map<string, number>>;
  /** A number that grows with every epoch recorded anywhere in the store (SQLite: the last rowid). */
  lastEpochRow(): Promise<number>;
  /** Runs of the experiment, oldest first. */
  listRuns(experiment: string): Promise<RunInfo[]>;
  /** Saved models of the experiment, by trial index. */
  listModels(experiment: string): Promise<ModelRecord[]>;
  /** The process driving the experiment (owner-lease.ts), if any holds its lease. */
  getLease(experiment: string): Promise<OwnerLease | undefined>;

  /**
   * The change feed: a number that is greater than the one returned before whenever anything was
   * committed in between, by this store or another process (SQLite: PRAGMA data_version and this
   * connection's own writes; a server database: a sequence, or a counter of LISTEN/NOTIFY messages).
   */
  version(): Promise<number>;
  /**
   * Calls `listener` once per change seen (several commits may make one change) until the returned
   * function is called. A store may poll (`options.intervalMs`) or be told by its server.
   */
  watch(listener: (change: StoreChange) => void, options?: WatchOptions): () => void;
  /** Idempotent; stops every watch. */
  close(): Promise<void>;
}

/**
 * Contract every store implements (test/contracts/store.contract.ts): the reads, plus the writes. All
 * writes are idempotent by (experiment, trial_id[, epoch]): recording the same thing twice leaves one row
 * and the first final result wins. Every method returns a promise; a caller awaits each write before the
 * next step that depends on it (e.g. a result is recorded before its delivery is acknowledged).
 */
export interface Store extends StoreReader {
  /** Throws StoreError if an experiment of that name exists. */
  createExperiment(name: string, space: SearchSpace, source: string): Promise<ExperimentRecord>;
  setExperimentStatus(name: string, status: ExperimentStatus): Promise<void>;

  /** Inserts a pending trial; a second call with the same trial_id changes nothing. */
  addTrial(experiment: string, trial: NewTrial): Promise<TrialRecord>;
  /**
   * pending (or queued / running: a re-dispatch) -> `state` (default running) with attempt+1; returns the
   * attempt number, or null if the trial is final. `queued`: handed to a bus, no worker has started it.
   */
  startTrial(
    experiment: string,
    trialId: string,
    worker: string | null,
    state?: 'queued' | 'running',
  ): Promise<number | null>;
  /**
   * queued -> running once a worker started the trial's attempt `attempt` (nothing for another attempt,
   * or a trial in another state); returns whether it changed.
   */
  markRunning(experiment: string, trialId: string, attempt: number, worker: string | null): Promise<boolean>;
  /** Upserts one epoch's metrics (an epoch reported twice keeps one row). Ignored for final trials. */
  recordEpoch(
    experiment: string,
    trialId: string,
    epoch: number,
    metrics: Record<string, number>,
  ): Promise<void>;
  /** Final outcome; returns false (and changes nothing) when the trial is already final. */
  recordResult(experiment: string, trialId: string, result: TrialResult): Promise<boolean>;
  /**
   * Every queued or running trial of the experiment back to pending (after a crash or Ctrl-C); returns
   * how many.
   */
  requeueRunning(experiment: string): Promise<number>;

  /** Appends one run's metadata (search or resume start). */
  recordRun(experiment: string, info: RunInfo): Promise<void>;
  /** Records (or replaces) where a trial's model was saved. */
  recordModel(experiment: string, model: ModelRecord): Promise<void>;
  /** Forgets a trial's saved model (after its files were pruned). */
  deleteModel(experiment: string, trialId: string): Promise<void>;

  /**
   * Takes the experiment's owner lease for `claim` (owner-lease.ts rules, read and written atomically:
   * of two drivers starting together one wins), or rejects with OwnerLeaseError (another driver's lease
   * is alive, or expired and `force` is not set). StoreError for an unknown experiment.
   */
  acquireLease(experiment: string, claim: OwnerClaim, options: LeaseOptions): Promise<OwnerLease>;
  /** Renews the lease held with `token`; false when it is no longer ours (another driver took over). */
  heartbeatLease(experiment: string, token: string): Promise<boolean>;
  /** Gives the lease up if `token` still holds it (nothing otherwise). */
  releaseLease(experiment: string, token: string): Promise<void>;

  /**
   * After a failed write (disk full): gives back what the store can of its own scratch space (SQLite:
   * checkpoints and truncates the write-ahead log) so a last small write, such as marking the experiment
   * interrupted, may still fit. Best effort, never rejects.
   */
  releaseSpace(): Promise<void>;
}

/** The orchestrator's durable record of experiments, trials and per-epoch metrics. */
import type { OwnerLease } from './owner-lease.js';
import {
  FINAL_STATES as RESULT_STATES,
  type FinalState,
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

/**
 * Contract every store implements (test/contracts/store.contract.ts). All writes are idempotent by
 * (experiment, trial_id[, epoch]): recording the same thing twice leaves one row and the first final
 * result wins.
 */
export interface Store {
  /** Throws StoreError if an experiment of that name exists. */
  createExperiment(name: string, space: SearchSpace, source: string): ExperimentRecord;
  getExperiment(name: string): ExperimentRecord | undefined;
  listExperiments(): ExperimentRecord[];
  setExperimentStatus(name: string, status: ExperimentStatus): void;

  /** Inserts a pending trial; a second call with the same trial_id changes nothing. */
  addTrial(experiment: string, trial: NewTrial): TrialRecord;
  /**
   * pending (or queued / running: a re-dispatch) -> `state` (default running) with attempt+1; returns the
   * attempt number, or null if the trial is final. `queued`: handed to a bus, no worker has started it.
   */
  startTrial(
    experiment: string,
    trialId: string,
    worker: string | null,
    state?: 'queued' | 'running',
  ): number | null;
  /**
   * queued -> running once a worker started the trial's attempt `attempt` (nothing for another attempt,
   * or a trial in another state); returns whether it changed.
   */
  markRunning(experiment: string, trialId: string, attempt: number, worker: string | null): boolean;
  /** Upserts one epoch's metrics (an epoch reported twice keeps one row). Ignored for final trials. */
  recordEpoch(experiment: string, trialId: string, epoch: number, metrics: Record<string, number>): void;
  /** Final outcome; returns false (and changes nothing) when the trial is already final. */
  recordResult(experiment: string, trialId: string, result: TrialResult): boolean;
  /**
   * Every queued or running trial of the experiment back to pending (after a crash or Ctrl-C); returns
   * how many.
   */
  requeueRunning(experiment: string): number;

  getTrial(experiment: string, trialId: string): TrialRecord | undefined;
  listTrials(experiment: string): TrialRecord[];
  /** How many trials of the experiment are in each state (every state present; all 0 for an unknown one). */
  countTrials(experiment: string): Record<TrialState, number>;
  listEpochs(experiment: string, trialId: string): EpochRecord[];
  /** Completed and stopped trials with a value, best first by the experiment's metric goal. */
  leaderboard(experiment: string, options?: LeaderboardOptions): TrialRecord[];

  /** Appends one run's metadata (search or resume start). */
  recordRun(experiment: string, info: RunInfo): void;
  /** Runs of the experiment, oldest first. */
  listRuns(experiment: string): RunInfo[];
  /** Records (or replaces) where a trial's model was saved. */
  recordModel(experiment: string, model: ModelRecord): void;
  /** Saved models of the experiment, by trial index. */
  listModels(experiment: string): ModelRecord[];
  /** Forgets a trial's saved model (after its files were pruned). */
  deleteModel(experiment: string, trialId: string): void;
  /**
   * After a failed write (disk full): gives back what the store can of its own scratch space (SQLite:
   * checkpoints and truncates the write-ahead log) so a last small write, such as marking the experiment
   * interrupted, may still fit. Best effort, never throws.
   */
  releaseSpace?(): void;
  /** The process driving the experiment (owner-lease.ts), if the store keeps leases. */
  getLease?(experiment: string): OwnerLease | undefined;
  close(): void;
}

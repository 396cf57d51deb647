/**
 * The chaos suite's verdict on one run, read from the SQLite store the orchestrator wrote and from the
 * final summary line it printed:
 * - lost: an expected trial missing from the store, or not in a final state at the end;
 * - duplicated: a trial id stored twice, a trial that was final before the fault and ran again
 *   (its attempt or end time changed), or a result counted twice (the orchestrator's summary counts
 *   more finished trials than the store holds);
 * - wrong state: a final state other than the expected one, a failed trial without its error, a
 *   completed trial without all its epochs or its value, an experiment not marked completed.
 */
import { SqliteStore } from '../../orchestrator/store/index.js';
import { FINAL_STATES, type TrialRecord, type TrialState } from '../../orchestrator/store/types.js';

export interface Expectation {
  /** Trials the search proposes. */
  trials: number;
  /** Epochs of a completed trial. */
  epochs: number;
  /** The state each trial must end in, and (for failed ones) a pattern its error must match. */
  expect(t: TrialRecord): { state: TrialState; error?: RegExp };
}

export interface Verdict {
  trials: number;
  lost: number;
  duplicated: number;
  wrongState: number;
  /** One line per problem found. */
  problems: string[];
}

/** Snapshot of the final trials at some moment (e.g. just before a fault). */
export async function finalSnapshot(db: string, experiment: string): Promise<TrialRecord[]> {
  const store = SqliteStore.open(db);
  try {
    return (await store.listTrials(experiment)).filter((t) => FINAL_STATES.includes(t.state));
  } finally {
    await store.close();
  }
}

/** `NAME: completed; X completed, Y stopped, Z failed` from the orchestrator's output. */
export function parseSummary(output: string): { status: string; done: number } | null {
  const m = /: (completed|interrupted); (\d+) completed, (\d+) stopped, (\d+) failed/.exec(output);
  if (!m) return null;
  return { status: m[1], done: Number(m[2]) + Number(m[3]) + Number(m[4]) };
}

export async function audit(
  db: string,
  experiment: string,
  want: Expectation,
  finalBeforeFault: TrialRecord[],
  orchestratorOutput: string,
): Promise<Verdict> {
  const problems: string[] = [];
  let lost = 0;
  let duplicated = 0;
  let wrongState = 0;
  const store = SqliteStore.open(db);
  try {
    const trials = await store.listTrials(experiment);
    const ids = new Set(trials.map((t) => t.trial_id));
    if (ids.size !== trials.length) {
      duplicated += trials.length - ids.size;
      problems.push(`${trials.length - ids.size} trial id(s) stored twice`);
    }
    if (trials.length < want.trials) {
      lost += want.trials - trials.length;
      problems.push(`${want.trials - trials.length} trial(s) never stored`);
    }
    for (const t of trials) {
      if (!FINAL_STATES.includes(t.state)) {
        lost++;
        problems.push(`${t.trial_id} ended ${t.state}`);
        continue;
      }
      const { state, error } = want.expect(t);
      if (t.state !== state) {
        wrongState++;
        problems.push(`${t.trial_id} is ${t.state}, expected ${state}${t.error ? ` (${t.error})` : ''}`);
      } else if (state === 'failed' && (!t.error || (error && !error.test(t.error)))) {
        wrongState++;
        problems.push(`${t.trial_id} failed with error ${JSON.stringify(t.error)}, expected ${error}`);
      } else if (state === 'completed') {
        const epochs = (await store.listEpochs(experiment, t.trial_id)).length;
        if (epochs !== want.epochs || t.epochs !== want.epochs || t.value === null) {
          wrongState++;
          problems.push(
            `${t.trial_id} completed with ${epochs} epoch rows, epochs ${t.epochs}, value ${t.value}`,
          );
        }
      }
    }
    for (const before of finalBeforeFault) {
      const now = trials.find((t) => t.trial_id === before.trial_id);
      if (now && (now.attempt !== before.attempt || now.ended_at !== before.ended_at)) {
        duplicated++;
        problems.push(`${before.trial_id} was final before the fault and ran again`);
      }
    }
    const summary = parseSummary(orchestratorOutput);
    const finals = trials.filter((t) => FINAL_STATES.includes(t.state)).length;
    if (!summary) {
      wrongState++;
      problems.push('the orchestrator printed no final summary');
    } else if (summary.done > finals) {
      duplicated += summary.done - finals;
      problems.push(`the orchestrator counted ${summary.done} finished trials, the store holds ${finals}`);
    }
    const status = (await store.getExperiment(experiment))?.status;
    if (status !== 'completed') {
      wrongState++;
      problems.push(`experiment status ${status}, expected completed`);
    }
    return { trials: trials.length, lost, duplicated, wrongState, problems };
  } finally {
    await store.close();
  }
}

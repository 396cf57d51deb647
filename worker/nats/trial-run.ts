/**
 * One held trial message on this worker: the accept check, the run with the message kept alive, and
 * how it ends (result acked, refused, failed, cancelled, handed back).
 */
import {
  type EpochEvent,
  type ResultEvent,
  type TrialSpec,
  epochLimit,
} from '../../shared/protocol/index.js';
import { TrialInterruptedError } from '../../shared/protocol/executor.js';
import { errorText, failedResult } from '../../shared/nats/connection.js';
import { reportEpoch } from './epoch-decision.js';
import { finishTrial } from './publish-retrying.js';
import { refuseTrial } from './trial-refusal.js';
import { sendModel } from './model-upload.js';
import { reportStarted } from './trial-started.js';
import { noteBackendInUse } from './heartbeat.js';
import { type Held, type WorkerState, refreshSettings } from './worker-state.js';

/** A trial's run on the executor, as the result will report it. */
interface TrialRun {
  result: ResultEvent;
  /** Publishes of the epoch events sent on (all before the result's). */
  epochPublishes: Promise<void>[];
}

export async function runHeldTrial(state: WorkerState, held: Held, spec: TrialSpec): Promise<void> {
  const { msg } = held;
  const { delivery, last } = await deliveryOf(state, msg);
  const log = state.logger.child(trialFields(spec));
  log.debug({ delivery, task: spec.task }, 'trial received');
  const keepAlive = setInterval(() => msg.working(), Math.max(250, Math.floor(state.settings.ackWaitMs / 3)));
  let startedTimer: NodeJS.Timeout | undefined;
  try {
    const refusal = await acceptCheck(state, spec);
    if (held.controller.signal.aborted) return await interrupted(state, held, spec, last);
    if (refusal !== null) {
      state.counters.refused++;
      await refuseTrial(state, msg, spec, refusal);
      return;
    }
    // Once the trial has run a little (a short one's result says it all), and never awaited: a started
    // event that cannot be stored (a bus whose permissions predate it) must never hold up the trial.
    startedTimer = setTimeout(
      () => void reportStarted(state, spec, delivery),
      state.options.startedAfterMs ?? 250,
    );
    let run: TrialRun;
    try {
      run = await runOnExecutor(state, held, spec);
    } catch (err) {
      return await runFailed(state, held, spec, last, err);
    }
    clearTimeout(startedTimer);
    const result = await reportResult(state, spec, run);
    if (await finishTrial(state, msg, result, 'ack')) {
      state.counters.trialsDone++;
      const error = result.error ? { error: result.error } : {};
      log.info({ state: result.state, epochs: result.epochs, delivery, ...error }, `trial ${result.state}`);
    }
  } finally {
    clearInterval(keepAlive);
    clearTimeout(startedTimer);
  }
}

/** The log fields naming a trial. */
function trialFields(spec: TrialSpec): { experiment: string; trial: string; attempt: number } {
  return { experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt };
}

/** Which delivery of its message this is, and whether the server would deliver it again. */
async function deliveryOf(
  state: WorkerState,
  msg: Held['msg'],
): Promise<{ delivery: number; last: boolean }> {
  const delivery = msg.info.deliveryCount;
  // A redelivery: re-read max_deliver first. The orchestrator may have changed it since this worker
  // read it (a worker that starts first creates the consumer with its own defaults); a stale value
  // would nak a last delivery instead of ending the trial.
  if (delivery > 1) await refreshSettings(state, msg);
  const max = state.settings.maxDeliver;
  const last = max > 0 && delivery >= max;
  if (delivery > 1) state.counters.redelivered++;
  return { delivery, last };
}

/** The worker's accept check: null to run the trial, else why not. */
async function acceptCheck(state: WorkerState, spec: TrialSpec): Promise<string | null> {
  if (!state.options.accept) return null;
  try {
    return await state.options.accept(spec);
  } catch (err) {
    return `accept check failed: ${errorText(err)}`;
  }
}

/** Runs the trial, sending its epochs on; the last epoch is carried by the result (no decision matters after it). */
async function runOnExecutor(state: WorkerState, held: Held, spec: TrialSpec): Promise<TrialRun> {
  const epochPublishes: Promise<void>[] = [];
  const lastEpoch = epochLimit(spec.params);
  let finalEpoch: EpochEvent | undefined;
  const result = await state.executor.run(spec, {
    onEpoch: (e) => {
      if (e.epoch < lastEpoch) return reportEpoch(state, e, epochPublishes, spec.decisions !== false);
      finalEpoch = e;
      return Promise.resolve('continue');
    },
    signal: held.controller.signal,
  });
  if (finalEpoch && result.epochs === finalEpoch.epoch) {
    const final_epoch = { epoch: finalEpoch.epoch, metrics: finalEpoch.metrics };
    return { result: { ...result, final_epoch }, epochPublishes };
  }
  return { result, epochPublishes };
}

/** The executor threw: an interrupted trial, or one this worker could not run (retried unless last). */
async function runFailed(
  state: WorkerState,
  held: Held,
  spec: TrialSpec,
  last: boolean,
  err: unknown,
): Promise<void> {
  if (err instanceof TrialInterruptedError || held.controller.signal.aborted) {
    return await interrupted(state, held, spec, last);
  }
  const error = `worker ${state.name} could not run the trial: ${errorText(err)}`;
  if (last) await finishTrial(state, held.msg, failedResult(spec, state.name, error), 'term');
  else {
    state.log.report(error, trialFields(spec));
    held.msg.nak(state.options.retryDelayMs ?? 1000);
  }
}

/** What goes into the stream before the result: its epoch events, then its saved model. */
async function reportResult(state: WorkerState, spec: TrialSpec, run: TrialRun): Promise<ResultEvent> {
  noteBackendInUse(state, run.result.backend);
  // Epoch events go into the stream before the result, so a reader sees them in order.
  await Promise.all(run.epochPublishes);
  // So does the saved model: the orchestrator fetches it when it reads the result.
  if (run.result.model && run.result.state !== 'failed') return await sendModel(state, spec, run.result);
  return run.result;
}

/**
 * An aborted trial. A cancelled one is handed back without a result (nak): the orchestrator removed its
 * message before it sent the cancel, so a real cancel ends it and a forged one costs a re-run, not the
 * trial. A drained one goes back too.
 */
async function interrupted(state: WorkerState, held: Held, spec: TrialSpec, last: boolean): Promise<void> {
  const fields = trialFields(spec);
  if (held.reason === 'cancel') {
    state.logger.debug(fields, 'trial cancelled');
    state.counters.cancelled++;
    held.msg.nak();
    return;
  }
  if (last) {
    // The server would not deliver it again: end it rather than strand it.
    const error = `interrupted: worker ${state.name} was stopped while running the trial's last delivery`;
    await finishTrial(state, held.msg, failedResult(spec, state.name, error), 'term');
    return;
  }
  state.logger.info(fields, 'trial handed back to the queue');
  state.counters.requeued++;
  held.msg.nak();
}

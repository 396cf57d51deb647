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

export async function runHeldTrial(state: WorkerState, held: Held, spec: TrialSpec): Promise<void> {
  const { msg } = held;
  const delivery = msg.info.deliveryCount;
  // A redelivery: re-read max_deliver first. The orchestrator may have changed it since this worker
  // read it (a worker that starts first creates the consumer with its own defaults); a stale value
  // would nak a last delivery instead of ending the trial.
  if (delivery > 1) await refreshSettings(state, msg);
  const max = state.settings.maxDeliver;
  const last = max > 0 && delivery >= max;
  if (delivery > 1) state.counters.redelivered++;
  const fields = { experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt };
  const log = state.logger.child(fields);
  log.debug({ delivery, task: spec.task }, 'trial received');
  const keepAlive = setInterval(() => msg.working(), Math.max(250, Math.floor(state.settings.ackWaitMs / 3)));
  let startedTimer: NodeJS.Timeout | undefined;
  try {
    let refusal: string | null = null;
    if (state.options.accept) {
      try {
        refusal = await state.options.accept(spec);
      } catch (err) {
        refusal = `accept check failed: ${errorText(err)}`;
      }
    }
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
    const epochPublishes: Promise<void>[] = [];
    // The last epoch is carried by the result (no decision matters after it).
    const lastEpoch = epochLimit(spec.params);
    let finalEpoch: EpochEvent | undefined;
    let result: ResultEvent;
    try {
      result = await state.executor.run(spec, {
        onEpoch: (e) => {
          if (e.epoch < lastEpoch) return reportEpoch(state, e, epochPublishes, spec.decisions !== false);
          finalEpoch = e;
          return Promise.resolve('continue');
        },
        signal: held.controller.signal,
      });
    } catch (err) {
      if (err instanceof TrialInterruptedError || held.controller.signal.aborted) {
        return await interrupted(state, held, spec, last);
      }
      const error = `worker ${state.name} could not run the trial: ${errorText(err)}`;
      if (last) await finishTrial(state, msg, failedResult(spec, state.name, error), 'term');
      else {
        state.log.report(error, fields);
        msg.nak(state.options.retryDelayMs ?? 1000);
      }
      return;
    }
    clearTimeout(startedTimer);
    noteBackendInUse(state, result.backend);
    if (finalEpoch && result.epochs === finalEpoch.epoch) {
      result = { ...result, final_epoch: { epoch: finalEpoch.epoch, metrics: finalEpoch.metrics } };
    }
    // Epoch events go into the stream before the result, so a reader sees them in order.
    await Promise.all(epochPublishes);
    // So does the saved model: the orchestrator fetches it when it reads the result.
    if (result.model && result.state !== 'failed') result = await sendModel(state, spec, result);
    if (await finishTrial(state, msg, result, 'ack')) {
      state.counters.trialsDone++;
      log.info(
        {
          state: result.state,
          epochs: result.epochs,
          delivery,
          ...(result.error ? { error: result.error } : {}),
        },
        `trial ${result.state}`,
      );
    }
  } finally {
    clearInterval(keepAlive);
    clearTimeout(startedTimer);
  }
}

/**
 * An aborted trial. A cancelled one is handed back without a result (nak): the orchestrator removed its
 * message before it sent the cancel, so a real cancel ends it and a forged one costs a re-run, not the
 * trial. A drained one goes back too.
 */
async function interrupted(state: WorkerState, held: Held, spec: TrialSpec, last: boolean): Promise<void> {
  const fields = { experiment: spec.experiment, trial: spec.trial_id, attempt: spec.attempt };
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

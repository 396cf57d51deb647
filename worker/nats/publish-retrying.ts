/** Publishing with retries, and ending a trial message only once its result is in the stream. */
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResultEvent } from '../../shared/protocol/index.js';
import { errorText, publishResult } from '../../shared/nats/connection.js';
import { type WorkerState, sleep } from './worker-state.js';

/** Publishes with retries for about a minute (a server restart, a lost publish ack). */
export async function publishRetrying(nc: NatsConnection, publish: () => Promise<unknown>): Promise<void> {
  const delays = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
  for (let i = 0; ; i++) {
    try {
      await publish();
      return;
    } catch (err) {
      if (i >= delays.length || nc.isClosed()) throw err;
      await sleep(delays[i]);
    }
  }
}

/**
 * Publishes the result (retrying while the message is kept alive) and only then acks (or terms) the
 * trial message. If the result cannot be published, the message is left unacked: it is redelivered
 * after ack_wait and the trial runs again.
 */
export async function finishTrial(
  state: WorkerState,
  msg: JsMsg,
  result: ResultEvent,
  how: 'ack' | 'term',
): Promise<boolean> {
  try {
    // The delivery in the message id: a late result of an earlier delivery is not dropped as a duplicate.
    const delivery = msg.info.deliveryCount;
    await publishRetrying(state.nc, () => publishResult(state.js, state.names, result, delivery));
  } catch (err) {
    state.counters.busErrors++;
    state.log.report(`could not publish the result of trial ${result.trial_id}: ${errorText(err)}`, {
      experiment: result.experiment,
      trial: result.trial_id,
      attempt: result.attempt,
    });
    return false;
  }
  // A plain ack, not waiting for the server's confirmation: the result is stored, so a lost ack costs at
  // most a redelivery whose result the orchestrator recognises as late (its token is not current).
  if (how === 'term') msg.term();
  else msg.ack();
  return true;
}

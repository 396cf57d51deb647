/** The orchestrator's own operations on the trials work queue beyond submit and cancel. */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  type BusNames,
  REFUSALS_HEADER,
  type RefusalEvent,
  trialMsgId,
} from '../../../shared/protocol/bus.js';
import { encodeMessage } from '../../../shared/protocol/validate.js';
import type { InFlight } from './deliveries.js';

/**
 * A worker refused the trial's delivery before its last one (and termed it): queue it again as a new
 * message with the refusals so far (its message id makes a retried publish a duplicate). Publishing
 * trials is the orchestrator's right alone; a worker only reports. Records the new stream sequence.
 */
export async function requeueRefused(
  js: JetStreamClient,
  names: BusNames,
  refusal: RefusalEvent,
  entry: InFlight,
): Promise<void> {
  const h = headers();
  h.set(REFUSALS_HEADER, String(refusal.refusals));
  const ack = await js.publish(names.trialsSubject(entry.experimentId), encodeMessage(entry.spec), {
    msgID: `${trialMsgId(entry.spec)}/requeued/${refusal.refusals}`,
    headers: h,
  });
  entry.seq = ack.seq;
}

/** Whether a trial message is still in the work queue (queued, or held by a worker); true when unknown. */
export async function trialMessageQueued(
  jsm: JetStreamManager,
  names: BusNames,
  experimentId: string,
  seq: number | undefined,
): Promise<boolean> {
  if (seq === undefined) return true;
  try {
    const stored = await jsm.streams.getMessage(names.trialsStream, { seq });
    return stored !== null && stored.subject === names.trialsSubject(experimentId);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return false;
    return true; // the server unreachable: not a reason to re-run anything
  }
}

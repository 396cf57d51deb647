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
  taskLabel,
  trialMsgId,
  trialSubject,
} from '../../../shared/protocol/bus.js';
import { encodeMessage } from '../../../shared/protocol/validate.js';
import type { InFlight } from './deliveries.js';

/**
 * Why a (token-checked) refusal of the trial's current delivery is not counted, or undefined: it is.
 * A refusal counts once per queued message: it must name the message the orchestrator queued last
 * (`seq`), and carry more refusals than the last one counted. A repeated, replayed or forged copy (a
 * client holding the token) changes nothing.
 */
export function refusalNotCounted(refusal: RefusalEvent, entry: InFlight): string | undefined {
  if (entry.seq !== undefined && refusal.seq !== entry.seq)
    return `refusal of trial message ${refusal.seq}, not the one queued (${entry.seq})`;
  if (refusal.refusals <= (entry.refusals ?? 0))
    return `refusal ${refusal.refusals} already counted (${entry.refusals ?? 0} so far)`;
  return undefined;
}

/** Most worker names remembered per trial as having refused it. */
const MAX_REFUSERS = 100;

/**
 * Why refusals end the trial failed, or undefined: queue it again. The refusing worker is remembered;
 * once the trial has `maxRefusals` refusals, it fails only if no live worker offering its task (`live`,
 * from heartbeats) is left that has not refused it: a refusal never fails a trial a capable worker
 * could still run.
 */
export function refusalsExhausted(
  refusal: RefusalEvent,
  entry: InFlight,
  live: readonly string[],
  maxRefusals: number,
): string | undefined {
  const refusers = new Set(entry.refusedBy ?? []);
  refusers.add(refusal.worker);
  entry.refusedBy = [...refusers].slice(-MAX_REFUSERS);
  if (refusal.refusals < maxRefusals) return undefined;
  if (live.some((w) => !refusers.has(w))) return undefined;
  const task = taskLabel(entry.spec.task, entry.spec.task_sha256);
  const nobody = live.length === 0 ? `no live worker offers task ${task}; ` : '';
  return (
    `${nobody}refused by worker ${refusal.worker}: ${refusal.reason} (refused ${refusal.refusals} times ` +
    `in all, by ${refusers.size} worker(s): no worker offering task ${task} accepted the trial)`
  );
}

/**
 * A worker refused the trial's delivery before its last one (and termed it): queue it again as a new
 * message with the refusals so far. The old message is deleted first (the worker terms it too), so a
 * trial never has two messages in the queue; and a trial no longer in flight once the new message is
 * stored (cancelled meanwhile) has it deleted again. Publishing trials is the orchestrator's right
 * alone; a worker only reports. Records the new stream sequence.
 */
export async function requeueRefused(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: BusNames,
  refusal: RefusalEvent,
  entry: InFlight,
  stillInFlight: () => boolean,
): Promise<void> {
  if (entry.seq !== undefined)
    await jsm.streams.deleteMessage(names.trialsStream, entry.seq, false).catch(() => false);
  const h = headers();
  h.set(REFUSALS_HEADER, String(refusal.refusals));
  const ack = await js.publish(trialSubject(names, entry.spec), encodeMessage(entry.spec), {
    msgID: `${trialMsgId(entry.spec)}/requeued/${refusal.refusals}`,
    headers: h,
  });
  entry.seq = ack.seq;
  entry.refusals = refusal.refusals;
  if (!stillInFlight())
    await jsm.streams.deleteMessage(names.trialsStream, ack.seq, false).catch(() => false);
}

/** Whether a trial message is still in the work queue (queued, or held by a worker); true when unknown. */
export async function trialMessageQueued(
  jsm: JetStreamManager,
  names: BusNames,
  entry: Pick<InFlight, 'seq' | 'spec'>,
): Promise<boolean> {
  const { seq } = entry;
  if (seq === undefined) return true;
  try {
    const stored = await jsm.streams.getMessage(names.trialsStream, { seq });
    return stored !== null && stored.subject === trialSubject(names, entry.spec);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return false;
    return true; // the server unreachable: not a reason to re-run anything
  }
}

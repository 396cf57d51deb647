/**
 * A resumed orchestrator takes back the deliveries its predecessor left in flight (the store's queued
 * and running trials) instead of dispatching them again: each keeps its attempt and token, so a result
 * its worker published while no orchestrator ran, or publishes later, counts. Here: finding each one's
 * message in the work queue (its stream sequence, for a cancel and the trial deadline, and its refusals
 * so far), removing messages of deliveries no longer current (a superseded attempt, a trial not in
 * flight), and telling when the events the predecessor left unread have all been handled (so an
 * adopted delivery whose message is gone and whose result never came can be dispatched again at once).
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { type BusNames, REFUSALS_HEADER } from '../../../shared/protocol/bus.js';
import { parseMessage, validateTrialSpec } from '../../../shared/protocol/validate.js';
import type { RateLimitedLog } from '../../../shared/log/index.js';
import { errorText } from '../../../shared/nats/connection.js';
import type { InFlight } from './deliveries.js';

/** Most messages of one experiment looked at (a bound on a queue filled by someone else). */
const MAX_SCANNED = 100_000;

interface QueuedMessage {
  seq: number;
  trialId?: string;
  attempt?: number;
  refusals: number;
}

/** The experiment's trial messages in the work queue, in stream order. */
async function queuedMessages(
  jsm: JetStreamManager,
  names: BusNames,
  experimentId: string,
): Promise<QueuedMessage[]> {
  const subject = names.experimentTrials(experimentId);
  const found: QueuedMessage[] = [];
  for (let seq = 1; found.length < MAX_SCANNED;) {
    let m;
    try {
      // STREAM.MSG.GET with next_by_subj (nats-server 2.9+, wildcards too): the first message of the
      // experiment's trial subjects (any task route) from seq on.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number };
      m = await jsm.streams.getMessage(names.trialsStream, query);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) break;
      throw err;
    }
    if (!m) break;
    const parsed = parseMessage(m.data, validateTrialSpec);
    found.push({
      seq: m.seq,
      ...(parsed.ok ? { trialId: parsed.value.trial_id, attempt: parsed.value.attempt } : {}),
      refusals: Number(m.header?.get(REFUSALS_HEADER) ?? '0') || 0,
    });
    seq = m.seq + 1;
  }
  return found;
}

/**
 * Gives each adopted delivery of the experiment its queued message (the last one of its trial and
 * attempt), marks those without one `missing`, and deletes the experiment's other trial messages.
 * Returns the adopted deliveries found missing.
 */
export async function reconcileAdopted(
  jsm: JetStreamManager,
  names: BusNames,
  experimentId: string,
  adopted: readonly InFlight[],
): Promise<InFlight[]> {
  const byTrial = new Map(adopted.map((e) => [e.trial_id, e]));
  const stale: number[] = [];
  for (const m of await queuedMessages(jsm, names, experimentId)) {
    const entry = m.trialId === undefined ? undefined : byTrial.get(m.trialId);
    if (!entry || entry.attempt !== m.attempt) {
      // Unreadable messages stay for a worker of their protocol (the orchestrator cannot tell).
      if (m.trialId !== undefined) stale.push(m.seq);
      continue;
    }
    if (entry.seq !== undefined) stale.push(entry.seq);
    entry.seq = m.seq;
    entry.refusals = m.refusals;
  }
  for (const seq of stale) await jsm.streams.deleteMessage(names.trialsStream, seq, false).catch(() => false);
  const missing = adopted.filter((e) => e.seq === undefined);
  for (const e of missing) {
    e.missing = true;
    e.gone = true;
  }
  return missing;
}

/** Whether the experiment's events consumer has nothing left to deliver and nothing unacked. */
async function eventsCaughtUp(
  jsm: JetStreamManager,
  names: BusNames,
  experimentId: string,
): Promise<boolean> {
  const info = await jsm.consumers.info(names.eventsStream, names.orchestratorConsumer(experimentId));
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

export interface SettleMissingOptions {
  jsm: JetStreamManager;
  names: BusNames;
  /** Adopted deliveries found without a message. */
  missing: readonly InFlight[];
  /** Give up waiting for the events at this time (ms): the trial deadline takes over. */
  untilMs: number;
  closing: () => boolean;
  /** Whether the delivery is still its trial's current one. */
  current: (entry: InFlight) => boolean;
  redispatch: (entry: InFlight, why: string) => Promise<void>;
  log: RateLimitedLog;
}

/**
 * Once the events a previous orchestrator left unread are handled, an adopted delivery still missing
 * (no message, no event, no result) is dispatched again. If they are not handled by `untilMs` (a store
 * that cannot write), the trial deadline takes over.
 */
export async function settleMissing(o: SettleMissingOptions): Promise<void> {
  const ids = [...new Set(o.missing.map((e) => e.experimentId))];
  for (;;) {
    if (o.closing() || Date.now() > o.untilMs) return;
    const done = await Promise.all(ids.map((id) => eventsCaughtUp(o.jsm, o.names, id))).then(
      (all) => all.every(Boolean),
      () => false,
    );
    if (done) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const why =
    'its trial message was gone when the orchestrator came back, and no result of it was on the bus';
  for (const e of o.missing) {
    if (o.closing()) return;
    if (!e.missing || !o.current(e)) continue;
    o.log.report(`trial ${e.trial_id} attempt ${e.attempt}: ${why}; dispatching it again`, {
      experiment: e.experiment,
      trial: e.trial_id,
    });
    await o
      .redispatch(e, why)
      .catch((err: unknown) =>
        o.log.report(`could not dispatch trial ${e.trial_id} again: ${errorText(err)}`),
      );
  }
}

/**
 * The orchestrator's durable consumer of one experiment's events (`orch_<id>` on the events stream), and
 * the stream's byte limit.
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { BusNames } from '../../../shared/protocol/bus.js';
import { HpoError, RefusedEventError, RetryLaterError, UsageError } from '../../../shared/errors.js';
import { DEFAULT_EVENTS_MAX_BYTES } from '../../../shared/nats/connection.js';
import { isTransientBusError } from '../../../shared/nats/retry.js';

/**
 * Gives an events stream without a byte limit (created by an older hpo) one, so a client publishing
 * junk cannot fill the server's disk: the oldest events go first past it. A limit set by the operator
 * is kept.
 */
export async function limitEventsStream(
  jsm: JetStreamManager,
  names: BusNames,
  maxBytes: number = DEFAULT_EVENTS_MAX_BYTES,
): Promise<void> {
  const { config } = await jsm.streams.info(names.eventsStream);
  if (config.max_bytes === undefined || config.max_bytes <= 0)
    await jsm.streams.update(names.eventsStream, { ...config, max_bytes: maxBytes });
}

/**
 * Creating or limiting the streams failed: the error, saying what to do when the server has too little
 * JetStream storage for the byte limits (each stream reserves its `max_bytes`).
 */
export function streamSetupError(err: unknown): HpoError {
  if (err instanceof UsageError) return err; // names the setting already (--replicas)
  const why = err instanceof Error ? err.message : String(err);
  const hint = /insufficient/i.test(why) ? ' (lower --events-max-mb, or give JetStream more storage)' : '';
  return new HpoError(`cannot set up the streams: ${why}${hint}`, { cause: err });
}

/**
 * Deliveries of one event to a throwing handler before it is dropped (termed). A handler that cannot
 * write the store (RetryLaterError) is retried with back-off for as long as it takes instead; one whose
 * content the store refuses (RefusedEventError) is dropped on its first failure.
 */
const EVENT_MAX_ATTEMPTS = 5;
/** Back-off of an event whose handler must retry later: 1 s doubling up to this. */
export const RETRY_LATER_MAX_MS = 8000;

/**
 * The nak delay of an event whose handler threw `err` on its `tries`-th delivery, or undefined: drop it
 * (term). The store cannot write: the event is kept (unacked) until it can, however long that takes.
 */
export function retryDelay(err: unknown, tries: number): number | undefined {
  if (err instanceof RefusedEventError) return undefined; // never applicable: dropped at once
  // The store cannot write, or the bus is electing a leader (a cluster losing a server): keep it.
  if (err instanceof RetryLaterError || isTransientBusError(err))
    return Math.min(RETRY_LATER_MAX_MS, 1000 * 2 ** Math.min(tries - 1, 10));
  return tries >= EVENT_MAX_ATTEMPTS ? undefined : 1000;
}

/**
 * Creates the experiment's events consumer if missing and returns its name. `resumed` (an experiment
 * being resumed): a consumer a dead orchestrator left with events unacked is recreated from its ack
 * floor, so they come back at once and in stream order.
 */
export async function ensureEventsConsumer(
  jsm: JetStreamManager,
  names: BusNames,
  id: string,
  resumed: boolean,
  ackWaitMs: number,
): Promise<string> {
  const durable = names.orchestratorConsumer(id);
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: names.eventsFilter(id),
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1000,
  };
  try {
    const info = await jsm.consumers.info(names.eventsStream, durable);
    if (info.num_ack_pending > 0 && resumed) {
      // A previous orchestrator died holding these events: the server would hand them back only after
      // ack_wait, after later ones (a trial's result before its last epoch, whose row would be lost).
      // Replay from the ack floor, in stream order; handlers are idempotent.
      await jsm.consumers.delete(names.eventsStream, durable);
      await jsm.consumers.add(names.eventsStream, {
        ...config,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: info.ack_floor.stream_seq + 1,
      });
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(names.eventsStream, config);
  }
  return durable;
}

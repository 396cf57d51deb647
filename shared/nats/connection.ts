/**
 * What both sides of the NATS transport share: connecting, creating the two streams and the workers'
 * consumer, rate-limited logging of rejected messages, and turning a trial that used up its deliveries
 * (the server's max_deliver advisory) into a failed result. See docs/NATS.md.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  nanos,
} from '@nats-io/transport-node';
import {
  type BusNames,
  LEGACY_WORKERS_CONSUMER,
  isTaskRoute,
  resultMsgId,
  trialRoute,
} from '../protocol/bus.js';
import { failedResult, type ResultEvent } from '../protocol/index.js';
import {
  type Validation,
  decodeJson,
  encodeMessage,
  parseMessage,
  validateTrialSpec,
} from '../protocol/validate.js';
import { errorText, HpoError } from '../errors.js';
import { childLogger } from '../log/index.js';
import { inboxPrefixFor } from './inbox.js';
import { isPlacementError, replicasError } from './replicas.js';
import { retryTransient } from './retry.js';

export type { NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectionOptions {
  /** Server URLs, e.g. `nats://host:4222` or `tls://host:4222`. */
  servers: string[];
  token?: string;
  user?: string;
  pass?: string;
  /** Path of a `.creds` file (JWT + nkey seed). */
  credsFile?: string;
  /** Paths of PEM files. Setting `tls` (even `{}`) requires a TLS connection. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Client name shown in the server's monitoring. */
  name?: string;
  /**
   * Keep trying the first connection this long while no server answers (a service started before
   * its NATS server, as in compose), with a logged backoff of 0.5 s doubling to 5 s. Refusals that
   * waiting cannot fix (authentication, TLS) fail at once. Default 0: fail fast.
   */
  firstConnectRetryMs?: number;
  /** Where retry notes go (default: stderr). */
  log?: (line: string) => void;
  /**
   * Prefix of this client's reply subjects (default `_INBOX.<user>`, or `_INBOX` without a user): the
   * shipped server config lets each user read only its own (inbox.ts).
   */
  inboxPrefix?: string;
}

/** Connection failures that waiting cannot fix. */
const PERMANENT = /auth|permission|certificate|self.signed|tls|credential/i;

/** The TLS alert a server sends when it refuses the client's certificate (or finds none). */
const CLIENT_CERT_REFUSED = /alert (bad certificate|unknown ca|certificate required|handshake failure)/i;

/** A connection error, with what a refused client certificate means (OpenSSL says only the alert). */
function explain(why: string): string {
  if (!CLIENT_CERT_REFUSED.test(why)) return why;
  const alert = /alert [a-z ]+/i.exec(why)![0];
  return `the server refused this client's certificate (TLS ${alert}): none was given, or the CA the server trusts did not sign it (--nats-tls-cert/--nats-tls-key)`;
}

/** Server URLs for logs and errors, with any credentials in them (`nats://user:pass@host`) masked. */
export function displayServers(servers: readonly string[]): string {
  return servers.map((s) => s.replace(/^([a-z]+:\/\/)[^@/\s]*@/i, '$1***@')).join(', ');
}

/**
 * Connects (failing fast with the servers named if none answers), then reconnects forever: a worker or
 * an orchestrator outlives server restarts.
 */
export async function connectNats(options: NatsConnectionOptions): Promise<NatsConnection> {
  if (options.servers.length === 0) throw new HpoError('no NATS server given');
  const opts: NodeConnectionOptions = {
    servers: options.servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // Async stack traces cost an Error (with a captured stack) per request/publish: ~5-8% of CPU profiles.
    noAsyncTraces: true,
    inboxPrefix: options.inboxPrefix ?? inboxPrefixFor(options.user),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
  };
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(options.credsFile);
    } catch (err) {
      throw new HpoError(`cannot read NATS credentials file ${options.credsFile}`, { cause: err });
    }
    opts.authenticator = credsAuthenticator(creds);
  }
  if (options.tls !== undefined) {
    // nats.js hands these to node's tls.connect, which knows maxVersion (nats.js's type does not).
    const tls: NonNullable<NodeConnectionOptions['tls']> & Pick<TlsConnectionOptions, 'maxVersion'> = {
      ...(options.tls.ca === undefined ? {} : { caFile: options.tls.ca }),
      ...(options.tls.cert === undefined ? {} : { certFile: options.tls.cert }),
      ...(options.tls.key === undefined ? {} : { keyFile: options.tls.key }),
      // TLS 1.2: under 1.3 a server that requires client certificates checks them after the handshake,
      // and nats.js then reports a missing or refused one only as a 20 s `timeout` (which --nats-wait
      // retries); under 1.2 the refusal is the handshake's own error, at once (docs/NATS.md "Security").
      maxVersion: 'TLSv1.2',
    };
    opts.tls = tls;
  }
  const deadline = Date.now() + (options.firstConnectRetryMs ?? 0);
  const log = options.log ?? ((line: string) => childLogger({ component: 'nats' }).warn(line));
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await connect(opts);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const left = deadline - Date.now();
      if (PERMANENT.test(why) || left <= 0) {
        throw new HpoError(`cannot connect to NATS at ${displayServers(options.servers)}: ${explain(why)}`, {
          cause: err,
        });
      }
      const pause = Math.min(wait, left);
      log(
        `NATS at ${displayServers(options.servers)} not reachable (${why}); retrying in ${(pause / 1000).toFixed(1)} s ` +
          `(giving up in ${Math.ceil(left / 1000)} s)`,
      );
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Settings of the two streams (only used when this process creates them). */
export interface StreamSettings {
  /** How long epoch/result events are kept (default 7 days). */
  eventsMaxAgeMs?: number;
  /** JetStream de-duplication window for message ids (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Bytes the events stream holds at most (default DEFAULT_EVENTS_MAX_BYTES; the oldest go first). */
  eventsMaxBytes?: number;
  /** Copies JetStream keeps of each stream (default 1; replicas.ts chooses it). */
  replicas?: number;
  /**
   * Bring existing streams to `replicas` (the orchestrator owns this setting; a worker only creates
   * missing streams). Default false.
   */
  updateReplicas?: boolean;
}

const DAY_MS = 24 * 3600 * 1000;
/** Default byte limit of the events stream: 1 GiB (millions of events; a flood cannot fill the disk). */
export const DEFAULT_EVENTS_MAX_BYTES = 1024 ** 3;

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/**
 * Creates the trials (work-queue) and events streams if they do not exist; leaves existing ones alone
 * but for their replica count with `updateReplicas`.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: BusNames,
  settings: StreamSettings = {},
): Promise<void> {
  const dup = nanos(settings.duplicateWindowMs ?? 2 * 60 * 1000);
  const replicas = { replicas: settings.replicas ?? 1, update: settings.updateReplicas ?? false };
  await ensureStream(jsm, replicas, {
    name: names.trialsStream,
    subjects: [names.trialsWildcard],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: dup,
  });
  await ensureStream(jsm, replicas, {
    name: names.eventsStream,
    subjects: [names.eventsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.eventsMaxAgeMs ?? 7 * DAY_MS),
    max_bytes: settings.eventsMaxBytes ?? DEFAULT_EVENTS_MAX_BYTES,
    duplicate_window: dup,
  });
}

/** Copies wanted of a stream, and whether an existing stream is brought to that count. */
export interface ReplicasSetting {
  replicas: number;
  update: boolean;
}

/**
 * Creates a stream with `replicas` copies if missing; with `update`, scales an existing one to that
 * count (JetStream 2.9 adds or removes peers of a running stream; its messages are kept).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  { replicas, update }: ReplicasSetting,
  config: Parameters<JetStreamManager['streams']['add']>[0],
): Promise<void> {
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(config.name)).config;
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
  }
  try {
    if (existing === undefined) await jsm.streams.add({ ...config, num_replicas: replicas });
    else if (update && (existing.num_replicas || 1) !== replicas)
      await jsm.streams.update(config.name, { ...existing, num_replicas: replicas });
  } catch (err) {
    if (isPlacementError(err)) throw replicasError(err, config.name, replicas);
    if (existing !== undefined) throw err;
    // Another process created it meanwhile (possibly with other settings): use theirs.
    await jsm.streams.info(config.name).catch(() => {
      throw err;
    });
  }
}

/**
 * ack_wait of the trial routes' and the events consumers unless told otherwise: how long a silent
 * worker keeps a trial (and the orchestrator an event) before the server delivers it again.
 */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** max_deliver of the trial routes' consumers unless told otherwise. */
export const DEFAULT_MAX_DELIVER = 5;

export interface WorkersConsumerSettings {
  ackWaitMs: number;
  /** Deliveries of one trial message before the server gives up on it (>= 1). */
  maxDeliver: number;
}

/**
 * Creates the durable pull consumer of one task route (`workers_<route>`, filtered to the route's
 * trials) if missing. With `update`, an existing one gets the given ack_wait / max_deliver (the
 * orchestrator owns these settings; workers only create, where their NATS user may). Returns the
 * consumer's actual settings.
 */
export async function ensureWorkersConsumer(
  jsm: JetStreamManager,
  names: BusNames,
  route: string,
  settings: WorkersConsumerSettings,
  update: boolean,
): Promise<WorkersConsumerSettings> {
  const name = names.workersConsumer(route);
  const wanted: Partial<ConsumerConfig> = {
    durable_name: name,
    // One filter subject: nats-server 2.9 knows no filter_subjects.
    filter_subject: names.workersFilter(route),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    // Trials held at once across the fleet (the server's default is 1000), and open pull requests
    // (each worker keeps up to one per slot).
    max_ack_pending: 10_000,
    max_waiting: 4096,
  };
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(names.trialsStream, name);
    if (
      update &&
      (info.config.ack_wait !== wanted.ack_wait || info.config.max_deliver !== wanted.max_deliver)
    ) {
      info = await jsm.consumers.update(names.trialsStream, name, {
        ack_wait: wanted.ack_wait,
        max_deliver: wanted.max_deliver,
      });
    }
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    try {
      info = await jsm.consumers.add(names.trialsStream, wanted);
    } catch (addErr) {
      info = await jsm.consumers.info(names.trialsStream, name).catch(() => {
        throw addErr;
      });
    }
  }
  return consumerSettings(info);
}

/**
 * Deletes the unfiltered `workers` consumer of protocol versions before task routes, if there is one:
 * a work queue accepts no consumer overlapping it, so no task route's consumer could be created beside
 * it. Only the orchestrator may (deploy/nats/). Returns whether it deleted one.
 */
export async function removeLegacyWorkersConsumer(jsm: JetStreamManager, names: BusNames): Promise<boolean> {
  try {
    const info = await jsm.consumers.info(names.trialsStream, LEGACY_WORKERS_CONSUMER);
    if (info.config.filter_subject) return false;
    return await jsm.consumers.delete(names.trialsStream, LEGACY_WORKERS_CONSUMER);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return false;
    throw err;
  }
}

export function consumerSettings(info: ConsumerInfo): WorkersConsumerSettings {
  return {
    ackWaitMs: Math.round((info.config.ack_wait ?? nanos(DEFAULT_ACK_WAIT_MS)) / 1e6),
    maxDeliver: info.config.max_deliver ?? -1,
  };
}

/** Kept here for the NATS code that imports it with the other helpers. */
export { errorText };

/** Kept here for the transports that import it with the other NATS helpers. */
export { failedResult };

/**
 * Publishes a result to the events stream and waits for the stream's ack (de-duplicated by id; a worker
 * passes the delivery of the trial message it ran, see resultMsgId).
 */
export async function publishResult(
  js: JetStreamClient,
  names: BusNames,
  result: ResultEvent,
  delivery?: number,
): Promise<void> {
  await js.publish(names.eventsSubject(result.experiment_id, 'result'), encodeMessage(result), {
    msgID: resultMsgId(result, delivery),
  });
}

interface MaxDeliverAdvisory {
  stream_seq: number;
  deliveries: number;
}

function parseAdvisory(data: Uint8Array): Validation<MaxDeliverAdvisory> {
  const decoded = decodeJson(data);
  if (!decoded.ok) return decoded;
  const v = decoded.value;
  if (typeof v !== 'object' || v === null) return { ok: false, error: 'advisory: expected an object' };
  const seq = (v as Record<string, unknown>).stream_seq;
  const deliveries = (v as Record<string, unknown>).deliveries;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    return { ok: false, error: 'advisory stream_seq: expected a positive integer' };
  }
  return {
    ok: true,
    value: { stream_seq: seq, deliveries: typeof deliveries === 'number' ? deliveries : 0 },
  };
}

export interface GiveUpOptions {
  /** Handle only trial messages of experiments (by bus id) this accepts. */
  accept: (experimentId: string) => boolean;
  /** Name put in the failed result's `worker`. */
  worker: string;
  onError: (message: string) => void;
}

/**
 * The server stops redelivering a trial message after max_deliver deliveries and leaves it in the
 * stream. When every delivery ended with its worker gone (killed, crashed, partitioned past ack_wait),
 * or no worker could read the message (another protocol version), nobody is left to report: on the
 * server's max_deliver advisory, the orchestrator owning the message's subject publishes a failed result
 * for the trial (when it can read it) and deletes the message. Only the orchestrator listens: deleting
 * stream messages is not a worker's right (deploy/nats/). The result's message id makes a second report
 * a duplicate, and deleting an already deleted message is a no-op.
 */
export function watchMaxDeliveries(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: BusNames,
  options: GiveUpOptions,
): { unsubscribe(): void } {
  const sub = nc.subscribe(names.maxDeliveriesAdvisory, {
    callback: (err, msg) => {
      if (err) return;
      const advisory = parseAdvisory(msg.data);
      if (!advisory.ok) return;
      void giveUp(advisory.value).catch((e: unknown) =>
        options.onError(`could not fail trial message ${advisory.value.stream_seq}: ${errorText(e)}`),
      );
    },
  });
  const trialsPrefix = names.trialsWildcard.slice(0, -1); // `<prefix>.trials.`
  const giveUp = async ({ stream_seq, deliveries }: MaxDeliverAdvisory): Promise<void> => {
    const stored = await jsm.streams.getMessage(names.trialsStream, { seq: stream_seq }).catch(() => null);
    if (!stored) return; // already acked, termed or deleted
    // `<prefix>.trials.<id>.<route>`
    const [id = '', route = '', ...rest] = stored.subject.startsWith(trialsPrefix)
      ? stored.subject.slice(trialsPrefix.length).split('.')
      : [];
    if (!isTaskRoute(route) || rest.length > 0 || !options.accept(id)) return; // another orchestrator's trial
    const spec = parseMessage(stored.data, validateTrialSpec);
    if (spec.ok && spec.value.experiment_id === id && trialRoute(spec.value) === route) {
      const error =
        `gave up after ${deliveries} deliveries (max_deliver): every worker that took the trial stopped ` +
        `responding before it ended (killed, crashed or cut off longer than ack_wait), or none could read it`;
      await retryTransient(() => publishResult(js, names, failedResult(spec.value, options.worker, error)), {
        stopped: () => nc.isClosed(),
      });
    }
    await jsm.streams.deleteMessage(names.trialsStream, stream_seq, false).catch(() => false);
  };
  return { unsubscribe: () => sub.unsubscribe() };
}

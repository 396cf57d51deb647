/**
 * The owner lease on the bus, so two machines (two databases) cannot drive one experiment: a
 * JetStream key-value bucket (stream `KV_<prefix>_owners`, one message per key, the layout of a NATS
 * KV bucket) whose key per experiment holds the driver's pid, host and heartbeat time. Writes are
 * compare-and-set on the key's last sequence, so of two drivers starting together one wins. Liveness
 * comes from the heartbeat timestamps, not from per-key TTLs (nats-server 2.9 ignores those).
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream } from '../../../shared/nats/connection.js';
import { retryTransient } from '../../../shared/nats/retry.js';
import { DEFAULT_SUBJECT_PREFIX, isBusId } from '../../../shared/protocol/bus.js';
import { decodeJson, encodeMessage } from '../../../shared/protocol/validate.js';
import {
  type LeaseClock,
  LEASE_HEARTBEAT_MS,
  leaseRefusal,
  type OwnerClaim,
  type OwnerLease,
  parseOwnerLease,
} from '../../store/owner-lease.js';

export interface BusLeaseOptions {
  prefix?: string;
  /** A lease without a heartbeat for this long is expired. */
  staleMs: number;
  /**
   * The experiment's bus id (the key of its lease): two databases holding the same experiment (a copied
   * file) share it; two experiments that only share a name do not.
   */
  experimentId: string;
  /** This machine's host name (a dead pid of this host frees its lease). */
  host: string;
  /** Take over an expired lease. */
  force?: boolean;
  /** Where, for messages (e.g. the server URL). */
  where: string;
  /** Called once if the lease is taken over by another driver (default: nothing). */
  onLost?: (holder: OwnerLease | undefined) => void;
  heartbeatMs?: number;
  /** Copies JetStream keeps of the lease bucket (default 1; an existing bucket is scaled to it). */
  replicas?: number;
}

export interface BusLease {
  lease: OwnerLease;
  /** When the lease was last written on the bus (taken or renewed), ms since the epoch; for readiness. */
  renewedAt(): number;
  /** True once another driver took the lease over. */
  lost(): boolean;
  /** Stops the heartbeat and deletes the lease (best effort). */
  release(): Promise<void>;
}

/** Bucket name for a subject prefix (`hpo` -> `hpo_owners`). */
export function ownersBucket(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_owners`;
}

async function ensureBucket(jsm: JetStreamManager, bucket: string, replicas: number): Promise<string> {
  const stream = `KV_${bucket}`;
  // Another driver may create it meanwhile: ensureStream then uses theirs.
  await ensureStream(
    jsm,
    { replicas, update: true },
    {
      name: stream,
      subjects: [`$KV.${bucket}.>`],
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.New,
      storage: StorageType.File,
      allow_rollup_hdrs: true,
      deny_delete: false,
    },
  );
  return stream;
}

function isWrongSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || /wrong last sequence/i.test(err.message))
  );
}

/** The experiment's key in the owners bucket, and how to read it. */
interface LeaseKey {
  jsm: JetStreamManager;
  js: JetStreamClient;
  stream: string;
  subject: string;
  /** Startup calls retried while a cluster elects a leader (shared/nats/retry.ts). */
  retry: <T>(call: () => Promise<T>) => Promise<T>;
  /** The lease stored now (none: no well-formed one) and its sequence (0: nothing stored). */
  read(): Promise<{ lease?: OwnerLease; seq: number }>;
}

/** Takes the experiment's lease on the bus (OwnerLeaseError if another driver holds it) and renews it. */
export async function acquireBusLease(
  nc: NatsConnection,
  experiment: string,
  claim: OwnerClaim,
  options: BusLeaseOptions,
): Promise<BusLease> {
  const key = await leaseKey(nc, options);
  const { lease, seq } = await writeLease(key, experiment, claim, options);
  return renewLease(key, lease, seq, claim, options);
}

/** Opens the owners bucket (created if missing) at the experiment's key. */
async function leaseKey(nc: NatsConnection, options: BusLeaseOptions): Promise<LeaseKey> {
  const retry = <T>(call: () => Promise<T>) => retryTransient(call, { stopped: () => nc.isClosed() });
  const jsm = await retry(() => jetstreamManager(nc));
  const js: JetStreamClient = jetstream(nc);
  const bucket = ownersBucket(options.prefix);
  const stream = await retry(() => ensureBucket(jsm, bucket, options.replicas ?? 1));
  if (!isBusId(options.experimentId)) throw new Error(`invalid experiment bus id '${options.experimentId}'`);
  const subject = `$KV.${bucket}.${options.experimentId}`;
  const read = async (): Promise<{ lease?: OwnerLease; seq: number }> => {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
      throw err;
    });
    if (!m || m.data.length === 0) return { seq: m?.seq ?? 0 };
    // Anything but a well-formed lease (a status answer a forged reply subject once wrote here) is no
    // lease: it neither refuses a driver nor stops one.
    const decoded = decodeJson(m.data);
    return { lease: decoded.ok ? parseOwnerLease(decoded.value) : undefined, seq: m.seq };
  };
  return { jsm, js, stream, subject, retry, read };
}

/**
 * Writes our lease over what the key holds, unless that refuses us (leaseRefusal); a write raced by
 * another driver reads again. Returns the lease written and its sequence.
 */
async function writeLease(
  { js, subject, retry, read }: LeaseKey,
  experiment: string,
  claim: OwnerClaim,
  options: BusLeaseOptions,
): Promise<{ lease: OwnerLease; seq: number }> {
  for (let tries = 0; ; tries++) {
    const current = await retry(read);
    const now = Date.now();
    const clock: LeaseClock = { now, staleMs: options.staleMs, host: options.host };
    const refusal = leaseRefusal(current.lease, claim, clock, options.force ?? false, `bus ${options.where}`);
    if (refusal) throw refusal;
    const wanted: OwnerLease = { experiment, ...claim, acquired_at: now, heartbeat_at: now };
    try {
      // A retried write that was stored before: wrong last sequence, then read back as our own lease.
      const ack = await retry(() =>
        js.publish(subject, encodeMessage(wanted), { expect: { lastSubjectSequence: current.seq } }),
      );
      return { lease: wanted, seq: ack.seq };
    } catch (err) {
      // Another driver wrote between our read and write: read again (it may now refuse us).
      if (!isWrongSequence(err) || tries >= 3) throw err;
    }
  }
}

/** Renews the held lease every heartbeat until released, or until another driver's lease replaces it. */
function renewLease(
  { jsm, js, stream, subject, read }: LeaseKey,
  held: OwnerLease,
  written: number,
  claim: OwnerClaim,
  options: BusLeaseOptions,
): BusLease {
  let seq = written;
  let stopped = false;
  let renewedAt = Date.now();
  let lostTo = false;
  const timer = setInterval(() => {
    void (async () => {
      const beat: OwnerLease = { ...held, heartbeat_at: Date.now() };
      try {
        const ack = await js.publish(subject, encodeMessage(beat), { expect: { lastSubjectSequence: seq } });
        seq = ack.seq;
        renewedAt = Date.now();
      } catch (err) {
        if (stopped || !isWrongSequence(err)) return; // the bus is away: the lease just ages
        const now = await read().catch(() => undefined);
        if (!now) return; // cannot tell now: the next heartbeat tries again
        if (now.lease === undefined || now.lease.token === claim.token) {
          // Not another driver's lease (deleted, or overwritten with something else): ours again, the
          // next heartbeat writing on top of what is there now.
          seq = now.seq;
          return;
        }
        stopped = true;
        lostTo = true;
        clearInterval(timer);
        options.onLost?.(now.lease);
      }
    })();
  }, options.heartbeatMs ?? LEASE_HEARTBEAT_MS);
  timer.unref();
  return {
    lease: held,
    renewedAt: () => renewedAt,
    lost: () => lostTo,
    async release() {
      stopped = true;
      clearInterval(timer);
      const current = await read().catch(() => undefined);
      if (current?.lease?.token === claim.token) {
        await jsm.streams.deleteMessage(stream, current.seq, false).catch(() => false);
      }
    },
  };
}

/**
 * The orchestrator's record of what it dispatched over the bus: each experiment's bus id and token
 * secret, and each trial in flight with the token minted for its current delivery. Every event, decision
 * request and refusal is checked here before anything acts on it: a message is trusted only with the
 * token of the trial's current delivery (or, for a trial no longer in flight, a token this experiment
 * really minted: a late duplicate, or an event from before the orchestrator restarted). See
 * docs/RELIABILITY.md (threat model).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type TrialSpec, epochLimit } from '../../../shared/protocol/index.js';

/** An experiment as the bus knows it: its display name, bus id and the secret keying its tokens. */
export interface ExperimentKey {
  name: string;
  id: string;
  secret: string;
}

export interface InFlight {
  experiment: string;
  experimentId: string;
  trial_id: string;
  attempt: number;
  token: string;
  /** Highest epoch the trial may report (its `epochs` parameter, capped). */
  maxEpoch: number;
  /** The spec as queued (re-queued after a refusal). */
  spec: TrialSpec;
  /** Stream sequence of the queued trial message (to delete it on a one-trial cancel). */
  seq?: number;
  /** Last sign of life (ms): dispatch, an event of this delivery, or its message seen in the queue. */
  lastSign: number;
  /** Its message was found gone from the queue (and no event came since). */
  gone?: boolean;
  /** A worker reported it started. */
  started?: boolean;
  /** The worker that last reported on this delivery. */
  worker?: string;
  /**
   * Taken back on resume (adopted) with no message in the queue, and no event of it read since: its
   * result may still be among the events left unread, or it is lost.
   */
  missing?: boolean;
  /** Refusals counted so far (the count of the last refusal that re-queued it). */
  refusals?: number;
  /** Workers that reported refusing it (at most 100 names). */
  refusedBy?: string[];
}

/** What a message claims about its delivery. */
export interface DeliveryClaim {
  experiment: string;
  experiment_id: string;
  trial_id: string;
  attempt: number;
  token?: string;
}

/** `current`: the trial's current delivery; `late`: a genuine delivery no longer in flight. */
export type Verdict =
  { ok: true; kind: 'current'; entry: InFlight } | { ok: true; kind: 'late' } | { ok: false; reason: string };

/** The token of one delivery: HMAC-SHA256(secret, `<id>/<trial>/<attempt>`), 22 base64url characters. */
export function mintToken(secret: string, id: string, trialId: string, attempt: number): string {
  return createHmac('sha256', secret).update(`${id}/${trialId}/${attempt}`).digest('base64url').slice(0, 22);
}

function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const key = (id: string, trialId: string) => `${id}\0${trialId}`;

export class Deliveries {
  private readonly keys = new Map<string, ExperimentKey>();
  private readonly running = new Map<string, InFlight>();

  constructor(
    keys: readonly ExperimentKey[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const k of keys) this.keys.set(k.id, k);
  }

  /** The experiment's key; one is made up (random secret) for an experiment first seen in a spec. */
  keyFor(spec: Pick<TrialSpec, 'experiment' | 'experiment_id'>): ExperimentKey {
    let k = this.keys.get(spec.experiment_id);
    if (!k) {
      k = { name: spec.experiment, id: spec.experiment_id, secret: randomBytes(32).toString('hex') };
      this.keys.set(k.id, k);
    }
    return k;
  }

  /** Whether the experiment's key (its token secret) is known. */
  hasKey(id: string): boolean {
    return this.keys.has(id);
  }

  /** Bus ids of the experiments known by that name (usually one). */
  idsOf(name: string): string[] {
    return [...this.keys.values()].filter((k) => k.name === name).map((k) => k.id);
  }

  get size(): number {
    return this.running.size;
  }

  get(id: string, trialId: string): InFlight | undefined {
    return this.running.get(key(id, trialId));
  }

  /** The spec with its delivery token, registered as the trial's current delivery. */
  dispatch(spec: TrialSpec): InFlight {
    const k = this.keyFor(spec);
    const token = mintToken(k.secret, k.id, spec.trial_id, spec.attempt);
    const entry: InFlight = {
      experiment: spec.experiment,
      experimentId: spec.experiment_id,
      trial_id: spec.trial_id,
      attempt: spec.attempt,
      token,
      maxEpoch: epochLimit(spec.params),
      spec: { ...spec, token },
      lastSign: this.now(),
    };
    this.running.set(key(spec.experiment_id, spec.trial_id), entry);
    return entry;
  }

  /** Forgets the delivery (if it is still `entry`, when given). */
  end(id: string, trialId: string, entry?: InFlight): void {
    const k = key(id, trialId);
    if (entry === undefined || this.running.get(k) === entry) this.running.delete(k);
  }

  /** Registers `entry` again as its trial's current delivery, unless another one is current now. */
  restore(entry: InFlight): void {
    const k = key(entry.experimentId, entry.trial_id);
    if (!this.running.has(k)) this.running.set(k, entry);
  }

  /** Every trial in flight. */
  all(): InFlight[] {
    return [...this.running.values()];
  }

  /** In-flight trials of an experiment (all, or the one named). */
  list(id: string, trialId?: string): InFlight[] {
    return [...this.running.values()].filter(
      (t) => t.experimentId === id && (trialId === undefined || t.trial_id === trialId),
    );
  }

  /** Checks a message's claim to a delivery (and an epoch number against the trial's epochs). */
  check(claim: DeliveryClaim, epoch?: number): Verdict {
    const k = this.keys.get(claim.experiment_id);
    if (!k) return { ok: false, reason: `unknown experiment id ${claim.experiment_id}` };
    if (claim.experiment !== k.name) {
      return {
        ok: false,
        reason: `experiment '${claim.experiment}' is not the name of ${claim.experiment_id}`,
      };
    }
    const entry = this.running.get(key(claim.experiment_id, claim.trial_id));
    if (entry) {
      if (claim.attempt !== entry.attempt || !sameToken(claim.token, entry.token)) {
        return {
          ok: false,
          reason: `trial ${claim.trial_id}: not the token of its current delivery (attempt ${entry.attempt})`,
        };
      }
      if (epoch !== undefined && epoch > entry.maxEpoch) {
        return {
          ok: false,
          reason: `trial ${claim.trial_id}: epoch ${epoch} beyond its ${entry.maxEpoch} epochs`,
        };
      }
      entry.lastSign = this.now();
      entry.gone = false;
      entry.missing = false;
      return { ok: true, kind: 'current', entry };
    }
    if (!sameToken(claim.token, mintToken(k.secret, k.id, claim.trial_id, claim.attempt))) {
      return { ok: false, reason: `trial ${claim.trial_id}: a token this orchestrator never minted` };
    }
    return { ok: true, kind: 'late' };
  }
}

/**
 * The fleet's slots as the workers' heartbeats report them, for a NATS transport whose capacity follows
 * the fleet (an adaptive strategy: TPE proposes a trial only when a slot is about to be free, so every
 * proposal sees the results so far and the constant liar counts only the trials really pending).
 *
 * Each heartbeat (`<prefix>.workers.heartbeat`: slots, busy, draining), handed in by the transport's one
 * heartbeat subscription (task-coverage.ts), is read; a worker counts while
 * its last heartbeat is fresher than `staleMs` (default 15 s: three of the workers' 5 s heartbeats), it
 * is not draining, speaks this protocol version and `countsWorker` accepts it (e.g. it offers the
 * experiment's task). Its slots available to this orchestrator are its slots minus the trials it runs for
 * others: `busy` minus what may be this orchestrator's own trials on it (those started there, plus those
 * not reported started yet, which any worker may hold), the smaller of its last two heartbeats' figures
 * (a heartbeat crossing a result on the way is not taken for another search's load). So a fleet shared
 * with another search is not counted twice, and a timing accident errs towards queueing one more trial,
 * never towards an idle slot. A worker that stops
 * heartbeating (killed) drops out after `staleMs`; one that drains says so at once. `onGrow` fires when
 * the available slots grow (a worker joined, another search's trials ended), so the runner proposes.
 */
import type { WorkerHeartbeat } from '../../../shared/protocol/bus.js';
import { PROTOCOL_VERSION } from '../../../shared/protocol/index.js';

export interface FleetSlotsOptions {
  /** A worker without a heartbeat for this long (ms) no longer counts (default 15000). */
  staleMs?: number;
  /** Whether a worker may run this orchestrator's trials (default: every worker). */
  countsWorker?: (hb: WorkerHeartbeat) => boolean;
  /** This orchestrator's trials that may be held by that worker right now. */
  ownOn: (worker: string) => number;
  /** The slots available grew. */
  onGrow: () => void;
  now?: () => number;
}

/** Trials queued ahead of the fleet's slots: a quarter of them, at least 1 while any slot exists. */
export function fleetPrefetch(slots: number): number {
  return slots > 0 ? Math.ceil(slots / 4) : 0;
}

export const DEFAULT_FLEET_STALE_MS = 15_000;

interface Member {
  slots: number;
  /** Trials it ran for others: the smaller figure of its last two heartbeats. */
  othersBusy: number;
  /** The figure of its last heartbeat. */
  lastOthers: number;
  seenAt: number;
}

export class FleetSlots {
  private readonly members = new Map<string, Member>();
  private timer?: NodeJS.Timeout;
  private readonly staleMs: number;
  private readonly now: () => number;
  private last = 0;

  constructor(private readonly options: FleetSlotsOptions) {
    this.staleMs = options.staleMs ?? DEFAULT_FLEET_STALE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Starts forgetting workers that go silent (heartbeats come through heard()). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.expire(), Math.max(250, Math.floor(this.staleMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One heartbeat, validated. */
  heard(hb: WorkerHeartbeat): void {
    const counts = hb.v === PROTOCOL_VERSION && !hb.draining && (this.options.countsWorker?.(hb) ?? true);
    if (!counts) this.members.delete(hb.name);
    else {
      const others = Math.max(0, hb.busy - this.options.ownOn(hb.name));
      const prev = this.members.get(hb.name)?.lastOthers ?? 0;
      this.members.set(hb.name, {
        slots: hb.slots,
        othersBusy: Math.min(prev, others),
        lastOthers: others,
        seenAt: this.now(),
      });
    }
    this.changed();
  }

  /** Slots of the live fleet available to this orchestrator (its own running trials included). */
  slots(): number {
    const now = this.now();
    let total = 0;
    for (const m of this.members.values()) {
      if (now - m.seenAt < this.staleMs) total += Math.max(0, m.slots - m.othersBusy);
    }
    return total;
  }

  /** Workers counted now. */
  workers(): number {
    const now = this.now();
    return [...this.members.values()].filter((m) => now - m.seenAt < this.staleMs).length;
  }

  /** Forgets workers gone stale (exported for tests). */
  expire(): void {
    const now = this.now();
    for (const [name, m] of this.members) if (now - m.seenAt >= this.staleMs) this.members.delete(name);
    this.changed();
  }

  private changed(): void {
    const slots = this.slots();
    const grew = slots > this.last;
    this.last = slots;
    if (grew) this.options.onGrow();
  }
}

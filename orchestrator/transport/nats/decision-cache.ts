/**
 * The scheduler's decision per (trial, attempt, epoch, worker), computed once however often the epoch
 * arrives (a decision request and the same epoch on the events stream share it).
 */
import type { Decision, EpochEvent } from '../../../shared/protocol/index.js';

const trialKey = (id: string, trialId: string) => `${id}\0${trialId}\0`;

export class DecisionCache {
  private readonly decisions = new Map<string, Promise<Decision>>();

  /**
   * The decision for `e`, from `handler` the first time. A handler that throws rejects, and is forgotten:
   * the next arrival of the epoch runs it again.
   */
  async decide(e: EpochEvent, handler: (e: EpochEvent) => Promise<Decision>): Promise<Decision> {
    const k = `${trialKey(e.experiment_id, e.trial_id)}${e.attempt}\0${e.epoch}\0${e.worker}`;
    let decision = this.decisions.get(k);
    if (!decision) {
      decision = handler(e).then((d): Decision => (d === 'stop' ? 'stop' : 'continue'));
      if (this.decisions.size >= 100_000) this.decisions.clear();
      this.decisions.set(k, decision);
    }
    try {
      return await decision;
    } catch (err) {
      if (this.decisions.get(k) === decision) this.decisions.delete(k);
      throw err;
    }
  }

  /** Forgets every decision of a trial (it ended, or is dispatched again). */
  forget(id: string, trialId: string): void {
    const prefix = trialKey(id, trialId);
    for (const k of this.decisions.keys()) if (k.startsWith(prefix)) this.decisions.delete(k);
  }
}

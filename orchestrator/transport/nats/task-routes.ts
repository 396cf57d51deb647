/** The pull consumers of the task routes the orchestrator queues trials on (one per task). */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { BusNames } from '../../../shared/protocol/bus.js';
import { type WorkersConsumerSettings, ensureWorkersConsumer } from '../../../shared/nats/connection.js';

/**
 * Creates a task route's consumer (or gives an existing one the orchestrator's ack_wait / max_deliver)
 * before the first trial of the task is queued; workers may not create consumers (deploy/nats/), so a
 * worker offering the task starts pulling once it exists. Each route once per process, again after a
 * failure.
 */
export class TaskRoutes {
  private readonly ready = new Map<string, Promise<WorkersConsumerSettings>>();

  constructor(
    private readonly names: BusNames,
    private readonly settings: WorkersConsumerSettings,
  ) {}

  async ensure(jsm: JetStreamManager, route: string): Promise<void> {
    let done = this.ready.get(route);
    if (!done) {
      done = ensureWorkersConsumer(jsm, this.names, route, this.settings, true);
      this.ready.set(route, done);
      done.catch(() => this.ready.delete(route));
    }
    await done;
  }
}

/**
 * `hpo_invalid_messages_total{component}`: bus messages rejected by validation. The counts live in the
 * NATS transport (orchestrator) and NatsWorker (worker); this counter follows them at scrape time. One
 * metric per registry, shared by both sides when they run in one process.
 */
import { Counter, type Registry } from 'prom-client';

export type MessageComponent = 'orchestrator' | 'worker';

const NAME = 'hpo_invalid_messages_total';

interface Source {
  read: () => number;
  last: number;
}

class InvalidMessages {
  private readonly sources = new Map<MessageComponent, Source[]>();
  readonly counter: Counter<'component'>;

  constructor(registry: Registry) {
    const sources = this.sources;
    this.counter = new Counter({
      name: NAME,
      help: 'Bus messages rejected by validation, by component (orchestrator or worker).',
      labelNames: ['component'],
      registers: [registry],
      collect() {
        for (const [component, list] of sources) {
          for (const s of list) {
            const now = s.read();
            if (now > s.last) this.inc({ component }, now - s.last);
            s.last = Math.max(s.last, now);
          }
        }
      },
    });
  }

  add(component: MessageComponent, read: () => number): void {
    const list = this.sources.get(component) ?? [];
    list.push({ read, last: 0 });
    this.sources.set(component, list);
    this.counter.inc({ component }, 0);
  }
}

const byRegistry = new WeakMap<Registry, InvalidMessages>();

/**
 * Counts the rejected messages `read()` reports (a monotonic count, e.g. `() => transport.invalidMessages`)
 * under `component`. Registers the metric on first use.
 */
export function trackInvalidMessages(
  registry: Registry,
  component: MessageComponent,
  read: () => number = () => 0,
): void {
  let metric = byRegistry.get(registry);
  if (!metric) {
    metric = new InvalidMessages(registry);
    byRegistry.set(registry, metric);
  }
  metric.add(component, read);
}

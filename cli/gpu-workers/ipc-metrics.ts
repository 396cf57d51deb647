/**
 * Metrics of the GPU worker processes, served by their supervisor on one port: the supervisor asks each
 * process for its registry over the IPC channel (registry.getMetricsAsJSON()) at scrape time and merges
 * them with its own (prom-client's AggregatorRegistry.aggregate: series of different `worker` labels stay
 * apart; process metrics add up). A process that does not answer in time is left out of that scrape.
 */
import type { ChildProcess } from 'node:child_process';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const REQUEST = 'hpo-metrics-request';
const REPLY = 'hpo-metrics';

/** Environment variable a supervisor sets on its GPU worker processes. */
export const GPU_CHILD_ENV = 'HPO_GPU_WORKER_CHILD';

/** In a GPU worker process: answers the supervisor's metrics requests with `registry`. */
export function answerMetricsOverIpc(registry: Registry): void {
  process.on('message', (msg: unknown) => {
    const m = msg as { type?: unknown; id?: unknown } | null;
    if (m?.type !== REQUEST || typeof m.id !== 'number') return;
    const id = m.id;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: REPLY, id, metrics }),
      () => process.send?.({ type: REPLY, id, metrics: [] }),
    );
  });
}

let nextId = 1;

/** Asks one process for its metrics; undefined when it has no channel or does not answer in time. */
export function requestMetrics(child: ChildProcess, timeoutMs: number): Promise<MetricsJson | undefined> {
  if (!child.connected) return Promise.resolve(undefined);
  const id = nextId++;
  return new Promise((resolve) => {
    const done = (value: MetricsJson | undefined) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(value);
    };
    const onMessage = (msg: unknown) => {
      const m = msg as { type?: unknown; id?: unknown; metrics?: unknown } | null;
      if (m?.type === REPLY && m.id === id && Array.isArray(m.metrics)) done(m.metrics as MetricsJson);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    child.on('message', onMessage);
    try {
      child.send({ type: REQUEST, id });
    } catch {
      done(undefined);
    }
  });
}

/** What the metrics server needs of a registry: the supervisor's own plus its processes'. */
export function mergedRegistry(
  own: Registry,
  children: () => ChildProcess[],
  timeoutMs = 2000,
): Pick<Registry, 'metrics' | 'contentType'> {
  return {
    contentType: own.contentType,
    async metrics() {
      const parts = await Promise.all([
        own.getMetricsAsJSON(),
        ...children().map((c) => requestMetrics(c, timeoutMs)),
      ]);
      const present = parts.filter((p): p is MetricsJson => p !== undefined);
      return AggregatorRegistry.aggregate(present).metrics();
    },
  };
}

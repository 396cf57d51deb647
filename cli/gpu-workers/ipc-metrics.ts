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
import { answerOverIpc, askChild } from './ipc-request.js';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const REQUEST = 'hpo-metrics-request';
const REPLY = 'hpo-metrics';

/** Environment variable a supervisor sets on its GPU worker processes. */
export const GPU_CHILD_ENV = 'HPO_GPU_WORKER_CHILD';

/** In a GPU worker process: answers the supervisor's metrics requests with `registry`. */
export function answerMetricsOverIpc(registry: Registry): void {
  answerOverIpc(REQUEST, REPLY, 'metrics', () => registry.getMetricsAsJSON().catch(() => []));
}

/** Asks one process for its metrics; undefined when it has no channel or does not answer in time. */
export function requestMetrics(child: ChildProcess, timeoutMs: number): Promise<MetricsJson | undefined> {
  return askChild(child, {
    request: REQUEST,
    reply: REPLY,
    read: (m) => (Array.isArray(m.metrics) ? (m.metrics as MetricsJson) : undefined),
    timeoutMs,
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

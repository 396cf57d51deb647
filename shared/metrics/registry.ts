/** One Prometheus registry per process, handed to every metrics owner (no global default registry). */
import { Registry, collectDefaultMetrics } from 'prom-client';

/** A fresh registry with the default process metrics (`process_*`, `nodejs_*`) on it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

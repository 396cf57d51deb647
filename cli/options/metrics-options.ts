/** `--metrics-*` options: serve Prometheus metrics at /metrics (docs/METRICS.md). */
import { type Command, InvalidArgumentError } from 'commander';
import type { Registry } from 'prom-client';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from '../../shared/metrics/index.js';
import { DEFAULT_METRICS_RETENTION_SECONDS, DEFAULT_METRICS_TOP } from '../../orchestrator/metrics/index.js';
import { portValue } from './option-values.js';

export interface MetricsFlags {
  metricsPort?: number;
  metricsHost: string;
}

export interface SearchMetricsFlags extends MetricsFlags {
  metricsTop: number;
  metricsRetention: number;
  metricsLinger: number;
}

function nonNegativeInt(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

function nonNegativeSeconds(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds >= 0.');
  return n;
}

/** --metrics-port and --metrics-host (every long-running command). */
export function addMetricsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics at /metrics on this port (0: a free one)',
      portValue,
    )
    .option(
      '--metrics-host <host>',
      'address for --metrics-port (set it explicitly to expose beyond this machine)',
      '127.0.0.1',
    );
}

/** The orchestrator's extra metrics options (`hpo search`, `hpo resume`). */
export function addSearchMetricsOptions(cmd: Command): Command {
  return addMetricsOptions(cmd)
    .option(
      '--metrics-top <n>',
      'finished trials that keep per-trial series, best first',
      nonNegativeInt,
      DEFAULT_METRICS_TOP,
    )
    .option(
      '--metrics-retention <seconds>',
      "drop an experiment's series this long after its run ends",
      nonNegativeSeconds,
      DEFAULT_METRICS_RETENTION_SECONDS,
    )
    .option(
      '--metrics-linger <seconds>',
      'keep serving /metrics this long after the search ends, for a last scrape',
      nonNegativeSeconds,
      0,
    );
}

export interface OpenedMetrics {
  registry: Registry;
  server: MetricsServer;
}

/**
 * Starts the registry and server when --metrics-port is given. The caller prints `announceMetrics()` once
 * its metrics are registered (tests and users read the URL from that line).
 */
export async function openMetrics(flags: MetricsFlags): Promise<OpenedMetrics | undefined> {
  if (flags.metricsPort === undefined) return undefined;
  const registry = createMetricsRegistry();
  const server = await startMetricsServer({ registry, port: flags.metricsPort, host: flags.metricsHost });
  return { registry, server };
}

/** The line naming the metrics URL (stderr). */
export function announceMetrics(metrics: OpenedMetrics | undefined): void {
  if (metrics) process.stderr.write(`hpo: metrics: ${metrics.server.url}\n`);
}

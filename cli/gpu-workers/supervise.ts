/**
 * The supervisor side of `hpo worker --gpus`: starts the GPU worker processes, serves their merged
 * metrics and the GPU gauges on the supervisor's --metrics-port, and stops them on SIGTERM/SIGINT.
 */
import { createMetricsRegistry, startMetricsServer } from '../../shared/metrics/index.js';
import type { Logger } from '../../shared/log/index.js';
import { GpuMetrics } from '../../worker/gpu/gpu-metrics.js';
import type { GpuProcessPlan } from '../../worker/gpu/gpu-plan.js';
import type { MetricsFlags } from '../options/metrics-options.js';
import { mergedRegistry } from './ipc-metrics.js';
import { processesReadiness } from './ipc-readiness.js';
import { GpuWorkerProcesses } from './worker-processes.js';

export interface SuperviseOptions {
  plan: GpuProcessPlan[];
  name: string;
  metrics: MetricsFlags;
  logger: Logger;
}

/** Runs until stopped; resolves with the exit code. */
export async function superviseGpuWorkers(options: SuperviseOptions): Promise<number> {
  const { plan, name, logger } = options;
  const processes = new GpuWorkerProcesses({
    plan,
    args: process.argv.slice(2),
    script: process.argv[1],
    logger,
  });
  const own = createMetricsRegistry();
  let gpuMetrics: GpuMetrics | undefined;
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (options.metrics.metricsPort !== undefined) {
    server = await startMetricsServer({
      registry: mergedRegistry(own, () => processes.children()),
      port: options.metrics.metricsPort,
      host: options.metrics.metricsHost,
      // Ready when every GPU worker process is (each asked over IPC).
      readiness: processesReadiness(() => processes.named()),
    });
    const gpus = [...new Set(plan.map((p) => p.gpu))];
    gpuMetrics = new GpuMetrics({ registry: own, worker: name, gpus, logger });
    process.stderr.write(`hpo: metrics: ${server.url}\n`);
  }
  const gpus = [...new Set(plan.map((p) => p.gpu))].join(',');
  logger.info(
    { gpus, processes: plan.length },
    `hpo worker ${name}: ${plan.length} process(es) on GPU(s) ${gpus}, ` +
      `${plan.reduce((n, p) => n + p.threads, 0)} slot(s) in all`,
  );
  processes.start();
  const stop = () => {
    logger.info('stopping the GPU worker processes (signal again to hand running trials back now)');
    processes.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const code = await processes.done;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  gpuMetrics?.stop();
  await server?.close();
  logger.info(`hpo worker ${name}: every GPU worker process stopped`);
  return code;
}

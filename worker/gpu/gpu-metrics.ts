/**
 * GPU gauges on the worker's /metrics (docs/METRICS.md): utilisation and memory per GPU, polled from
 * nvidia-smi every few seconds (one query at a time, each with a timeout). No nvidia-smi: no gauges and
 * one log line, and polling stops. A failing query (timeout, error) removes the gauges until one succeeds
 * again, so a scrape never shows stale values; it is logged when it starts failing and when it recovers.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../shared/log/index.js';
import { type GpuSample, NvidiaSmiError, queryNvidiaSmi } from './nvidia-smi.js';

export interface GpuMetricsOptions {
  registry: Registry;
  /** The `worker` label. */
  worker: string;
  logger: Logger;
  /** Only these GPU indices (default: every GPU nvidia-smi lists). */
  gpus?: readonly number[];
  /** Default 5000 ms between the end of one query and the start of the next. */
  intervalMs?: number;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Default `nvidia-smi`. */
  command?: string;
}

const LABELS = ['worker', 'gpu'] as const;

export class GpuMetrics {
  private readonly utilization: Gauge<(typeof LABELS)[number]>;
  private readonly used: Gauge<(typeof LABELS)[number]>;
  private readonly total: Gauge<(typeof LABELS)[number]>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  /** Latest samples (the gpu-check reads them); empty before the first successful query. */
  readonly latest: GpuSample[] = [];
  /** Resolves after the first query (samples or not): tests and the gpu-check wait on it. */
  readonly firstPoll: Promise<void>;

  constructor(private readonly options: GpuMetricsOptions) {
    const registers = [options.registry];
    this.utilization = new Gauge({
      name: 'hpo_worker_gpu_utilization_ratio',
      help: 'GPU utilisation (0-1) as nvidia-smi reports it (utilization.gpu over its last sample period).',
      labelNames: LABELS,
      registers,
    });
    this.used = new Gauge({
      name: 'hpo_worker_gpu_memory_used_bytes',
      help: 'GPU memory in use (all processes on the GPU), from nvidia-smi.',
      labelNames: LABELS,
      registers,
    });
    this.total = new Gauge({
      name: 'hpo_worker_gpu_memory_total_bytes',
      help: 'GPU memory in total, from nvidia-smi.',
      labelNames: LABELS,
      registers,
    });
    this.firstPoll = this.poll();
  }

  private async poll(): Promise<void> {
    const { command, timeoutMs, logger } = this.options;
    try {
      const all = await queryNvidiaSmi({ command, timeoutMs });
      const wanted = this.options.gpus;
      const samples = wanted ? all.filter((s) => wanted.includes(s.index)) : all;
      this.set(samples);
      if (this.failing) logger.info(`GPU metrics: ${command ?? 'nvidia-smi'} answers again`);
      this.failing = false;
    } catch (err) {
      this.set([]);
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof NvidiaSmiError && err.kind === 'missing') {
        logger.info(`GPU metrics: ${msg}: no GPU gauges on this worker`);
        return;
      }
      if (!this.failing) logger.warn(`GPU metrics: ${msg}: GPU gauges removed until it answers`);
      this.failing = true;
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.poll(), this.options.intervalMs ?? 5000);
      this.timer.unref();
    }
  }

  private set(samples: GpuSample[]): void {
    for (const g of [this.utilization, this.used, this.total]) g.reset();
    this.latest.splice(0, this.latest.length, ...samples);
    const worker = this.options.worker;
    for (const s of samples) {
      const labels = { worker, gpu: String(s.index) };
      this.utilization.set(labels, s.utilization);
      this.used.set(labels, s.memoryUsedBytes);
      this.total.set(labels, s.memoryTotalBytes);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

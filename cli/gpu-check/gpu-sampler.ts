/** Samples nvidia-smi once a second while the check's search runs: mean and peak per GPU. */
import { type GpuSample, queryNvidiaSmi } from '../../worker/gpu/nvidia-smi.js';

export interface GpuUsage {
  gpu: number;
  samples: number;
  mean_utilization: number;
  max_utilization: number;
  max_memory_used_bytes: number;
  memory_total_bytes: number;
}

export class GpuSampler {
  private readonly all: GpuSample[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = true;

  constructor(private readonly gpus: readonly number[] | undefined) {
    void this.tick();
  }

  private async tick(): Promise<void> {
    try {
      this.all.push(await queryNvidiaSmi({ timeoutMs: 3000 }));
    } catch {
      // No nvidia-smi (the check says so elsewhere), or one slow answer: that second has no sample.
    }
    if (this.running) this.timer = setTimeout(() => void this.tick(), 1000);
  }

  stop(): GpuUsage[] {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    const byGpu = new Map<number, GpuSample[]>();
    for (const round of this.all)
      for (const s of round) {
        if (this.gpus && !this.gpus.includes(s.index)) continue;
        byGpu.set(s.index, [...(byGpu.get(s.index) ?? []), s]);
      }
    return [...byGpu.entries()].map(([gpu, list]) => ({
      gpu,
      samples: list.length,
      mean_utilization: list.reduce((a, s) => a + s.utilization, 0) / list.length,
      max_utilization: Math.max(...list.map((s) => s.utilization)),
      max_memory_used_bytes: Math.max(...list.map((s) => s.memoryUsedBytes)),
      memory_total_bytes: list[list.length - 1].memoryTotalBytes,
    }));
  }
}

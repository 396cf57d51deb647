/**
 * Says where the pool's trial threads run their ops, from what each thread reports with its epochs
 * (EpochUsage.device: TensorFlow's own answer on the tensorflow backends). Logs the first report of each
 * thread and every change (a warning when the worker asked for tensorflow-gpu and TensorFlow found no
 * GPU: its ops then run on the CPU), and with a registry serves `hpo_worker_device_threads`.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../shared/log/index.js';
import type { TrialSpec } from '../../shared/protocol/index.js';
import type { OpsDevice } from '../backends/tf-device.js';
import type { EpochUsage, PoolObserver, PoolTrialEnd } from '../pool/observer.js';

export interface DevicePlacementOptions {
  logger: Logger;
  /** The backend the worker was asked for: `tensorflow-gpu` turns a CPU placement into a warning. */
  backend: string;
  /** With /metrics: the gauge goes here, labelled with `worker`. */
  registry?: Registry;
  worker: string;
}

const DEVICES: OpsDevice[] = ['gpu', 'cpu'];

export class DevicePlacement implements PoolObserver {
  private readonly threads = new Map<number, OpsDevice>();

  constructor(private readonly options: DevicePlacementOptions) {
    const { registry, worker } = options;
    if (!registry) return;
    const threads = this.threads;
    new Gauge({
      name: 'hpo_worker_device_threads',
      help: 'Pool threads by the device their tfjs backend runs ops on (gpu: TensorFlow placed them on a GPU), as last reported with an epoch.',
      labelNames: ['worker', 'device'],
      registers: [registry],
      collect() {
        for (const device of DEVICES) {
          let n = 0;
          for (const d of threads.values()) if (d === device) n++;
          this.set({ worker, device }, n);
        }
      },
    });
  }

  /** Threads per device as last reported. */
  counts(): Record<OpsDevice, number> {
    const out: Record<OpsDevice, number> = { gpu: 0, cpu: 0 };
    for (const d of this.threads.values()) out[d]++;
    return out;
  }

  onEpoch(_spec: TrialSpec, usage: EpochUsage): void {
    const { device, thread } = usage;
    if (device === undefined || this.threads.get(thread) === device) return;
    this.threads.set(thread, device);
    const fields = { thread, device, backend: usage.backend };
    const { logger, backend } = this.options;
    if (device === 'gpu') {
      logger.info(fields, `trial thread ${thread}: TensorFlow runs its ops on a GPU`);
    } else if (backend === 'tensorflow-gpu') {
      logger.warn(
        fields,
        `trial thread ${thread}: backend tensorflow-gpu, but TensorFlow found no GPU: its ops run on the CPU ` +
          '(check the driver, CUDA_VISIBLE_DEVICES and the CUDA libraries; docs/GPU.md)',
      );
    } else {
      logger.debug(fields, `trial thread ${thread}: ops run on the CPU (backend ${usage.backend ?? '?'})`);
    }
  }

  onTrialEnd(_spec: TrialSpec, _end: PoolTrialEnd, thread: { id?: number; gone: boolean }): void {
    if (thread.gone && thread.id !== undefined) this.threads.delete(thread.id);
  }
}

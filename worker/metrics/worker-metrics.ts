/**
 * The worker metrics of docs/METRICS.md (`hpo_worker_*`), kept in the main thread: the pool forwards
 * what its threads report with each epoch (images, epoch time, tfjs memory), and NatsWorker's counters
 * are read at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TrialSpec } from '../../shared/protocol/index.js';
import type { EpochUsage, PoolObserver, PoolTrialEnd } from '../pool/observer.js';
import type { TfjsMemory } from '../backends/tfjs-memory.js';
import { trackInvalidMessages } from '../../shared/metrics/invalid-messages.js';
import { archLabel, backendLabel } from '../../shared/metrics/labels.js';

/** The pool being observed: its slots, trials running now, and an observer hook (TrialPool). */
export interface ObservedPool {
  readonly slots: number;
  busy(): number;
  addObserver(observer: PoolObserver): void;
}

/** NatsWorker counters the metrics follow (NatsWorker.stats()). */
export interface WorkerBusStats {
  invalidMessages: number;
  redelivered: number;
  refused: number;
  busErrors: number;
}

export interface WorkerMetricsOptions {
  registry: Registry;
  /** The `worker` label: the pool's / worker's name. */
  worker: string;
  pool: ObservedPool;
  /** With NATS: the worker's counters (redeliveries, bus and data errors, invalid messages). */
  bus?: () => WorkerBusStats;
}

/** Epoch durations: from a fraction of a second (synthetic, small MLPs) to an hour (large CNNs on cpu). */
export const EPOCH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const TRIAL_ENDS: PoolTrialEnd[] = ['completed', 'stopped', 'failed', 'cancelled'];
const ERROR_KINDS = ['trial', 'bus', 'data'] as const;

export class WorkerMetrics implements PoolObserver {
  private readonly labels: { worker: string };
  private readonly images: Counter<'worker' | 'arch' | 'backend'>;
  private readonly epochSeconds: Histogram<'worker' | 'arch' | 'backend'>;
  private readonly trials: Counter<'worker' | 'state'>;
  private readonly errors: Counter<'worker' | 'kind'>;
  /** Latest tfjs memory of each pool thread, by threadId. */
  private readonly memory = new Map<number, TfjsMemory>();

  constructor(options: WorkerMetricsOptions) {
    const { registry, pool, bus } = options;
    const worker = options.worker;
    this.labels = { worker };
    const registers = [registry];
    const memory = this.memory;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.set({ worker }, read());
        },
      });
    gauge('hpo_worker_slots', 'Trial slots (pool threads) of the worker.', () => pool.slots);
    gauge('hpo_worker_busy_slots', 'Slots running a trial.', () => pool.busy());
    gauge('hpo_worker_tfjs_memory_bytes', 'tfjs memory held by the pool threads (latest per thread).', () =>
      sum(memory, (m) => m.bytes),
    );
    gauge('hpo_worker_tfjs_tensors', 'Live tfjs tensors across the pool threads (latest per thread).', () =>
      sum(memory, (m) => m.tensors),
    );
    this.images = new Counter({
      name: 'hpo_worker_train_images_total',
      help: 'Training images processed (images/s = rate()).',
      labelNames: ['worker', 'arch', 'backend'],
      registers,
    });
    this.epochSeconds = new Histogram({
      name: 'hpo_worker_epoch_duration_seconds',
      help: 'Wall time of each training epoch.',
      labelNames: ['worker', 'arch', 'backend'],
      buckets: EPOCH_BUCKETS,
      registers,
    });
    this.trials = new Counter({
      name: 'hpo_worker_trials_total',
      help: 'Trials this worker ended, by state (completed, stopped, failed, cancelled).',
      labelNames: ['worker', 'state'],
      registers,
    });
    for (const state of TRIAL_ENDS) this.trials.inc({ worker, state }, 0);

    const last = { redelivered: 0, refused: 0, busErrors: 0 };
    const follow = (counter: Counter<string>, labels: Record<string, string>, key: keyof typeof last) => {
      if (!bus) return;
      const now = bus()[key];
      if (now > last[key]) counter.inc(labels, now - last[key]);
      last[key] = Math.max(last[key], now);
    };
    new Counter({
      name: 'hpo_worker_redeliveries_total',
      help: 'Trials received again (JetStream redelivery after a lost worker or an expired ack wait).',
      labelNames: ['worker'],
      registers,
      collect() {
        follow(this, { worker }, 'redelivered');
      },
    }).inc({ worker }, 0);
    this.errors = new Counter({
      name: 'hpo_worker_errors_total',
      help: 'Worker errors by kind: trial (a trial failed), bus (a publish/ack/pull failed), data (data set check refused).',
      labelNames: ['worker', 'kind'],
      registers,
      collect() {
        follow(this, { worker, kind: 'bus' }, 'busErrors');
        follow(this, { worker, kind: 'data' }, 'refused');
      },
    });
    for (const kind of ERROR_KINDS) this.errors.inc({ worker, kind }, 0);
    trackInvalidMessages(registry, 'worker', bus ? () => bus().invalidMessages : undefined);
    pool.addObserver(this);
  }

  onEpoch(spec: TrialSpec, usage: EpochUsage): void {
    const labels = { ...this.labels, arch: archLabel(spec), backend: backendLabel(usage.backend) };
    if (Number.isFinite(usage.seconds) && usage.seconds >= 0)
      this.epochSeconds.observe(labels, usage.seconds);
    if (usage.images !== undefined && usage.images > 0) this.images.inc(labels, usage.images);
    if (usage.tfjs) this.memory.set(usage.thread, usage.tfjs);
  }

  onTrialEnd(
    spec: TrialSpec,
    end: PoolTrialEnd,
    thread: { id?: number; gone: boolean; tfjs?: TfjsMemory },
  ): void {
    this.trials.inc({ ...this.labels, state: end });
    if (end === 'failed') this.errors.inc({ ...this.labels, kind: 'trial' });
    if (thread.id === undefined) return;
    if (thread.gone) this.memory.delete(thread.id);
    else if (thread.tfjs) this.memory.set(thread.id, thread.tfjs);
  }
}

function sum(memory: Map<number, TfjsMemory>, pick: (m: TfjsMemory) => number): number {
  let total = 0;
  for (const m of memory.values()) total += pick(m);
  return total;
}

/**
 * "hpo / Workers": per worker (`hpo worker` processes, and the local pool of `hpo search` without NATS):
 * busy and total slots, images/s, epoch time by architecture, memory, retries, errors. Metric names:
 * docs/METRICS.md. Process metrics (`process_*`, `nodejs_*`) carry no worker label, so they are joined
 * to the worker name through the scrape target (`instance`) that exports `hpo_worker_slots`. The GPU row
 * reads nvidia-smi's gauges of tensorflow-gpu workers (docs/GPU.md) and where each worker's trial threads
 * run their ops.
 */
import { dashboard, type ImportableDashboard, prom, queryVariable, stat, timeseries } from './grafana.js';

const W = 'worker=~"$worker"';

/** Adds the `worker` label to a per-process metric, by scrape target. */
export function byWorker(processMetric: string): string {
  return `${processMetric} * on (instance) group_left (worker) max by (instance, worker) (hpo_worker_slots{${W}})`;
}

export function workers(): ImportableDashboard {
  return dashboard({
    uid: 'hpo-workers',
    title: 'hpo / Workers',
    description:
      'Per worker: busy and total slots, images/s, epoch time by architecture, memory, retries, errors, GPUs.',
    tags: ['hpo'],
    linkTag: 'hpo',
    variables: [
      queryVariable('worker', 'Worker', 'label_values(hpo_worker_slots, worker)', {
        multi: true,
        includeAll: true,
      }),
    ],
    panels: [
      stat({
        title: 'Workers',
        gridPos: { x: 0, y: 0, w: 4, h: 4 },
        targets: [prom(`count(hpo_worker_slots{${W}})`, 'workers')],
      }),
      stat({
        title: 'Slots busy / total',
        gridPos: { x: 4, y: 0, w: 6, h: 4 },
        targets: [
          prom(`sum(hpo_worker_busy_slots{${W}})`, 'busy'),
          prom(`sum(hpo_worker_slots{${W}})`, 'total'),
        ],
      }),
      stat({
        title: 'Slot utilisation',
        gridPos: { x: 10, y: 0, w: 4, h: 4 },
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [prom(`sum(hpo_worker_busy_slots{${W}}) / sum(hpo_worker_slots{${W}})`, 'busy')],
      }),
      stat({
        title: 'Images/s',
        gridPos: { x: 14, y: 0, w: 5, h: 4 },
        decimals: 0,
        unit: 'suffix: img/s',
        targets: [prom(`sum(rate(hpo_worker_train_images_total{${W}}[$__rate_interval]))`, 'images/s')],
      }),
      stat({
        title: 'Trials ended',
        gridPos: { x: 19, y: 0, w: 5, h: 4 },
        targets: [prom(`sum(hpo_worker_trials_total{${W}})`, 'trials')],
      }),
      timeseries({
        title: 'Busy slots per worker',
        gridPos: { x: 0, y: 4, w: 12, h: 8 },
        targets: [
          prom(`hpo_worker_busy_slots{${W}}`, '{{worker}} busy'),
          prom(`hpo_worker_slots{${W}}`, '{{worker}} slots'),
        ],
      }),
      timeseries({
        title: 'Training images/s per worker',
        gridPos: { x: 12, y: 4, w: 12, h: 8 },
        unit: 'suffix: img/s',
        targets: [
          prom(
            `sum by (worker, backend) (rate(hpo_worker_train_images_total{${W}}[$__rate_interval]))`,
            '{{worker}} ({{backend}})',
          ),
        ],
      }),
      timeseries({
        title: 'Images/s by architecture',
        gridPos: { x: 0, y: 12, w: 12, h: 8 },
        unit: 'suffix: img/s',
        targets: [
          prom(
            `sum by (arch, backend) (rate(hpo_worker_train_images_total{${W}}[$__rate_interval]))`,
            '{{arch}} ({{backend}})',
          ),
        ],
      }),
      timeseries({
        title: 'Epoch time by architecture',
        description: 'Mean wall time of the epochs that ended in the window, and the 90th percentile.',
        gridPos: { x: 12, y: 12, w: 12, h: 8 },
        unit: 's',
        targets: [
          prom(
            `sum by (arch, backend) (rate(hpo_worker_epoch_duration_seconds_sum{${W}}[$__rate_interval]))` +
              ` / sum by (arch, backend) (rate(hpo_worker_epoch_duration_seconds_count{${W}}[$__rate_interval]))`,
            'mean {{arch}} ({{backend}})',
          ),
          prom(
            `histogram_quantile(0.9, sum by (le, arch, backend) (rate(hpo_worker_epoch_duration_seconds_bucket{${W}}[$__rate_interval])))`,
            'p90 {{arch}} ({{backend}})',
          ),
        ],
      }),
      timeseries({
        title: 'tfjs memory per worker',
        gridPos: { x: 0, y: 20, w: 8, h: 8 },
        unit: 'bytes',
        targets: [prom(`hpo_worker_tfjs_memory_bytes{${W}}`, '{{worker}}')],
      }),
      timeseries({
        title: 'tfjs tensors per worker',
        gridPos: { x: 8, y: 20, w: 8, h: 8 },
        targets: [prom(`hpo_worker_tfjs_tensors{${W}}`, '{{worker}}')],
      }),
      timeseries({
        title: 'Process memory per worker',
        description: 'Resident set size and V8 heap of the worker process.',
        gridPos: { x: 16, y: 20, w: 8, h: 8 },
        unit: 'bytes',
        targets: [
          prom(byWorker('process_resident_memory_bytes'), '{{worker}} rss'),
          prom(byWorker('nodejs_heap_size_used_bytes'), '{{worker}} heap'),
        ],
      }),
      timeseries({
        title: 'Trials ended per worker',
        gridPos: { x: 0, y: 28, w: 8, h: 8 },
        unit: 'suffix: trials',
        stack: true,
        targets: [
          prom(
            `sum by (worker, state) (increase(hpo_worker_trials_total{${W}}[$__rate_interval]))`,
            '{{worker}} {{state}}',
          ),
        ],
      }),
      timeseries({
        title: 'Retries',
        description:
          'Trials a worker received again (JetStream redelivery after a lost worker or an expired ack wait), ' +
          'and trials the orchestrator re-ran with a new attempt.',
        gridPos: { x: 8, y: 28, w: 8, h: 8 },
        unit: 'suffix: trials',
        targets: [
          prom(
            `sum by (worker) (increase(hpo_worker_redeliveries_total{${W}}[$__rate_interval]))`,
            '{{worker}} redelivered',
          ),
          prom(
            'sum by (experiment) (increase(hpo_trial_retries_total[$__rate_interval]))',
            '{{experiment}} re-run',
          ),
        ],
      }),
      timeseries({
        title: 'Errors',
        description:
          'Worker errors by kind (trial failed, bus publish/ack failed, data set refused), and bus messages ' +
          'rejected by validation.',
        gridPos: { x: 16, y: 28, w: 8, h: 8 },
        unit: 'short',
        targets: [
          prom(
            `sum by (worker, kind) (increase(hpo_worker_errors_total{${W}}[$__rate_interval]))`,
            '{{worker}} {{kind}}',
          ),
          prom(
            'sum by (component) (increase(hpo_invalid_messages_total[$__rate_interval]))',
            'invalid messages ({{component}})',
          ),
          prom(
            'sum by (experiment) (increase(hpo_duplicate_results_total[$__rate_interval]))',
            '{{experiment}} duplicate results',
          ),
        ],
      }),
      timeseries({
        title: 'GPU utilisation',
        description:
          'utilization.gpu of each GPU as nvidia-smi reports it, on tensorflow-gpu workers (a `hpo worker --gpus` ' +
          'supervisor reports its GPUs under its own name).',
        gridPos: { x: 0, y: 36, w: 8, h: 8 },
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [prom(`hpo_worker_gpu_utilization_ratio{${W}}`, '{{worker}} GPU {{gpu}}')],
      }),
      timeseries({
        title: 'GPU memory',
        description: 'Memory in use on each GPU (all processes on it) and its total, from nvidia-smi.',
        gridPos: { x: 8, y: 36, w: 8, h: 8 },
        unit: 'bytes',
        targets: [
          prom(`hpo_worker_gpu_memory_used_bytes{${W}}`, '{{worker}} GPU {{gpu}} used'),
          prom(`hpo_worker_gpu_memory_total_bytes{${W}}`, '{{worker}} GPU {{gpu}} total'),
        ],
      }),
      timeseries({
        title: 'Trial threads by device',
        description:
          'Pool threads by where their backend runs ops: gpu when TensorFlow placed them on a GPU. ' +
          'A tensorflow-gpu worker with cpu threads found no GPU.',
        gridPos: { x: 16, y: 36, w: 8, h: 8 },
        unit: 'short',
        targets: [prom(`sum by (worker, device) (hpo_worker_device_threads{${W}})`, '{{worker}} {{device}}')],
      }),
    ],
  });
}

/**
 * Workers: CPU workers (a Deployment to scale; --concurrency follows the container's CPU limit through the
 * downward API) and GPU workers (deploy/Dockerfile.gpu's image, one pod per GPU on nodes of the NVIDIA
 * device plugin: `nvidia.com/gpu` limit, its taint tolerated, a GPU node selected).
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { IMAGES, labels, PORTS, scrapeAnnotations, selector } from './constants.js';
import {
  hpoContainer,
  type HpoContainerOptions,
  METRICS_PORT,
  natsTls,
  podSecurity,
} from './hpo-container.js';
import { SEARCH_CONFIG } from './orchestrator.js';

/**
 * Workers offer the task modules of the hpo-search ConfigMap (beside the search file, where the
 * orchestrator finds a `task: ./my-task.mjs`), mounted read-only here.
 */
export const TASKS_DIR = '/tasks';
const METRICS_ARGS = [
  '--tasks-dir',
  TASKS_DIR,
  '--metrics-port',
  String(PORTS.metrics),
  '--metrics-host',
  '0.0.0.0',
];

/** The CPU limit of a CPU worker, in cores; its trial threads are as many. */
export const CPU_WORKER_CORES = 2;

export function cpuWorkerArgs(): string[] {
  return ['worker', '--concurrency', '$(HPO_CONCURRENCY)', ...METRICS_ARGS];
}

export function gpuWorkerArgs(): string[] {
  return ['worker', '--backend', 'tensorflow-gpu', '--gpus', 'all', ...METRICS_ARGS];
}

/** What differs between the CPU and the GPU worker's container. */
type WorkerContainer = Pick<HpoContainerOptions, 'image' | 'args' | 'env'> & Pick<IContainer, 'resources'>;

/** A worker Deployment around `container`; the pod drains on SIGTERM (running trials finish or requeue). */
function workerDeployment(
  name: string,
  component: string,
  replicas: number,
  container: WorkerContainer,
  extra: Partial<IPodSpec> = {},
): Deployment {
  const podLabels = labels(name, component);
  const tls = natsTls('worker');
  return new Deployment({
    metadata: { name, labels: podLabels },
    spec: {
      replicas,
      selector: selector(name),
      template: {
        metadata: { labels: podLabels, annotations: scrapeAnnotations(PORTS.metrics) },
        spec: {
          securityContext: podSecurity(),
          terminationGracePeriodSeconds: 300,
          containers: [
            hpoContainer({
              name: 'worker',
              role: 'worker',
              image: container.image,
              args: container.args,
              env: [...dataEnv(), ...(container.env ?? [])],
              sizing: { resources: container.resources, ports: [METRICS_PORT] },
              mounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'tasks', mountPath: TASKS_DIR, readOnly: true },
              ],
            }),
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'tasks', configMap: { name: SEARCH_CONFIG } },
            tls.volume,
          ],
          ...extra,
        },
      },
    },
  });
}

function dataEnv() {
  return [
    { name: 'HPO_DATA_DIR', value: '/data/datasets' },
    { name: 'HPO_MODELS_DIR', value: '/data/models' },
  ];
}

export function workerObjects() {
  const cores = String(CPU_WORKER_CORES);
  const cpu = workerDeployment('hpo-worker', 'worker', 2, {
    image: IMAGES.hpo,
    args: cpuWorkerArgs(),
    env: [
      // The CPU limit in whole cores (rounded up): one trial thread per core the pod may use.
      {
        name: 'HPO_CONCURRENCY',
        valueFrom: { resourceFieldRef: { containerName: 'worker', resource: 'limits.cpu', divisor: '1' } },
      },
    ],
    resources: { requests: { cpu: cores, memory: '2Gi' }, limits: { cpu: cores, memory: '4Gi' } },
  });
  const gpu = workerDeployment(
    'hpo-worker-gpu',
    'worker-gpu',
    0,
    {
      image: IMAGES.hpoGpu,
      args: gpuWorkerArgs(),
      resources: {
        requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': 1 },
        limits: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 },
      },
    },
    {
      // Nodes labelled by NVIDIA GPU feature discovery (GPU operator); GPU nodes are usually tainted.
      nodeSelector: { 'nvidia.com/gpu.present': 'true' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    },
  );
  return [cpu, gpu];
}

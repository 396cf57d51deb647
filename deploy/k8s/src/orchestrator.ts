/**
 * The orchestrator: a Job running `hpo search` over NATS to completion, its SQLite store on a
 * PersistentVolumeClaim (hpo-state), the search file from the hpo-search ConfigMap. A Job, not a
 * Deployment: a finished search exits 0 and must stay finished; a crash (exit != 0) restarts the container
 * in the same pod (restartPolicy OnFailure), whose new process resumes the experiment
 * (--resume-existing; the owner lease names pid 1 of the same pod, recognised as its own earlier life).
 * The store's volume is ReadWriteOnce and the dashboard reads it too, so the Job runs on the dashboard's
 * node (pod affinity).
 */
import { readFileSync } from 'node:fs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { labels, NATS, PORTS, ROOT, scrapeAnnotations, selector } from './constants.js';
import { hpoContainer, METRICS_PORT, natsTls, podSecurity } from './hpo-container.js';

const NAME = 'hpo-orchestrator';
const LABELS = labels(NAME, 'orchestrator');
/** The store's claim, mounted at /state by the orchestrator and (read-only in SQLite) the dashboard. */
export const STATE_CLAIM = 'hpo-state';
export const SEARCH_CONFIG = 'hpo-search';
/** The experiment's name: the Job resumes it after a crash. */
export const EXPERIMENT = 'k8s';

/** hpo's argv in the orchestrator container. */
export function orchestratorArgs(): string[] {
  return [
    'search',
    '/search/search.yaml',
    '--name',
    EXPERIMENT,
    '--resume-existing',
    '--db',
    '/state/hpo.db',
    // Every stream, KV and object store bucket on all three NATS servers (p27a's --replicas).
    '--replicas',
    String(NATS.replicas),
    '--metrics-port',
    String(PORTS.metrics),
    '--metrics-host',
    '0.0.0.0',
    '--http-port',
    String(PORTS.api),
    '--http-host',
    '0.0.0.0',
  ];
}

function job(): Job {
  const tls = natsTls('orchestrator');
  return new Job({
    metadata: { name: NAME, labels: LABELS },
    spec: {
      backoffLimit: 10,
      template: {
        metadata: { labels: LABELS, annotations: scrapeAnnotations(PORTS.metrics) },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurity(),
          terminationGracePeriodSeconds: 60,
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: selector('hpo-dashboard'), topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          containers: [
            hpoContainer({
              name: 'orchestrator',
              role: 'orchestrator',
              args: orchestratorArgs(),
              sizing: {
                ports: [METRICS_PORT, { name: 'api', containerPort: PORTS.api }],
                resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
              },
              mounts: [
                { name: 'state', mountPath: '/state' },
                { name: 'search', mountPath: '/search', readOnly: true },
              ],
            }),
          ],
          volumes: [
            { name: 'state', persistentVolumeClaim: { claimName: STATE_CLAIM } },
            { name: 'search', configMap: { name: SEARCH_CONFIG } },
            tls.volume,
          ],
        },
      },
    },
  });
}

export function orchestratorObjects() {
  return [
    new PersistentVolumeClaim({
      metadata: { name: STATE_CLAIM, labels: LABELS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
    }),
    // The search file: search-spaces/synthetic.yaml; replace it with your own, and add the task modules
    // it names (`task: ./my-task.mjs`): the workers mount this ConfigMap too (deploy/README.md).
    new ConfigMap({
      metadata: { name: SEARCH_CONFIG, labels: LABELS },
      data: { 'search.yaml': readFileSync(`${ROOT}search-spaces/synthetic.yaml`, 'utf8') },
    }),
    job(),
    new Service({
      metadata: { name: NAME, labels: LABELS },
      spec: {
        selector: selector(NAME).matchLabels,
        ports: [
          { name: 'api', port: PORTS.api, targetPort: 'api' },
          { name: 'metrics', port: PORTS.metrics, targetPort: 'metrics' },
        ],
      },
    }),
  ];
}

/** The Kubernetes manifests, by the file `npm run k8s` writes them to under deploy/k8s/. */
import { dashboardObjects } from './dashboard.js';
import { grafanaObjects } from './grafana.js';
import { natsObjects } from './nats.js';
import { networkPolicyObjects } from './network-policies.js';
import { orchestratorObjects } from './orchestrator.js';
import { prometheusObjects } from './prometheus.js';
import { workerObjects } from './workers.js';

export { IMAGES, NATS, NATS_CLIENT_COMPONENTS, PORTS, ROOT } from './constants.js';
export { natsRoutes, natsServerConf } from './nats.js';
export { CPU_WORKER_CORES } from './workers.js';
export { prometheusConfig } from './prometheus.js';

/** A kubernetes-models object: checks itself against the Kubernetes OpenAPI schema. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  validate(): void;
  toJSON(): unknown;
}

/** What each file holds: its header comment and objects. */
export interface ManifestFile {
  about: string;
  objects: Manifest[];
}

export function allManifests(): Record<string, ManifestFile> {
  return {
    'nats.yaml': {
      about: 'NATS: a 3-node JetStream cluster (StatefulSet), the roles of deploy/nats/nats-server.conf',
      objects: natsObjects(),
    },
    'orchestrator.yaml': {
      about: 'The orchestrator: a Job running hpo search over NATS, its store on the hpo-state claim',
      objects: orchestratorObjects(),
    },
    'dashboard.yaml': {
      about: 'The live web dashboard (hpo dashboard) over the store',
      objects: dashboardObjects(),
    },
    'workers.yaml': { about: 'CPU and GPU workers', objects: workerObjects() },
    'prometheus.yaml': { about: 'Prometheus, scraping the annotated hpo pods', objects: prometheusObjects() },
    'grafana.yaml': {
      about: 'Grafana with the data source and dashboards/*.json',
      objects: grafanaObjects(),
    },
    'network-policies.yaml': {
      about: 'Only the hpo roles reach NATS',
      objects: networkPolicyObjects(),
    },
  };
}

/**
 * Names, labels, ports and images shared by the Kubernetes manifests (deploy/k8s/src/). Every object is
 * namespace-free (`kubectl apply -k deploy/k8s` into the namespace of your choice, or set one in the
 * kustomization) and names the others by their short service names.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/deploy/k8s/src/). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;

/** Pinned images: hpo's are deploy/Dockerfile and deploy/Dockerfile.gpu pushed to your registry. */
export const IMAGES = {
  hpo: `registry.example/hpo:${VERSION}`,
  hpoGpu: `registry.example/hpo-gpu:${VERSION}`,
  // The 2.9 line, as the tests' nats-server (Debian 2.9.10) and deploy/docker-compose.yml.
  nats: 'nats:2.9.25-alpine',
  prometheus: 'prom/prometheus:v2.53.0',
  grafana: 'grafana/grafana:12.1.0',
} as const;

/** Ports: hpo processes serve /metrics, /healthz and /readyz on METRICS. */
export const PORTS = {
  metrics: 9464,
  api: 8080,
  dashboard: 8081,
  natsClient: 4222,
  natsCluster: 6222,
  natsMonitor: 8222,
  prometheus: 9090,
  grafana: 3000,
} as const;

/** NATS: the StatefulSet, its headless service (pod DNS names for the routes) and its client service. */
export const NATS = {
  name: 'nats',
  headless: 'nats-headless',
  replicas: 3,
  /** Mutual TLS on the client port: the server certificate names `nats` (deploy/README.md). */
  url: 'tls://nats:4222',
  /** The Secret the user creates with the three role passwords (deploy/README.md). */
  secret: 'hpo-nats',
  /** The Secrets of certificates (deploy/tls/make-dev-ca.sh's file names): the server's, and one per role. */
  serverTlsSecret: 'hpo-nats-tls-server',
  clientTlsSecretPrefix: 'hpo-nats-tls-',
} as const;

/** The hpo roles allowed to reach NATS (the NetworkPolicy), by their `app.kubernetes.io/component`. */
export const NATS_CLIENT_COMPONENTS = ['orchestrator', 'worker', 'worker-gpu', 'dashboard'] as const;

export const PART_OF = 'hpo';

/** The labels of one component; `app.kubernetes.io/name` alone is its selector. */
export function labels(name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
  };
}

export function selector(name: string): { matchLabels: Record<string, string> } {
  return { matchLabels: { 'app.kubernetes.io/name': name } };
}

/** Annotations for the Prometheus of prometheus.ts (it keeps pods that carry them). */
export function scrapeAnnotations(port: number): Record<string, string> {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': '/metrics',
  };
}

/**
 * The parts every hpo container shares: the NATS login of its role (password from the hpo-nats Secret,
 * client certificate from hpo-nats-tls-<role>),
 * the health probes on its metrics port and an unprivileged security context; `hpoContainer` puts them
 * together (the orchestrator's, the dashboard's and the workers' containers).
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { IMAGES, NATS, PORTS } from './constants.js';

/** The NATS users of deploy/nats/nats-server.conf. */
export type NatsRole = 'orchestrator' | 'worker' | 'viewer';

/** The Secret key holding a role's password (`kubectl create secret generic hpo-nats ...`). */
export function passwordKey(role: NatsRole): string {
  return `${role}-password`;
}

/** Where an hpo container finds its role's certificate, key and the CA (the Secret hpo-nats-tls-<role>). */
const TLS_DIR = '/etc/hpo/tls';

/** HPO_NATS_URL/USER/PASS and the TLS files for a client logged in as `role`. */
export function natsEnv(role: NatsRole): IEnvVar[] {
  return [
    { name: 'HPO_NATS_URL', value: NATS.url },
    { name: 'HPO_NATS_USER', value: role },
    { name: 'HPO_NATS_PASS', valueFrom: { secretKeyRef: { name: NATS.secret, key: passwordKey(role) } } },
    { name: 'HPO_NATS_TLS_CA', value: `${TLS_DIR}/ca.pem` },
    { name: 'HPO_NATS_TLS_CERT', value: `${TLS_DIR}/${role}.pem` },
    { name: 'HPO_NATS_TLS_KEY', value: `${TLS_DIR}/${role}.key` },
  ];
}

/**
 * The role's client certificate Secret as a volume, readable by the pod's group (fsGroup) only, and its
 * mount at TLS_DIR.
 */
export function natsTls(role: NatsRole): { volume: IVolume; mount: IVolumeMount } {
  return {
    volume: {
      name: 'nats-tls',
      secret: { secretName: NATS.clientTlsSecretPrefix + role, defaultMode: 0o440 },
    },
    mount: { name: 'nats-tls', mountPath: TLS_DIR, readOnly: true },
  };
}

function httpGet(path: string, port: string | number): Pick<IProbe, 'httpGet'> {
  return { httpGet: { path, port } };
}

/**
 * /healthz (alive) and /readyz (connected to NATS, store writable, lease held; a worker: pool started) on
 * the metrics port. The startup probe gives a worker time to build its data set before liveness counts.
 */
export function hpoProbes(): Pick<IContainer, 'startupProbe' | 'livenessProbe' | 'readinessProbe'> {
  return {
    startupProbe: { ...httpGet('/healthz', 'metrics'), periodSeconds: 5, failureThreshold: 60 },
    livenessProbe: {
      ...httpGet('/healthz', 'metrics'),
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    readinessProbe: {
      ...httpGet('/readyz', 'metrics'),
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  };
}

/** Probes on an HTTP path of a named port (the dashboard, Prometheus, Grafana, NATS). */
export function httpProbes(
  live: string,
  ready: string,
  port: string,
): Pick<IContainer, 'livenessProbe' | 'readinessProbe'> {
  return {
    livenessProbe: { ...httpGet(live, port), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    readinessProbe: { ...httpGet(ready, port), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

/** The images' unprivileged user (node, uid 1000), owning the mounted volumes. */
export function podSecurity(uid = 1000): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export const CONTAINER_SECURITY: IContainer['securityContext'] = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

/** The metrics port, named `metrics` (the probes and Prometheus's annotations use it). */
export const METRICS_PORT = { name: 'metrics', containerPort: PORTS.metrics };

export interface HpoContainerOptions {
  name: string;
  /** Its NATS login: the variables of natsEnv(role) and the certificate mount of natsTls(role). */
  role: NatsRole;
  /** Default: IMAGES.hpo. */
  image?: string;
  args: string[];
  /** Variables after the NATS login's. */
  env?: IEnvVar[];
  /** Its ports and resources, placed in the order given (the manifests keep their key order). */
  sizing: Pick<IContainer, 'ports' | 'resources'>;
  /** Default: hpoProbes() (the metrics port's /healthz and /readyz). */
  probes?: Pick<IContainer, 'startupProbe' | 'livenessProbe' | 'readinessProbe'>;
  /** Volume mounts before the NATS certificate's. */
  mounts: IVolumeMount[];
}

/** An hpo container: image, args, NATS login, unprivileged, probed; its pod adds natsTls(role).volume. */
export function hpoContainer(options: HpoContainerOptions): IContainer {
  return {
    name: options.name,
    image: options.image ?? IMAGES.hpo,
    args: options.args,
    env: [...natsEnv(options.role), ...(options.env ?? [])],
    ...options.sizing,
    securityContext: CONTAINER_SECURITY,
    ...(options.probes ?? hpoProbes()),
    volumeMounts: [...options.mounts, natsTls(options.role).mount],
  };
}

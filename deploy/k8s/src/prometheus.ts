/**
 * Prometheus: scrapes every pod of the namespace that carries the prometheus.io annotations (the
 * orchestrator and the workers, on their metrics port), with the job names of the compose stack
 * (hpo-orchestrator, hpo-worker), so the dashboards read the same series. Its service account may only
 * list and watch the namespace's pods.
 */
import { stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { IMAGES, labels, PORTS, selector } from './constants.js';
import { CONTAINER_SECURITY, httpProbes, podSecurity } from './hpo-container.js';

const NAME = 'prometheus';
const LABELS = labels(NAME, 'prometheus');

/** prometheus.yml: pod discovery in the own namespace, kept by annotation, job from the component label. */
export function prometheusConfig(): Record<string, unknown> {
  return {
    global: { scrape_interval: '5s', evaluation_interval: '15s' },
    scrape_configs: [
      {
        job_name: 'hpo',
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { own_namespace: true } }],
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
            action: 'keep',
            regex: 'true',
          },
          {
            source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
            regex: '([^:]+)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          {
            source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
            regex: '(.+)',
            target_label: '__metrics_path__',
          },
          // orchestrator -> hpo-orchestrator; worker, worker-gpu -> hpo-worker (deploy/prometheus/prometheus.yml).
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'],
            regex: '(orchestrator|worker)(-gpu)?',
            replacement: 'hpo-$1',
            target_label: 'job',
          },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PORTS.prometheus}`] }] },
    ],
  };
}

function deployment(): Deployment {
  return new Deployment({
    metadata: { name: NAME, labels: LABELS },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: selector(NAME),
      template: {
        metadata: { labels: LABELS },
        spec: {
          serviceAccountName: NAME,
          // The image's nobody user.
          securityContext: podSecurity(65534),
          containers: [
            {
              name: 'prometheus',
              image: IMAGES.prometheus,
              args: [
                '--config.file=/etc/prometheus/prometheus.yml',
                '--storage.tsdb.path=/prometheus',
                '--storage.tsdb.retention.time=30d',
              ],
              ports: [{ name: 'http', containerPort: PORTS.prometheus }],
              resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '2Gi' } },
              securityContext: CONTAINER_SECURITY,
              ...httpProbes('/-/healthy', '/-/ready', 'http'),
              volumeMounts: [
                { name: 'config', mountPath: '/etc/prometheus', readOnly: true },
                { name: 'data', mountPath: '/prometheus' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: 'prometheus-config' } },
            { name: 'data', persistentVolumeClaim: { claimName: 'prometheus-data' } },
          ],
        },
      },
    },
  });
}

export function prometheusObjects() {
  return [
    new ConfigMap({
      metadata: { name: 'prometheus-config', labels: LABELS },
      data: { 'prometheus.yml': stringify(prometheusConfig()) },
    }),
    new ServiceAccount({ metadata: { name: NAME, labels: LABELS } }),
    new Role({
      metadata: { name: NAME, labels: LABELS },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    }),
    new RoleBinding({
      metadata: { name: NAME, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME }],
    }),
    new PersistentVolumeClaim({
      metadata: { name: 'prometheus-data', labels: LABELS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
    }),
    deployment(),
    new Service({
      metadata: { name: NAME, labels: LABELS },
      spec: {
        selector: selector(NAME).matchLabels,
        ports: [{ name: 'http', port: PORTS.prometheus, targetPort: 'http' }],
      },
    }),
  ];
}

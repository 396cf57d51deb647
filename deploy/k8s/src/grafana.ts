/**
 * Grafana: provisioned with deploy/grafana/provisioning (the Prometheus data source, uid hpo-prometheus,
 * at http://prometheus:9090, and the dashboard provider) and the dashboards of dashboards/*.json, each a
 * ConfigMap entry. Anonymous viewers; the admin password comes from the hpo-grafana Secret.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { IMAGES, labels, PORTS, ROOT, selector } from './constants.js';
import { CONTAINER_SECURITY, httpProbes, podSecurity } from './hpo-container.js';

const NAME = 'grafana';
const LABELS = labels(NAME, 'grafana');
/** The Secret the user creates with the admin password (key admin-password). */
export const GRAFANA_SECRET = 'hpo-grafana';
const PROVISIONING = `${ROOT}deploy/grafana/provisioning/`;
/** Where the provider of deploy/grafana/provisioning/dashboards/hpo.yml loads dashboards from. */
const DASHBOARDS_PATH = '/var/lib/grafana/dashboards/hpo';

function filesOf(dir: string, ext: string): Record<string, string> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
  return Object.fromEntries(files.map((f) => [f, readFileSync(`${dir}/${f}`, 'utf8')]));
}

/** The three ConfigMaps and where the Deployment mounts each. */
const CONFIG_MAPS = [
  {
    name: 'grafana-datasources',
    path: '/etc/grafana/provisioning/datasources',
    data: () => filesOf(`${PROVISIONING}datasources`, '.yml'),
  },
  {
    name: 'grafana-dashboard-providers',
    path: '/etc/grafana/provisioning/dashboards',
    data: () => filesOf(`${PROVISIONING}dashboards`, '.yml'),
  },
  { name: 'grafana-dashboards', path: DASHBOARDS_PATH, data: () => filesOf(`${ROOT}dashboards`, '.json') },
];

function deployment(): Deployment {
  return new Deployment({
    metadata: { name: NAME, labels: LABELS },
    spec: {
      replicas: 1,
      selector: selector(NAME),
      template: {
        metadata: { labels: LABELS },
        spec: {
          // The image's grafana user.
          securityContext: podSecurity(472),
          containers: [
            {
              name: 'grafana',
              image: IMAGES.grafana,
              env: [
                { name: 'GF_AUTH_ANONYMOUS_ENABLED', value: 'true' },
                { name: 'GF_AUTH_ANONYMOUS_ORG_ROLE', value: 'Viewer' },
                {
                  name: 'GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH',
                  value: `${DASHBOARDS_PATH}/search-overview.json`,
                },
                {
                  name: 'GF_SECURITY_ADMIN_PASSWORD',
                  valueFrom: { secretKeyRef: { name: GRAFANA_SECRET, key: 'admin-password' } },
                },
              ],
              ports: [{ name: 'http', containerPort: PORTS.grafana }],
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
              securityContext: CONTAINER_SECURITY,
              ...httpProbes('/api/health', '/api/health', 'http'),
              volumeMounts: [
                ...CONFIG_MAPS.map((c) => ({ name: c.name, mountPath: c.path, readOnly: true })),
                { name: 'data', mountPath: '/var/lib/grafana' },
              ],
            },
          ],
          // Everything Grafana shows is provisioned; edits in its UI last until the pod goes.
          volumes: [
            ...CONFIG_MAPS.map((c) => ({ name: c.name, configMap: { name: c.name } })),
            { name: 'data', emptyDir: {} },
          ],
        },
      },
    },
  });
}

export function grafanaObjects() {
  return [
    ...CONFIG_MAPS.map((c) => new ConfigMap({ metadata: { name: c.name, labels: LABELS }, data: c.data() })),
    deployment(),
    new Service({
      metadata: { name: NAME, labels: LABELS },
      spec: {
        selector: selector(NAME).matchLabels,
        ports: [{ name: 'http', port: PORTS.grafana, targetPort: 'http' }],
      },
    }),
  ];
}

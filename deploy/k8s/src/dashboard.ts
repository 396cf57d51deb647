/**
 * The live web dashboard (`hpo dashboard`) over the orchestrator's store, with the fleet from the bus as
 * the viewer user. It opens the database read-only in SQLite but mounts the volume read-write: a reader
 * of a WAL database writes the shared-memory index beside it (-shm). It waits for the orchestrator to
 * create the store, and stays up after the search ends.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { IMAGES, labels, PORTS, selector } from './constants.js';
import { CONTAINER_SECURITY, hpoContainer, httpProbes, natsTls, podSecurity } from './hpo-container.js';
import { STATE_CLAIM } from './orchestrator.js';

const NAME = 'hpo-dashboard';
const LABELS = labels(NAME, 'dashboard');

export function dashboardArgs(): string[] {
  return ['dashboard', '--db', '/state/hpo.db', '--port', String(PORTS.dashboard), '--host', '0.0.0.0'];
}

function deployment(): Deployment {
  const volumeMounts = [{ name: 'state', mountPath: '/state' }];
  const tls = natsTls('viewer');
  return new Deployment({
    metadata: { name: NAME, labels: LABELS },
    spec: {
      replicas: 1,
      // One pod at a time on the ReadWriteOnce volume.
      strategy: { type: 'Recreate' },
      selector: selector(NAME),
      template: {
        metadata: { labels: LABELS },
        spec: {
          securityContext: podSecurity(),
          initContainers: [
            {
              name: 'wait-for-store',
              image: IMAGES.hpo,
              command: [
                'sh',
                '-c',
                'until [ -s /state/hpo.db ]; do echo waiting for /state/hpo.db; sleep 5; done',
              ],
              resources: {
                requests: { cpu: '10m', memory: '16Mi' },
                limits: { cpu: '100m', memory: '64Mi' },
              },
              securityContext: CONTAINER_SECURITY,
              volumeMounts,
            },
          ],
          containers: [
            hpoContainer({
              name: 'dashboard',
              role: 'viewer',
              args: dashboardArgs(),
              sizing: {
                ports: [{ name: 'http', containerPort: PORTS.dashboard }],
                resources: {
                  requests: { cpu: '100m', memory: '256Mi' },
                  limits: { cpu: '1', memory: '1Gi' },
                },
              },
              probes: httpProbes('/api/experiments', '/api/experiments', 'http'),
              mounts: volumeMounts,
            }),
          ],
          volumes: [{ name: 'state', persistentVolumeClaim: { claimName: STATE_CLAIM } }, tls.volume],
        },
      },
    },
  });
}

export function dashboardObjects() {
  return [
    deployment(),
    new Service({
      metadata: { name: NAME, labels: LABELS },
      spec: {
        selector: selector(NAME).matchLabels,
        ports: [{ name: 'http', port: PORTS.dashboard, targetPort: 'http' }],
      },
    }),
  ];
}

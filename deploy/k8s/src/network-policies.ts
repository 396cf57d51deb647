/**
 * NetworkPolicies: only the hpo roles (orchestrator, workers, dashboard: their app.kubernetes.io/component)
 * reach the NATS client port, and only the NATS pods each other's cluster port. The monitoring port
 * (probes from the kubelet) is not opened to pods. They take effect with a CNI that enforces
 * NetworkPolicy (Calico, Cilium, ...).
 */
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { labels, NATS, NATS_CLIENT_COMPONENTS, PART_OF, PORTS, selector } from './constants.js';

export function networkPolicyObjects() {
  return [
    new NetworkPolicy({
      metadata: { name: 'nats-clients', labels: labels(NATS.name, 'nats') },
      spec: {
        podSelector: selector(NATS.name),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchLabels: { 'app.kubernetes.io/part-of': PART_OF },
                  matchExpressions: [
                    {
                      key: 'app.kubernetes.io/component',
                      operator: 'In',
                      values: [...NATS_CLIENT_COMPONENTS],
                    },
                  ],
                },
              },
            ],
            ports: [{ protocol: 'TCP', port: PORTS.natsClient }],
          },
          {
            from: [{ podSelector: selector(NATS.name) }],
            ports: [{ protocol: 'TCP', port: PORTS.natsCluster }],
          },
        ],
      },
    }),
  ];
}

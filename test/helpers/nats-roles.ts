/**
 * The shipped least-privilege NATS setup (deploy/nats/nats-server.conf) for tests: its file, passwords
 * for its three users (the file reads them from the environment), and the environment that makes an
 * `hpo` process connect as one of them.
 */
import { fileURLToPath } from 'node:url';

export const ROLES_CONFIG = fileURLToPath(new URL('../../../deploy/nats/nats-server.conf', import.meta.url));

export type Role = 'orchestrator' | 'worker' | 'viewer';

/** The server's environment: a password per role. */
export const ROLE_PASSWORDS = {
  HPO_NATS_ORCHESTRATOR_PASSWORD: 'orch-pw-5521',
  HPO_NATS_WORKER_PASSWORD: 'work-pw-7730',
  HPO_NATS_VIEWER_PASSWORD: 'view-pw-1184',
};

/** The environment of an `hpo` process connecting as `user`. */
export function asRole(user: Role): { HPO_NATS_USER: string; HPO_NATS_PASS: string } {
  return {
    HPO_NATS_USER: user,
    HPO_NATS_PASS: ROLE_PASSWORDS[`HPO_NATS_${user.toUpperCase()}_PASSWORD` as keyof typeof ROLE_PASSWORDS],
  };
}

/**
 * The shipped least-privilege NATS setup (deploy/nats/nats-server.conf) for tests: its file, passwords
 * for its three users (the file reads them from the environment), and the environment that makes an
 * `hpo` process connect as one of them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '../../shared/nats/index.js';

export const ROLES_CONFIG = fileURLToPath(new URL('../../../deploy/nats/nats-server.conf', import.meta.url));

export type Role = 'orchestrator' | 'worker' | 'viewer';

/** deploy/nats/worker-users.sh: one user per worker machine. */
export const WORKER_USERS_SCRIPT = fileURLToPath(
  new URL('../../../deploy/nats/worker-users.sh', import.meta.url),
);

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

/** Resolves with the first permission error the server reports to this connection (or null after ms). */
export async function permissionError(nc: NatsConnection, ms = 3000): Promise<string | null> {
  const status = nc.status();
  const timer = new Promise<null>((r) => setTimeout(() => r(null), ms));
  const seen = (async () => {
    for await (const s of status) {
      const text = JSON.stringify(s);
      if (/permission/i.test(text)) return text;
    }
    return null;
  })();
  return Promise.race([seen, timer]);
}

/**
 * deploy/nats/nats-server.conf with one user per worker name added the documented way (the entries
 * deploy/nats/worker-users.sh prints, in the `users` list), and the server environment with their
 * passwords; `asWorker(name)` is the environment of an `hpo worker` logged in as one of them.
 */
export function withWorkerUsers(names: string[]): {
  config: string;
  env: Record<string, string>;
  asWorker(name: string): { HPO_NATS_USER: string; HPO_NATS_PASS: string };
} {
  const entries = execFileSync(WORKER_USERS_SCRIPT, names, { encoding: 'utf8' });
  const base = readFileSync(ROLES_CONFIG, 'utf8');
  if (!base.includes('  users = [\n')) throw new Error('no users list in the roles config');
  const password = (name: string) => `pw-${name}-9931`;
  const env: Record<string, string> = { ...ROLE_PASSWORDS };
  for (const n of names) env[`HPO_NATS_WORKER_${n.toUpperCase().replace(/-/g, '_')}_PASSWORD`] = password(n);
  return {
    config: base.replace('  users = [\n', `  users = [\n${entries}`),
    env,
    asWorker: (name) => ({ HPO_NATS_USER: `worker-${name}`, HPO_NATS_PASS: password(name) }),
  };
}

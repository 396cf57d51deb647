/**
 * NATS connection flags shared by every command that talks to the bus. Each flag falls back to an
 * environment variable, so secrets need not appear on command lines (and never appear in logs).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../../shared/errors.js';
import type { NatsConnectionOptions } from '../../worker/nats/index.js';
import { replicasProblem } from '../../shared/nats/replicas.js';

export interface NatsFlags {
  nats?: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

export const NATS_ENV: Record<keyof NatsFlags, string> = {
  nats: 'HPO_NATS_URL',
  natsToken: 'HPO_NATS_TOKEN',
  natsUser: 'HPO_NATS_USER',
  natsPass: 'HPO_NATS_PASS',
  natsCreds: 'HPO_NATS_CREDS',
  natsTlsCa: 'HPO_NATS_TLS_CA',
  natsTlsCert: 'HPO_NATS_TLS_CERT',
  natsTlsKey: 'HPO_NATS_TLS_KEY',
};

export function addNatsOptions(cmd: Command, required = false): Command {
  return cmd
    .option(
      '--nats <urls>',
      `NATS server URL(s), comma-separated (env ${NATS_ENV.nats})${required ? '' : '; without it: this machine only'}`,
    )
    .option('--nats-token <token>', `auth token (env ${NATS_ENV.natsToken})`)
    .option('--nats-user <user>', `user name (env ${NATS_ENV.natsUser})`)
    .option('--nats-pass <password>', `password (env ${NATS_ENV.natsPass})`)
    .option('--nats-creds <file>', `.creds file (env ${NATS_ENV.natsCreds})`)
    .option('--nats-tls-ca <file>', `CA certificate to verify the server (env ${NATS_ENV.natsTlsCa})`)
    .option('--nats-tls-cert <file>', `client certificate (env ${NATS_ENV.natsTlsCert})`)
    .option('--nats-tls-key <file>', `client key (env ${NATS_ENV.natsTlsKey})`);
}

/** Connection settings from flags and environment (the client name is added by each command). */
export type NatsConnectionSettings = Omit<NatsConnectionOptions, 'name'>;

/** Flags merged with the environment; undefined when no server is named anywhere. */
export function natsSettings(
  flags: NatsFlags,
  env: NodeJS.ProcessEnv = process.env,
): NatsConnectionSettings | undefined {
  const get = (k: keyof NatsFlags) => flags[k] ?? (env[NATS_ENV[k]] || undefined);
  const urls = get('nats');
  if (urls === undefined) return undefined;
  const servers = urls
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new UsageError(`--nats: expected one or more server URLs, got '${urls}'`);
  for (const s of servers) {
    if (!/^(nats|tls|wss?):\/\/[^\s]+$|^[\w.-]+:\d+$/.test(s)) {
      throw new UsageError(`--nats: '${s}' is not a server URL (expected e.g. nats://127.0.0.1:4222)`);
    }
  }
  if ((get('natsUser') === undefined) !== (get('natsPass') === undefined)) {
    throw new UsageError('--nats-user and --nats-pass go together');
  }
  const settings: NatsConnectionSettings = { servers };
  if (get('natsToken')) settings.token = get('natsToken');
  if (get('natsUser')) settings.user = get('natsUser');
  if (get('natsPass')) settings.pass = get('natsPass');
  if (get('natsCreds')) settings.credsFile = get('natsCreds');
  const ca = get('natsTlsCa');
  const cert = get('natsTlsCert');
  const key = get('natsTlsKey');
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--nats-tls-cert and --nats-tls-key go together');
  if (ca || cert) settings.tls = { ...(ca ? { ca } : {}), ...(cert ? { cert, key } : {}) };
  return settings;
}

/** Default of --nats-wait: how long a search or worker keeps trying its first connection. */
export const DEFAULT_NATS_WAIT_S = 30;

/** `--nats-wait <s>` for long-running processes (search, resume, worker). */
export function addNatsWaitOption(cmd: Command): Command {
  return cmd.option(
    '--nats-wait <s>',
    `keep trying the first connection to NATS this long, with a logged backoff (default ${DEFAULT_NATS_WAIT_S}; 0: fail at once)`,
    (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n < 0)
        throw new InvalidArgumentError('expected seconds >= 0.');
      return n;
    },
  );
}

/** Milliseconds for connectNats's firstConnectRetryMs. */
export function natsWaitMs(flags: { natsWait?: number }): number {
  return (flags.natsWait ?? DEFAULT_NATS_WAIT_S) * 1000;
}

/** `--replicas <n>` (search, resume, worker): copies JetStream keeps of what hpo creates. */
export function addReplicasOption(cmd: Command): Command {
  return cmd.option(
    '--replicas <n>',
    'with --nats: copies JetStream keeps of the streams, lease bucket and models bucket hpo creates: ' +
      '1, 3 or 5 (default: 1 on a single server, 3 on a cluster; the orchestrator scales existing ones to it)',
    (v: string) => {
      const n = Number(v);
      const problem = replicasProblem(n);
      if (v.trim() === '' || problem) throw new InvalidArgumentError(`${problem ?? 'expected a number'}.`);
      return n;
    },
  );
}

/**
 * How many copies JetStream keeps of every stream, KV bucket and object store hpo creates (the trial
 * queue, the events stream, the owner-lease bucket, the models bucket): `--replicas`, 1..5 and odd (a
 * raft group needs a majority: an even count adds a server without adding a failure it survives).
 * Unset, it follows the server: 1 on a single server, 3 on a cluster (the INFO a server sends every
 * client names its cluster and the client URLs of its peers; a cluster of fewer than 3 gets 1).
 * A count the cluster cannot place is refused with an error naming the setting. See docs/NATS.md.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { UsageError } from '../errors.js';

/** Largest replica count JetStream accepts. */
export const MAX_REPLICAS = 5;
/** The default on a cluster of at least this many servers. */
export const CLUSTER_REPLICAS = 3;

/** Why a count is not a valid `--replicas`, or undefined. */
export function replicasProblem(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS || n % 2 === 0)
    return `expected 1, 3 or 5 (an odd count of servers, at most ${MAX_REPLICAS}), got ${n}`;
  return undefined;
}

/** What the connected server says about its cluster. */
export interface ClusterView {
  /** The cluster's name (undefined: a single server). */
  cluster?: string;
  /** Servers in it (the client URLs it advertises; undefined when it advertises none). */
  servers?: number;
}

export function clusterView(nc: NatsConnection): ClusterView {
  const info = nc.info;
  if (!info?.cluster) return {};
  const urls = info.connect_urls?.length ?? 0;
  return { cluster: info.cluster, ...(urls > 0 ? { servers: urls } : {}) };
}

export interface ReplicasChoice {
  replicas: number;
  /** For the start line: e.g. `3 (cluster 'hpo' of 3 servers)` or `1 (--replicas)`. */
  why: string;
}

/**
 * The replica count to use: `requested` (checked against the cluster) or the default for the server
 * this connection talks to. A count above the cluster's size is a UsageError naming `--replicas`.
 */
export function chooseReplicas(view: ClusterView, requested?: number): ReplicasChoice {
  const where =
    view.cluster === undefined
      ? 'a single server (no cluster)'
      : `cluster '${view.cluster}'` + (view.servers === undefined ? '' : ` of ${view.servers} servers`);
  if (requested !== undefined) {
    const problem = replicasProblem(requested);
    if (problem) throw new UsageError(`--replicas: ${problem}`);
    const size = view.cluster === undefined ? 1 : view.servers;
    if (size !== undefined && requested > size)
      throw new UsageError(
        `--replicas ${requested}: the NATS server is ${where}; JetStream cannot keep more copies than ` +
          `servers (use --replicas ${largestOdd(size)} or add servers)`,
      );
    return { replicas: requested, why: `${requested} (--replicas; ${where})` };
  }
  if (view.cluster === undefined) return { replicas: 1, why: `1 (${where})` };
  const replicas = Math.min(CLUSTER_REPLICAS, largestOdd(view.servers ?? CLUSTER_REPLICAS));
  return { replicas, why: `${replicas} (${where})` };
}

function largestOdd(n: number): number {
  const capped = Math.max(1, Math.min(n, MAX_REPLICAS));
  return capped % 2 === 0 ? capped - 1 : capped;
}

/** JetStream could not place the copies (code 10005, "no suitable peers for placement"). */
export function isPlacementError(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === 10005 || /no suitable peers|insufficient resources.*replica/i.test(err.message))
  );
}

/** The server refused a stream's replica count: an error naming the setting. */
export function replicasError(err: unknown, stream: string, replicas: number): UsageError {
  const why = err instanceof Error ? err.message : String(err);
  return new UsageError(
    `--replicas ${replicas}: JetStream cannot place ${replicas} copies of stream ${stream} (${why}); ` +
      `the cluster has fewer servers with JetStream up than that (lower --replicas, or start the missing servers)`,
    { cause: err },
  );
}

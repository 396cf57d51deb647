/**
 * A throwaway three-node nats-server cluster with JetStream on loopback, for benchmarks and tests:
 * `nats-server -js -n <name> -a 127.0.0.1 -p <port> -sd <own store> --cluster_name hpo
 * --cluster nats://127.0.0.1:<route port> --routes <the other two>` per node. Each node can be killed
 * (SIGTERM or SIGKILL) and started again on the same ports and store. Ready when every node printed
 * "Server is ready" and JetStream has a meta leader (a client's account-info call answers).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort, natsProcess } from './nats-server.js';

export interface ClusterNode {
  name: string;
  port: number;
  url: string;
  /** Whether the process runs now. */
  running(): boolean;
  /** Its process id (-1 while stopped). */
  pid(): number;
  /** Everything it printed since its last start (at most the last 20,000 characters). */
  output(): string;
  /** Stops it (SIGKILL: at once, no store flush). */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same ports and store (after kill). */
  start(): Promise<void>;
}

export interface NatsClusterHandle {
  nodes: ClusterNode[];
  /** Every node's client URL (what hpo's `--nats` takes, comma-joined). */
  urls: string[];
  node(name: string): ClusterNode;
  /** Stops every node and deletes the stores. */
  stop(): Promise<void>;
  /** SIGKILL every node now and delete the stores, synchronously (exit handlers). */
  killAll(): void;
}

export interface NatsClusterOptions {
  /** Nodes (default 3). */
  size?: number;
  /** Cluster name (default `hpo`). */
  name?: string;
  /**
   * Instead of flags: each node's config file text (nats-server -c), given its ports and store folder
   * and every node's (e.g. deploy/nats/nats-cluster.conf with the host names and ports rewritten).
   */
  configFor?: (node: NodePorts, all: NodePorts[]) => string;
  /** Files written beside the config files first (e.g. a file the config includes), by name. */
  files?: Record<string, string>;
  /** Environment of the servers (on top of this process's): variables the config refers to. */
  env?: NodeJS.ProcessEnv;
}

export interface NodePorts {
  name: string;
  port: number;
  routePort: number;
  storeDir: string;
}

function nodeArgs(node: NodePorts, all: NodePorts[], cluster: string): string[] {
  const routes = all
    .filter((n) => n !== node)
    .map((n) => `nats://127.0.0.1:${n.routePort}`)
    .join(',');
  return [
    '-js',
    '-n',
    node.name,
    '-a',
    '127.0.0.1',
    '-p',
    String(node.port),
    '-sd',
    node.storeDir,
    '--cluster_name',
    cluster,
    '--cluster',
    `nats://127.0.0.1:${node.routePort}`,
    '--routes',
    routes,
  ];
}

function launchNode(bin: string, ports: NodePorts, args: string[], env?: NodeJS.ProcessEnv): ClusterNode {
  const server = natsProcess(bin, {
    args,
    port: ports.port,
    env,
    label: `nats-server ${ports.name}`,
    startMs: 20_000,
  });
  return {
    name: ports.name,
    port: ports.port,
    url: `nats://127.0.0.1:${ports.port}`,
    running: server.running,
    pid: server.pid,
    output: server.output,
    kill: (signal = 'SIGKILL') => server.halt(signal),
    start: server.start,
  };
}

/** Starts the nodes together (a JetStream cluster elects its meta leader once a majority is up). */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsClusterHandle> {
  const bin = findNatsServer();
  const size = options.size ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'hpo-nats-cluster-'));
  const ports: NodePorts[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({
      name: `n${i + 1}`,
      port: await freePort(),
      routePort: await freePort(),
      storeDir: join(root, `n${i + 1}`),
    });
  }
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(root, name), text);
  const argsOf = (p: NodePorts): string[] => {
    if (!options.configFor) return nodeArgs(p, ports, options.name ?? 'hpo');
    const file = join(root, `${p.name}.conf`);
    writeFileSync(file, options.configFor(p, ports));
    return ['-c', file];
  };
  const nodes = ports.map((p) => launchNode(bin, p, argsOf(p), options.env));
  const killAll = () => {
    for (const n of nodes) if (n.running()) void n.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitForMetaLeader(nodes);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no cluster node named ${name}`);
      return found;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
      rmSync(root, { recursive: true, force: true });
    },
    killAll,
  };
}

/** Waits (at most 30 s) until some node's log says JetStream has a meta leader. */
async function waitForMetaLeader(nodes: ClusterNode[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (
    !nodes.some((n) =>
      /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/.test(n.output()),
    )
  ) {
    if (Date.now() > deadline)
      throw new Error(
        `no JetStream meta leader within 30 s:\n${nodes.map((n) => n.output().slice(-2000)).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

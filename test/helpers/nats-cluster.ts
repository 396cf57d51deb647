/**
 * A real three-node nats-server cluster for tests (bench/nats-cluster.ts: routes on loopback, JetStream
 * on each node with its own store; each node can be killed with SIGKILL and started again), plus the
 * question tests ask of it: which node leads a stream's raft group now.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../../shared/nats/connection.js';

export { type ClusterNode, type NatsClusterHandle, startNatsCluster } from '../../bench/nats-cluster.js';

/**
 * The server name of the node leading `stream` (its `cluster.leader` in stream info), asked through any
 * of `urls`; retried for up to `ms` while the stream has no leader (an election).
 */
export async function streamLeader(urls: string[], stream: string, ms = 30_000): Promise<string> {
  const nc = await connectNats({ servers: urls, name: 'test stream leader', firstConnectRetryMs: ms });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
    const deadline = Date.now() + ms;
    for (;;) {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      const leader = info?.cluster?.leader;
      if (leader) return leader;
      if (Date.now() > deadline) throw new Error(`stream ${stream} has no leader after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}

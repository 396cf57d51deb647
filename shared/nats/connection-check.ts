/**
 * The readiness check of a NATS connection (/readyz, shared/metrics/readiness.ts): connected, or why not.
 * It follows the connection's status events from the moment it is made: a lost server is a `disconnect`
 * at once (the socket closes), a server that stopped answering pings a `staleConnection`; `reconnect`
 * makes it pass again.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { type CheckResult, type ReadinessCheck, failed, passed } from '../metrics/readiness.js';
import { displayServers } from './connection.js';

export function natsConnectionCheck(nc: NatsConnection): ReadinessCheck {
  let down: { why: string; since: number } | undefined;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect')
        down ??= { why: `disconnected from ${displayServers([s.server])}`, since: Date.now() };
      else if (s.type === 'staleConnection')
        down ??= { why: 'the server stopped answering pings', since: Date.now() };
      else if (s.type === 'reconnect') down = undefined;
    }
  })();
  return (): CheckResult => {
    if (nc.isClosed()) return failed('connection closed');
    if (nc.isDraining()) return failed('connection draining');
    if (down)
      return failed(`${down.why} ${Math.round((Date.now() - down.since) / 1000)} s ago; reconnecting`);
    return passed(`connected to ${displayServers([nc.getServer()])}`);
  };
}

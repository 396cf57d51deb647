export { NatsTransport, type NatsTransportOptions, type NatsTransportStats } from './nats-transport.js';
export {
  type NatsConnection,
  type NatsConnectionOptions,
  type StreamSettings,
  connectNats,
} from '../../../worker/nats/connection.js';
export { listWorkers } from '../../../worker/nats/nats-worker.js';

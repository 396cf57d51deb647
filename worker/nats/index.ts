export {
  type NatsConnection,
  type NatsConnectionOptions,
  type StreamSettings,
  connectNats,
  displayServers,
} from '../../shared/nats/connection.js';
export { NatsWorker } from './nats-worker.js';
export type { NatsWorkerOptions, NatsWorkerStats, OfferedTask } from './nats-worker-options.js';

export {
  type NatsConnection,
  type NatsConnectionOptions,
  type StreamSettings,
  connectNats,
  displayServers,
} from '../../shared/nats/connection.js';
export { NatsWorker, type NatsWorkerOptions, type NatsWorkerStats } from './nats-worker.js';

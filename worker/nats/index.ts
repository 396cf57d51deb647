export {
  type NatsConnection,
  type NatsConnectionOptions,
  type StreamSettings,
  connectNats,
  displayServers,
} from './connection.js';
export { NatsWorker, type NatsWorkerOptions, type NatsWorkerStats, listWorkers } from './nats-worker.js';

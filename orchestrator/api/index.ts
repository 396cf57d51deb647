export * from './query.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './http-server.js';
export {
  queryOrchestrator,
  startQueryResponder,
  type QueryAnswerOptions,
  type QueryResponderOptions,
} from './nats-responder.js';
export { listWorkers } from './workers.js';

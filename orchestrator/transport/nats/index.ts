export * from './deliveries.js';
export { NatsTransport, type NatsTransportOptions, type NatsTransportStats } from './nats-transport.js';

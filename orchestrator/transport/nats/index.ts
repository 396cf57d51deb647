export * from './deliveries.js';
export { NatsTransport, type NatsTransportOptions, type NatsTransportStats } from './nats-transport.js';
export { acquireBusLease, ownersBucket, type BusLease, type BusLeaseOptions } from './bus-lease.js';

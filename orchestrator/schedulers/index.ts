export * from './scheduler.js';
export { FifoScheduler } from './fifo.js';

export { TrialPool, type TrialPoolOptions } from './trial-pool.js';

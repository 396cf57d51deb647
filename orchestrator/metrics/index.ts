export * from './orchestrator-metrics.js';

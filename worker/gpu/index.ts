export * from './device-placement.js';
export * from './gpu-metrics.js';
export * from './gpu-plan.js';
export * from './nvidia-smi.js';

export * from './child-args.js';
export * from './ipc-metrics.js';
export * from './ipc-readiness.js';
export * from './worker-processes.js';
export * from './supervise.js';
export * from './gpu-setup.js';

export * from './architecture.js';
export * from './registry.js';
export { LayerFactory, type LayerFactoryOptions } from './layers.js';

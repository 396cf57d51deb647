/** Charts as SVG strings, rendered headless with Vega-Lite (no browser): learning curves, parameter plots. */
export * from './learning-curves.js';
export * from './param-objective.js';
export * from './render.js';
export * from './best-so-far.js';

/** `hpo report`: the run's leaderboard, the seed report's table rebuilt, plots, hardware and data. */
export * from './best-so-far.js';
export * from './collect.js';
export * from './html.js';
export * from './markdown.js';
export * from './reference.js';
export * from './seed-table.js';
export * from './write-report.js';

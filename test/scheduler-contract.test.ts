/**
 * The scheduler contract (test/contracts/scheduler.contract.ts) on every scheduler createScheduler builds
 * from a file's early_terminate (the single registration), in a few settings each.
 */
import type { EarlyTerminate } from '../orchestrator/search-space/index.js';
import { createScheduler } from '../orchestrator/schedulers/index.js';
import { schedulerContract } from './contracts/scheduler.contract.js';

const settings: [string, EarlyTerminate | undefined][] = [
  ['none (FIFO)', undefined],
  ['hyperband (ASHA, one bracket)', { type: 'hyperband', min_iter: 1, eta: 3, max_iter: 12 }],
  [
    'hyperband (ASHA, 2 brackets, max_iter below the epochs)',
    { type: 'hyperband', min_iter: 1, eta: 2, max_iter: 9, s: 2 },
  ],
  ['median', { type: 'median' }],
  ['median (grace 2, 2 trials)', { type: 'median', grace_epochs: 2, min_trials: 2 }],
];

for (const [name, earlyTerminate] of settings) {
  schedulerContract(
    name,
    (metric) => createScheduler({ metric, ...(earlyTerminate ? { early_terminate: earlyTerminate } : {}) }),
    earlyTerminate !== undefined,
  );
}

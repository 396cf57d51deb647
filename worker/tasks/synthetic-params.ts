/**
 * The parameter catalogue of the `synthetic` task (a cheap stand-in for training, for demos and tests):
 * any parameter names are allowed; the reserved ones (worker/tasks/synthetic-task.ts) are checked:
 * `epochs` and `sleep_ms` (defaulted) and `fail_at_epoch` (the trial throws at that epoch; optional).
 * A trial checks them once with `resolveParams` (shared/task-params.ts).
 */
import type { TaskParams } from '../../shared/task-params.js';

export const SYNTHETIC_DEFAULTS = { epochs: 5, sleep_ms: 0 } as const;

export const SYNTHETIC_PARAMS = {
  params: {
    epochs: { type: 'integer', gt: 0 },
    sleep_ms: { type: 'number', ge: 0 },
    fail_at_epoch: { type: 'integer', ge: 0 },
  },
  open: true,
  defaults: SYNTHETIC_DEFAULTS,
  metrics: ['val_acc', 'val_loss', 'epoch_seconds'],
} satisfies TaskParams;

import type { Scheduler } from './scheduler.js';

/** Runs every trial to its last epoch. */
export class FifoScheduler implements Scheduler {
  readonly name = 'fifo';
  decide(): 'continue' {
    return 'continue';
  }
}

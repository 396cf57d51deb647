import type { Scheduler } from './scheduler.js';

/** Runs every trial to its last epoch. */
export class FifoScheduler implements Scheduler {
  readonly name = 'fifo';
  readonly neverStops = true;
  decide(): 'continue' {
    return 'continue';
  }
}

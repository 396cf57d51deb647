/**
 * Starts a worker fleet for one scenario, waits until it is announced and warm, hands it to `body`,
 * and stops it afterwards whatever happened (killed at exit if the bench dies first).
 */
import type { NatsConnection } from '../../worker/nats/index.js';
import { killOnExit } from '../cleanup.js';
import { warmUp } from './warm-up.js';
import { WorkerFleet } from './worker-fleet.js';

export interface FleetSessionOptions {
  nc: NatsConnection;
  url: string;
  processes: number;
  concurrency: number;
  namePrefix: string;
  profileDir?: string;
  log: (line: string) => void;
}

export async function withWarmFleet<T>(
  options: FleetSessionOptions,
  body: (fleet: WorkerFleet) => Promise<T>,
): Promise<T> {
  const { nc, log } = options;
  const t0 = performance.now();
  const fleet = WorkerFleet.spawn(options);
  const forget = killOnExit(() => fleet.kill());
  try {
    await fleet.waitAnnounced(nc, options.concurrency);
    log(
      `${options.processes} hpo worker process(es) x ${options.concurrency} thread(s) announced after ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const warm = await warmUp({
      nc,
      fleet,
      tag: `bench-warm-${options.namePrefix}`,
      skipIdleCheck: options.profileDir !== undefined,
      log,
    });
    log(`fleet warm after ${warm.rounds} round(s), ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
    return await body(fleet);
  } finally {
    await fleet.stop();
    forget();
  }
}

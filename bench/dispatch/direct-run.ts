/**
 * Trials straight through a Transport, without SearchRunner, strategy or store: submit while there is
 * capacity, count results, until `count` trials have ended. Measures the transport and the fleet alone
 * (and warms them up).
 */
import { isBusId, newBusId } from '../../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../../shared/protocol/index.js';
import { syntheticParams, type SyntheticRun } from './synthetic-space.js';
import type { Transport } from '../../orchestrator/transport/transport.js';

export interface DirectRunResult {
  trials: number;
  failed: number;
  seconds: number;
  /** This process's CPU ms over the run. */
  cpuMs: number;
  firstError?: string;
}

/** Starts the transport (once per transport) and runs `run.trials` synthetic trials of `experiment`. */
export async function runDirect(
  transport: Transport,
  experiment: string,
  run: SyntheticRun,
): Promise<DirectRunResult> {
  // The bus id: the experiment name when it is one (bench names are), else a random one.
  const experimentId = isBusId(experiment) ? experiment : newBusId();
  const done = new Set<string>();
  let failed = 0;
  let firstError: string | undefined;
  let wake: () => void = () => {};
  await transport.start({
    onEpoch: async () => 'continue',
    onResult: async (r) => {
      if (r.experiment !== experiment || done.has(r.trial_id)) return;
      done.add(r.trial_id);
      if (r.state === 'failed') {
        failed++;
        firstError ??= r.error;
      }
      wake();
    },
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  while (done.size < run.trials) {
    const round: Promise<void>[] = [];
    while (next < run.trials && transport.capacity() > 0) {
      const spec: TrialSpec = {
        v: PROTOCOL_VERSION,
        experiment,
        experiment_id: experimentId,
        trial_id: `d${next}`,
        attempt: 1,
        task: 'synthetic',
        params: syntheticParams(run, next),
        seed: next + 1,
      };
      next++;
      round.push(transport.submit(spec));
    }
    if (round.length > 0) {
      await Promise.all(round);
      continue; // trials may have ended meanwhile
    }
    if (done.size >= run.trials) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    trials: done.size,
    failed,
    seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/**
 * Waits until a fleet is warm: every pool thread has loaded (each thread imports the task registry,
 * and with it tfjs, when it starts; many threads on few cores take a while). A round of `slots` trials
 * of `sleepMs` each must finish in under 2 × sleepMs (all ran side by side: no trial waited for a thread
 * still loading), and then the fleet must sit nearly idle for a second (no thread still loading).
 */
import { NatsTransport } from '../../orchestrator/transport/nats/index.js';
import type { NatsConnection } from '../../worker/nats/index.js';
import { runDirect } from './direct-run.js';
import { processCpuMs } from './process-cpu.js';
import type { WorkerFleet } from './worker-fleet.js';

export interface WarmUpOptions {
  nc: NatsConnection;
  fleet: WorkerFleet;
  /** Experiment names are `<tag>-<round>`. */
  tag: string;
  sleepMs?: number;
  timeoutMs?: number;
  /** Skip the idle-CPU check (CPU profilers keep an idle fleet busy). */
  skipIdleCheck?: boolean;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** CPU ms the fleet's processes use over `ms` of wall time. */
async function fleetCpuOver(fleet: WorkerFleet, ms: number): Promise<number> {
  const pids = [...fleet.pids().values()];
  const before = pids.map((p) => processCpuMs(p) ?? 0);
  await sleep(ms);
  return pids.reduce((s, p, i) => s + (processCpuMs(p) ?? 0) - before[i], 0);
}

/** Resolves with the rounds it took and the seconds spent. */
export async function warmUp(options: WarmUpOptions): Promise<{ rounds: number; seconds: number }> {
  const { nc, fleet, log } = options;
  const sleepMs = options.sleepMs ?? 500;
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  const t0 = performance.now();
  for (let round = 1; ; round++) {
    fleet.checkAlive();
    const transport = new NatsTransport(nc, { maxInFlight: fleet.slots, closeConnection: false });
    let result;
    try {
      result = await runDirect(transport, `${options.tag}-${round}`, {
        trials: fleet.slots,
        epochs: 1,
        sleepMs,
      });
    } finally {
      await transport.close();
    }
    if (result.failed > 0) throw new Error(`warm-up trials failed: ${result.firstError}`);
    const wallMs = Math.round(result.seconds * 1000);
    const idleCpu =
      wallMs >= 2 * sleepMs ? Number.NaN : options.skipIdleCheck ? 0 : await fleetCpuOver(fleet, 1000);
    log(
      `warm-up round ${round}: ${fleet.slots} trials of ${sleepMs} ms in ${wallMs} ms` +
        (Number.isNaN(idleCpu) ? '' : `, then fleet CPU ${Math.round(idleCpu)} ms over 1 s idle`),
    );
    if (wallMs < 2 * sleepMs && idleCpu < 150) {
      return { rounds: round, seconds: (performance.now() - t0) / 1000 };
    }
    if (Date.now() > deadline) throw new Error('the fleet did not warm up in time');
    if (Number.isNaN(idleCpu)) await sleep(1000);
  }
}

/**
 * (c) Command tasks: hpo's overhead per trial beyond the program's own run time. The same small Node
 * program (10 epochs of JSON lines plus noise lines) runs `trials` times both ways, interleaved:
 * directly (spawn, wait for exit: what the program costs anyway) and as a command trial through a
 * TrialPool (offer check with the file's sha256, trial folder and params.json, spawn, line parsing,
 * an epoch event and decision per line, result). Overhead = mean(hpo) - mean(direct), and its p50 over
 * paired runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { TrialPool } from '../../worker/pool/index.js';
import { buildCommandLine } from '../../worker/command/index.js';
import { TaskOffers, commandOffer } from '../../worker/tasks/index.js';
import { distribution, type Distribution, mean, round } from '../stats.js';

export interface CommandOverheadReport {
  trials: number;
  epochs_per_trial: number;
  /** Mean wall ms of the program run directly. */
  direct_ms: number;
  /** Mean wall ms of the same program as an hpo command trial. */
  hpo_ms: number;
  /** mean(hpo) - mean(direct). */
  overhead_ms: number;
  /** Paired differences (hpo - direct), ms. */
  overhead_paired_ms: Distribution;
  /**
   * CPU ms of this process per trial, as a trial minus directly (hpo's own work: offer check, folder,
   * line parsing, events): independent of how busy the machine is, unlike the wall figures.
   */
  cpu_overhead_ms: number;
}

const PROGRAM = `
console.log('starting');
for (let epoch = 1; epoch <= 10; epoch++) {
  console.log('Epoch ' + epoch + '/10 ..........');
  console.log(JSON.stringify({ epoch, val_loss: 1 / epoch, val_acc: 1 - 1 / (epoch + 1) }));
}
`;

function runDirect(argv: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - t0));
  });
}

export async function benchCommandOverhead(
  trials: number,
  log: (line: string) => void,
): Promise<CommandOverheadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-command-'));
  try {
    const program = join(dir, 'train.mjs');
    writeFileSync(program, PROGRAM);
    const offer = commandOffer(program);
    const pool = new TrialPool({
      threads: 1,
      tasks: new TaskOffers().add(offer),
      trialsDir: join(dir, 'trials'),
    });
    const argv = buildCommandLine({
      program,
      interpreter: offer.interpreter,
      params: { lr: 0.1 },
      argsJsonFile: 'x',
    });
    const direct: number[] = [];
    const hpo: number[] = [];
    const cpuDirect: number[] = [];
    const cpuHpo: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    const hooks = { onEpoch: async () => 'continue' as const, signal: new AbortController().signal };
    try {
      for (let i = 0; i < trials + 3; i++) {
        const c0 = process.cpuUsage();
        const d = await runDirect(argv, dir);
        const cd = process.cpuUsage(c0);
        const c1 = process.cpuUsage();
        const t0 = performance.now();
        const r = await pool.run(
          {
            v: PROTOCOL_VERSION,
            experiment: 'bench',
            experiment_id: 'bench',
            trial_id: `c${i}`,
            attempt: 1,
            task: offer.name,
            task_sha256: offer.sha256,
            params: { lr: 0.1 },
            seed: i + 1,
          },
          hooks,
        );
        const h = performance.now() - t0;
        const c2 = process.cpuUsage(c1);
        if (r.state !== 'completed' || r.epochs !== 10)
          throw new Error(`command trial ${r.state}: ${r.error}`);
        if (i < 3) continue; // warm-up
        direct.push(d);
        hpo.push(h);
        cpuDirect.push(cpuMs(cd));
        cpuHpo.push(cpuMs(c2));
      }
    } finally {
      await pool.close();
    }
    const report: CommandOverheadReport = {
      trials,
      epochs_per_trial: 10,
      direct_ms: round(mean(direct), 2),
      hpo_ms: round(mean(hpo), 2),
      overhead_ms: round(mean(hpo) - mean(direct), 2),
      overhead_paired_ms: distribution(hpo.map((h, i) => round(h - direct[i], 2))),
      cpu_overhead_ms: round(mean(cpuHpo) - mean(cpuDirect), 2),
    };
    log(
      `(c) command tasks: direct ${report.direct_ms} ms, hpo ${report.hpo_ms} ms per trial; CPU +${report.cpu_overhead_ms} ms`,
    );
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

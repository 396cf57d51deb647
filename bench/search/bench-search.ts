/**
 * `npm run bench:search -- [--out FILE.json] [--seeds N] [--quick] [--skip-real]`: how much smarter search
 * saves. Four variants (random, random+ASHA, TPE, TPE+ASHA), each through the product path (SearchRunner,
 * a temp SQLite store, InProcessTransport), on
 *
 * - the `synthetic` task (sleep_ms 0, run in this thread; many seeds): random and TPE run `--trials`
 *   trials of 27 epochs; the ASHA variants (min_iter 1, eta 3, max_iter 27) run until they spent the same
 *   epoch budget;
 * - a small real multi-digit-mnist search (`--real-archs`, default mlp, on `--train-size` pairs, validated
 *   on `--val-size` pairs, 9 epochs, ASHA rungs 1 and 3) in the local thread pool, over `--real-seeds`
 *   seeds (default 3) of `--real-trials` random trials (default 16); `--skip-synthetic` runs it alone;
 * - the NATS row (nats-compare.ts): random and TPE on the same synthetic space and budget over the
 *   first `--nats-seeds` seeds (default 3), through a NatsTransport with `--nats-processes` real
 *   `hpo worker` processes (default 2) of `--slots / processes` slots each, next to the local row's
 *   figures for the same seeds (`--skip-nats` leaves it out).
 *
 * Budget is counted in epoch-equivalents (epochs run). Prints a table, writes the JSON report (with
 * `budget_ratio`: the fraction of random search's budget random+ASHA needed to reach random's final
 * best, from the seed-mean curves) and an SVG per task of mean best-so-far against budget. Also measures
 * each sampler's and scheduler's cost per decision at 1,000 trials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadDataset } from '../../worker/data/dataset.js';
import { ARCHITECTURES } from '../../worker/models/registry.js';
import { TrialPool } from '../../worker/pool/index.js';
import type { TrialExecutor } from '../../shared/protocol/executor.js';
import { positiveInt } from '../../cli/options/option-values.js';
import type { EarlyTerminate, SearchSpace } from '../../orchestrator/search-space/types.js';
import { inlineExecutor } from './budget-executor.js';
import { type DecisionCost, measureDecisionCost } from './decision-cost.js';
import {
  budgetToReach,
  type CompareRun,
  meanCurve,
  runVariant,
  VARIANTS,
  type Variant,
  variantSpace,
} from './search-compare.js';
import { writeCurvePlot } from './search-plot.js';
import { compareConditional, type ConditionalReport, renderConditional } from './conditional-compare.js';
import { compareOverNats } from './nats-compare.js';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const SYNTHETIC_EPOCHS = 27;
const REAL_EPOCHS = 9;

function syntheticSpace(trials: number): SearchSpace {
  return {
    method: 'random',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      lr: { kind: 'log_uniform_values', min: 1e-5, max: 1 },
      width: { kind: 'int_uniform', min: 8, max: 512 },
      dropout: { kind: 'uniform', min: 0, max: 0.8 },
      act: { kind: 'categorical', values: ['relu', 'tanh', 'gelu', 'elu'] },
      optimizer: { kind: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
      epochs: { kind: 'constant', value: SYNTHETIC_EPOCHS },
      sleep_ms: { kind: 'constant', value: 0 },
    },
    run_cap: trials,
    task: 'synthetic',
    seed: 1,
    data: { seed: 1 },
  };
}

function realSpace(trials: number, trainSize: number, archs: string[], valSize?: number): SearchSpace {
  return {
    method: 'random',
    metric: { name: 'val_acc', goal: 'maximize' },
    parameters: {
      arch:
        archs.length === 1 ? { kind: 'constant', value: archs[0] } : { kind: 'categorical', values: archs },
      optimizer: { kind: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
      learning_rate: { kind: 'log_uniform_values', min: 1e-4, max: 3e-2 },
      batch_size: { kind: 'categorical', values: [32, 64, 128] },
      epochs: { kind: 'constant', value: REAL_EPOCHS },
      train_size: { kind: 'constant', value: trainSize },
      ...(valSize === undefined ? {} : { val_size: { kind: 'constant' as const, value: valSize } }),
    },
    run_cap: trials,
    task: 'multi-digit-mnist',
    seed: 1,
    data: { seed: 1 },
  };
}

interface VariantSummary {
  variant: Variant;
  runs: number;
  /** Mean over seeds of the best objective at the full budget. */
  final_best_mean: number;
  final_best_sd: number;
  trials_mean: number;
  seconds_mean: number;
}

interface TaskReport {
  task: string;
  seeds: number[];
  epochs: number;
  /** Random search's (and every variant's) epoch budget. */
  budget: number;
  asha: EarlyTerminate;
  variants: VariantSummary[];
  /** Fraction of random's budget random+ASHA needed to reach random's final best (seed-mean curves). */
  budget_ratio: number | null;
  /** The same per seed (null where random+ASHA never reached that seed's random best). */
  budget_ratio_per_seed: (number | null)[];
  /** TPE's final best minus random's (mean over seeds), at equal budget. */
  tpe_minus_random: number;
  /** The same per seed. */
  tpe_minus_random_per_seed: number[];
  curves: { variant: Variant; points: { budget: number; best: number | null }[] }[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

async function compare(options: {
  task: string;
  base: SearchSpace;
  epochs: number;
  trials: number;
  asha: EarlyTerminate;
  seeds: number[];
  executor: TrialExecutor;
}): Promise<TaskReport> {
  const { base, epochs, trials, asha, seeds, executor } = options;
  const budget = trials * epochs;
  const dir = mkdtempSync(join(tmpdir(), 'hpo-bench-search-'));
  const runs = new Map<Variant, CompareRun[]>(VARIANTS.map((v) => [v, []]));
  try {
    for (const seed of seeds) {
      for (const variant of VARIANTS) {
        const space = variantSpace(base, variant, asha, seed);
        // The ASHA variants run until they spent random's budget.
        if (variant.endsWith('+asha')) space.run_cap = trials * 50;
        const run = await runVariant({ dir, space, variant, seed, budget, executor });
        runs.get(variant)!.push(run);
        const final = run.curve.filter((p) => p.budget <= budget).pop()?.best;
        log(
          `${options.task} seed ${seed} ${variant}: ${run.trials} trials, ${run.budget} epochs, best ${final?.toFixed(4)}, ${run.seconds.toFixed(1)} s`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const goal = base.metric.goal;
  const grid = Array.from({ length: 101 }, (_, i) => Math.round((budget * i) / 100));
  const finalBest = (r: CompareRun) => r.curve.filter((p) => p.budget <= budget).pop()?.best ?? NaN;
  const variants = VARIANTS.map((variant): VariantSummary => {
    const rs = runs.get(variant)!;
    const finals = rs.map(finalBest);
    return {
      variant,
      runs: rs.length,
      final_best_mean: mean(finals),
      final_best_sd: sd(finals),
      trials_mean: mean(rs.map((r) => r.trials)),
      seconds_mean: mean(rs.map((r) => r.seconds)),
    };
  });
  const curves = VARIANTS.map((variant) => {
    const m = meanCurve(runs.get(variant)!, grid);
    return { variant, points: grid.map((b, i) => ({ budget: b, best: m[i] })) };
  });
  const randomFinal = variants[0].final_best_mean;
  const ashaMean = curves[1].points.find((p) => p.best !== null && p.best >= randomFinal);
  const perSeed = seeds.map((_, i) => {
    const target = finalBest(runs.get('random')![i]);
    const reached = budgetToReach(runs.get('random+asha')![i].curve, target, goal);
    return reached === null || reached > budget ? null : reached / budget;
  });
  return {
    task: options.task,
    seeds,
    epochs,
    budget,
    asha,
    variants,
    budget_ratio: ashaMean ? ashaMean.budget / budget : null,
    budget_ratio_per_seed: perSeed,
    tpe_minus_random: variants[2].final_best_mean - variants[0].final_best_mean,
    tpe_minus_random_per_seed: seeds.map(
      (_, i) => finalBest(runs.get('tpe')![i]) - finalBest(runs.get('random')![i]),
    ),
    curves,
  };
}

/** Random against TPE over NATS, per seed and on average, beside the local row's same seeds. */
interface NatsRow {
  processes: number;
  concurrency: number;
  /** TPE's fixed window of trials in flight, or null: it followed the fleet's slots. */
  fixed_window: number | null;
  seeds: number[];
  budget: number;
  variants: { variant: Variant; final_best_mean: number; final_best_sd: number; seconds_mean: number }[];
  tpe_minus_random: number;
  tpe_minus_random_sd: number;
  tpe_minus_random_per_seed: number[];
  /** The local row's TPE - random over the same seeds (when it ran them). */
  local_tpe_minus_random: number | null;
  local_tpe_minus_random_sd: number | null;
  local_tpe_minus_random_per_seed: number[] | null;
}

async function natsRow(options: {
  base: SearchSpace;
  budget: number;
  seeds: number[];
  processes: number;
  concurrency: number;
  fixedWindow?: number;
  local?: TaskReport;
}): Promise<NatsRow> {
  const runs = await compareOverNats({ ...options, log });
  const finals = (v: Variant) =>
    runs.get(v)!.map((r) => r.curve.filter((p) => p.budget <= options.budget).pop()?.best ?? NaN);
  const diffs = finals('tpe').map((t, i) => t - finals('random')[i]);
  const local = options.local?.tpe_minus_random_per_seed.slice(0, options.seeds.length);
  const sameSeeds = local !== undefined && local.length === options.seeds.length;
  return {
    processes: options.processes,
    concurrency: options.concurrency,
    fixed_window: options.fixedWindow ?? null,
    seeds: options.seeds,
    budget: options.budget,
    variants: (['random', 'tpe'] as const).map((variant) => ({
      variant,
      final_best_mean: mean(finals(variant)),
      final_best_sd: sd(finals(variant)),
      seconds_mean: mean(runs.get(variant)!.map((r) => r.seconds)),
    })),
    tpe_minus_random: mean(diffs),
    tpe_minus_random_sd: sd(diffs),
    tpe_minus_random_per_seed: diffs,
    local_tpe_minus_random: sameSeeds ? mean(local) : null,
    local_tpe_minus_random_sd: sameSeeds ? sd(local) : null,
    local_tpe_minus_random_per_seed: sameSeeds ? local : null,
  };
}

function renderNats(r: NatsRow): string {
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  const lines = [
    `synthetic over NATS (${r.processes} worker processes x ${r.concurrency} slots; TPE ${r.fixed_window === null ? "following the fleet's slots" : `with a fixed window of ${r.fixed_window}`}): ${r.seeds.length} seed(s), budget ${r.budget} epochs`,
    '  variant       best val_acc (mean ± sd)   s/run',
  ];
  for (const v of r.variants) {
    lines.push(
      `  ${v.variant.padEnd(12)}  ${v.final_best_mean.toFixed(4)} ± ${v.final_best_sd.toFixed(4)}        ${v.seconds_mean.toFixed(1)}`,
    );
  }
  lines.push(
    `  TPE - random at equal budget over NATS: ${signed(r.tpe_minus_random)} ± ${r.tpe_minus_random_sd.toFixed(4)} (per seed ${r.tpe_minus_random_per_seed.map(signed).join(', ')})`,
    r.local_tpe_minus_random === null
      ? '  local row: not run on the same seeds'
      : `  the same, local row, same seeds:     ${signed(r.local_tpe_minus_random)} ± ${r.local_tpe_minus_random_sd!.toFixed(4)} (per seed ${r.local_tpe_minus_random_per_seed!.map(signed).join(', ')})`,
  );
  return lines.join('\n');
}

function renderTask(r: TaskReport): string {
  const lines = [
    `${r.task}: ${r.seeds.length} seed(s), budget ${r.budget} epochs (random: ${r.budget / r.epochs} trials x ${r.epochs} epochs)`,
    '  variant       trials  best val_acc (mean ± sd)   s/run',
  ];
  for (const v of r.variants) {
    lines.push(
      `  ${v.variant.padEnd(12)} ${v.trials_mean.toFixed(1).padStart(7)}  ${v.final_best_mean.toFixed(4)} ± ${v.final_best_sd.toFixed(4)}        ${v.seconds_mean.toFixed(1)}`,
    );
  }
  const reached = r.budget_ratio_per_seed.filter((x): x is number => x !== null);
  lines.push(
    `  budget_ratio (random+ASHA to reach random's final best, mean curves): ${r.budget_ratio === null ? 'not reached' : r.budget_ratio.toFixed(3)}` +
      `; per seed: reached in ${reached.length}/${r.seeds.length}, median ${reached.length ? reached.sort((a, b) => a - b)[reached.length >> 1].toFixed(3) : '-'}`,
    `  TPE - random at equal budget: ${r.tpe_minus_random >= 0 ? '+' : ''}${r.tpe_minus_random.toFixed(4)}`,
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('bench-search')
    .description('random vs random+ASHA vs TPE vs TPE+ASHA: best objective against epoch budget')
    .option('--out <file>', 'JSON report (SVG plots beside it)', 'bench-search.json')
    .option('--seeds <n>', 'synthetic seeds (default 10; quick 3)', positiveInt)
    .option('--trials <n>', "synthetic: random search's trials (default 60)", positiveInt, 60)
    .option('--slots <n>', 'concurrent trials on the synthetic task', positiveInt, 4)
    .option('--quick', 'a smoke run: 3 synthetic seeds, 20 trials, real run with 4 trials')
    .option('--skip-real', 'skip the multi-digit-mnist comparison')
    .option('--skip-synthetic', 'skip the synthetic comparison (and the conditional one and the cost)')
    .option('--real-seeds <n>', 'multi-digit-mnist seeds (default 3; quick 1)', positiveInt)
    .option(
      '--real-trials <n>',
      "multi-digit-mnist: random search's trials (default 16; quick 4)",
      positiveInt,
    )
    .option('--real-archs <list>', 'multi-digit-mnist: architectures, comma-separated', 'mlp')
    .option('--train-size <n>', 'multi-digit-mnist: training pairs per trial', positiveInt, 2000)
    .option(
      '--val-size <n>',
      'multi-digit-mnist: validation pairs per epoch (default all 4,000)',
      positiveInt,
    )
    .option('--threads <n>', 'multi-digit-mnist: pool threads (default 2)', positiveInt, 2)
    .option('--skip-cost', 'skip measuring the cost per decision')
    .option('--skip-nats', 'skip random vs TPE over NATS (real nats-server and hpo worker processes)')
    .option('--nats-seeds <n>', 'over NATS: the first N seeds (default 3)', positiveInt, 3)
    .option('--nats-processes <n>', 'over NATS: worker processes (default 2)', positiveInt, 2)
    .option(
      '--nats-fixed-window <n>',
      "over NATS: TPE keeps N trials in flight instead of following the fleet's slots (hpo before issue 25: 64)",
      positiveInt,
    )
    .option('--skip-conditional', 'skip TPE vs random on the conditional synthetic space')
    .option(
      '--conditional-trials <n>',
      'conditional space: trials per run (default 60; quick 40)',
      positiveInt,
    )
    .option('--min-iter <n>', 'synthetic: ASHA min_iter', positiveInt, 1)
    .option('--eta <x>', 'synthetic: ASHA eta', Number, 3)
    .option('--brackets <n>', 'synthetic: ASHA brackets (s)', positiveInt, 1)
    .parse(argv);
  const flags = program.opts<{
    out: string;
    seeds?: number;
    trials: number;
    slots: number;
    quick?: boolean;
    skipReal?: boolean;
    skipSynthetic?: boolean;
    realSeeds?: number;
    realTrials?: number;
    realArchs: string;
    trainSize: number;
    valSize?: number;
    threads: number;
    skipCost?: boolean;
    skipNats?: boolean;
    natsSeeds: number;
    natsProcesses: number;
    natsFixedWindow?: number;
    skipConditional?: boolean;
    conditionalTrials?: number;
    minIter: number;
    eta: number;
    brackets: number;
  }>();
  const seedCount = flags.seeds ?? (flags.quick ? 3 : 10);
  const trials = flags.quick ? Math.min(flags.trials, 20) : flags.trials;
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);

  const tasks: TaskReport[] = [];
  let synthetic: TaskReport | undefined;
  if (!flags.skipSynthetic) {
    synthetic = await compare({
      task: 'synthetic',
      base: syntheticSpace(trials),
      epochs: SYNTHETIC_EPOCHS,
      trials,
      asha: {
        type: 'hyperband',
        min_iter: flags.minIter,
        eta: flags.eta,
        max_iter: SYNTHETIC_EPOCHS,
        ...(flags.brackets > 1 ? { s: flags.brackets } : {}),
      },
      seeds,
      executor: inlineExecutor(flags.slots),
    });
    tasks.push(synthetic);
    process.stdout.write(`${renderTask(synthetic)}\n`);
  }

  let nats: NatsRow | undefined;
  if (!flags.skipNats && !flags.skipSynthetic) {
    nats = await natsRow({
      base: syntheticSpace(trials),
      budget: trials * SYNTHETIC_EPOCHS,
      seeds: seeds.slice(0, flags.natsSeeds),
      processes: flags.natsProcesses,
      concurrency: Math.max(1, Math.round(flags.slots / flags.natsProcesses)),
      ...(flags.natsFixedWindow === undefined ? {} : { fixedWindow: flags.natsFixedWindow }),
      local: synthetic,
    });
    process.stdout.write(`${renderNats(nats)}\n`);
  }

  let conditional: ConditionalReport | undefined;
  if (!flags.skipConditional && !flags.skipSynthetic) {
    conditional = await compareConditional({
      trials: flags.conditionalTrials ?? (flags.quick ? 40 : 60),
      seeds,
      executor: inlineExecutor(flags.slots),
      log,
    });
    process.stdout.write(`${renderConditional(conditional)}\n`);
  }

  if (!flags.skipReal) {
    const realTrials = flags.realTrials ?? (flags.quick ? 4 : 16);
    const realSeeds = flags.realSeeds ?? (flags.quick ? 1 : 3);
    const archs = flags.realArchs
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    const unknown = archs.filter((a) => !ARCHITECTURES.has(a));
    if (archs.length === 0 || unknown.length > 0) {
      throw new Error(
        `--real-archs: expected architectures among ${[...ARCHITECTURES.keys()].join(', ')}, got "${flags.realArchs}"`,
      );
    }
    await loadDataset({ seed: 1 }); // generate the set once, before the threads read the cache
    const pool = new TrialPool({ threads: flags.threads, backend: 'auto' });
    try {
      const real = await compare({
        task: 'multi-digit-mnist',
        base: realSpace(realTrials, flags.trainSize, archs, flags.valSize),
        epochs: REAL_EPOCHS,
        trials: realTrials,
        asha: { type: 'hyperband', min_iter: 1, eta: 3, max_iter: REAL_EPOCHS },
        seeds: Array.from({ length: realSeeds }, (_, i) => i + 1),
        executor: {
          slots: pool.slots,
          name: pool.name,
          run: (s, h) => pool.run(s, h),
          close: async () => {},
        },
      });
      tasks.push(real);
      process.stdout.write(`${renderTask(real)}\n`);
    } finally {
      await pool.close();
    }
  }

  let cost: DecisionCost | undefined;
  if (!flags.skipCost && !flags.skipSynthetic) {
    cost = measureDecisionCost(syntheticSpace(2000), SYNTHETIC_EPOCHS);
    process.stdout.write(
      `cost per decision at ${cost.trials} trials: TPE next ${cost.tpe_next_ms.toFixed(3)} ms, random next ${cost.random_next_ms.toFixed(3)} ms, ` +
        `ASHA decide ${cost.asha_decide_ms.toFixed(4)} ms, median decide ${cost.median_decide_ms.toFixed(4)} ms (target < 5 ms)\n`,
    );
  }

  const svgs: string[] = [];
  for (const t of tasks) {
    const svg = flags.out.replace(/\.json$/, '') + `-${t.task}.svg`;
    await writeCurvePlot(
      svg,
      `${t.task}: mean best-so-far over ${t.seeds.length} seed(s)`,
      'val_acc',
      t.curves,
    );
    svgs.push(svg);
  }
  const report = {
    bench: 'search',
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: availableParallelism(),
      node: process.version,
    },
    targets: {
      budget_ratio_max: 1 / 3,
      tpe_beats_random: true,
      tpe_beats_random_conditional: true,
      decision_ms_max: 5,
    },
    conditional: conditional ?? null,
    nats: nats ?? null,
    budget_ratio: synthetic?.budget_ratio ?? null,
    tpe_minus_random: synthetic?.tpe_minus_random ?? null,
    decision_cost: cost ?? null,
    tasks,
    plots: svgs,
  };
  writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${flags.out} and ${svgs.join(', ')}`);
}

main(process.argv).catch((err) => {
  process.stderr.write(`bench-search: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

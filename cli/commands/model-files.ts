/** `hpo export`, `hpo evaluate`, `hpo predict`: the best model of a search as files, its test accuracy, one prediction. */
import { cpSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { checkOutDir } from '../options/out-path.js';
import { selectBackend } from '../../worker/backends/index.js';
import { DataError, UsageError } from '../../shared/errors.js';
import { childLogger } from '../../shared/log/index.js';
import {
  checkDigitPngHeader,
  evaluateModelDir,
  MODEL_METADATA_FILE,
  predictImage,
} from '../../worker/model-files/index.js';
import type { StoreReader, TrialRecord } from '../../orchestrator/store/index.js';
import { backendOption, type BackendFlags } from '../options/backend-option.js';
import { dataDirOption } from '../options/data-options.js';
import { jsonOption, type JsonFlags } from '../options/output-options.js';
import { addDbOption, withExistingStore } from '../options/store-options.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** The best trial by the validation objective across the experiments, and its saved model. */
export async function bestModel(
  store: StoreReader,
  names: readonly string[],
): Promise<{ trial: TrialRecord; path: string }> {
  let best: { trial: TrialRecord; goal: string } | undefined;
  for (const name of names) {
    const exp = await store.getExperiment(name);
    if (!exp) throw new UsageError(`no experiment '${name}' in the database (see hpo experiments)`);
    const top = (await store.leaderboard(name, { top: 1 }))[0];
    const goal = exp.space.metric.goal;
    if (best && best.goal !== goal)
      throw new UsageError(`experiments '${names.join("', '")}' differ in metric goal`);
    if (
      top &&
      (!best || (goal === 'maximize' ? top.value! > best.trial.value! : top.value! < best.trial.value!))
    ) {
      best = { trial: top, goal };
    }
  }
  if (!best) throw new UsageError(`no finished trial with a value in '${names.join("', '")}' yet`);
  const t = best.trial;
  const model = (await store.listModels(t.experiment)).find((m) => m.trial_id === t.trial_id);
  if (!model) {
    const saved: string[] = [];
    for (const n of names) for (const m of await store.listModels(n)) saved.push(`${n}/${m.trial_id}`);
    throw new UsageError(
      `the best trial ${t.experiment}/${t.trial_id} (${t.value}) has no saved model: run the search with ` +
        `--save-models top:1 (or all)${saved.length ? `; trials with a saved model: ${saved.join(', ')}` : ''}`,
    );
  }
  return { trial: t, path: model.path };
}

/** The saved model of one named trial ('t0004', or 'experiment/t0004'). */
async function namedModel(
  store: StoreReader,
  names: readonly string[],
  id: string,
): Promise<{ trial: TrialRecord; path: string }> {
  const [experiment, trialId] = id.includes('/') ? id.split('/', 2) : [names[0], id];
  if (names.length > 1 && !id.includes('/')) {
    throw new UsageError(`--trial: with several experiments, name it as EXPERIMENT/TRIAL, got '${id}'`);
  }
  if (!names.includes(experiment))
    throw new UsageError(`--trial: '${experiment}' is not among ${names.join(', ')}`);
  const trial = await store.getTrial(experiment, trialId);
  if (!trial) throw new UsageError(`--trial: no trial ${trialId} in experiment '${experiment}'`);
  const model = (await store.listModels(experiment)).find((m) => m.trial_id === trialId);
  if (!model) throw new UsageError(`--trial: ${experiment}/${trialId} has no saved model`);
  return { trial, path: model.path };
}

export function registerModelFiles(program: Command): void {
  addDbOption(
    program
      .command('export')
      .description('copy the saved model of the best trial (by the validation objective) to a folder')
      .argument('<names...>', 'experiment(s); the best trial across them')
      .requiredOption('--out <dir>', 'folder to write (must not exist, or be empty)')
      .option(
        '--trial <id>',
        'export this trial instead of the best (EXPERIMENT/TRIAL with several experiments)',
      ),
  ).action((names: string[], flags: { db: string; out: string; trial?: string }) =>
    withExistingStore(flags.db, async (store) => {
      const { trial, path } = flags.trial
        ? await namedModel(store, names, flags.trial)
        : await bestModel(store, names);
      if (!existsSync(`${path}/${MODEL_METADATA_FILE}`)) {
        throw new DataError(
          `the model of ${trial.experiment}/${trial.trial_id} is recorded at ${path} (worker ${trial.worker ?? '?'}), ` +
            'which is not on this machine or was removed',
          path,
        );
      }
      checkOutDir(flags.out, { canForce: false });
      cpSync(path, flags.out, { recursive: true });
      process.stdout.write(
        `exported ${trial.experiment}/${trial.trial_id} (${JSON.stringify(trial.params)}, objective ${trial.value}) to ${flags.out}\n`,
      );
    }),
  );

  program
    .command('evaluate')
    .description("a saved model's accuracy per head on the test split regenerated from its data seed")
    .argument('<dir>', 'model folder (hpo export output)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .addOption(backendOption())
    .action(async (dir: string, flags: BackendFlags & JsonFlags & { dataDir?: string }) => {
      await selectBackend(flags.backend, { logger: childLogger({ component: 'backend' }) });
      const r = await evaluateModelDir(dir, { dataDir: flags.dataDir });
      const { metadata: meta, ...numbers } = r;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ ...numbers, arch: meta.arch, trial: meta.trial_id, recorded_test: meta.test }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(
        `${dir}: ${meta.arch} (${meta.experiment ?? '-'}/${meta.trial_id ?? '-'}), test split of data seed ` +
          `${meta.data.seed} (${r.images} images, sha256 ${meta.data.sha256.slice(0, 12)}…)\n` +
          `test accuracy: top ${pct(r.test_acc_top)}, bottom ${pct(r.test_acc_bottom)}, mean ${pct(r.test_acc)}, ` +
          `both ${pct(r.test_acc_both)}; loss ${r.test_loss.toFixed(4)}\n` +
          (meta.test.test_acc !== undefined ? `recorded at training: mean ${pct(meta.test.test_acc)}\n` : ''),
      );
    });

  program
    .command('predict')
    .description('the two digits a saved model reads in a 42x28 grayscale PNG, with probabilities')
    .argument('<dir>', 'model folder (hpo export output)')
    .argument('<image>', '42x28 (height x width) grayscale PNG, e.g. from hpo data sample')
    .addOption(jsonOption('print JSON (with all ten probabilities per head)'))
    .addOption(backendOption())
    .action(async (dir: string, image: string, flags: BackendFlags & JsonFlags) => {
      checkDigitPngHeader(image); // a bad image is refused before any backend or model loads
      await selectBackend(flags.backend, { logger: childLogger({ component: 'backend' }) });
      const p = await predictImage(dir, image);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${image}: top ${p.top.digit} (${pct(p.top.probability)}), bottom ${p.bottom.digit} (${pct(p.bottom.probability)})\n`,
      );
    });
}

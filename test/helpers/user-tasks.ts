/** Task modules and command programs written into temp folders, for the own-task tests. */
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/worker/tasks/define-task.js of this checkout (modules in temp folders import it by path). */
export const DEFINE_TASK_URL = new URL('../../worker/tasks/define-task.js', import.meta.url).href;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `hpo-${prefix}-`));
}

/** A task module `name` minimising (x - 2)^2 + 1/epoch over `epochs` epochs, as `loss`. */
export function quadraticModule(name = 'quad', epochs = 3): string {
  return [
    `import { defineTask } from '${DEFINE_TASK_URL}';`,
    `export default defineTask({`,
    `  name: '${name}',`,
    `  metrics: ['loss'],`,
    `  params: { x: { type: 'number' } },`,
    `  async run(spec, ctx) {`,
    `    if (spec.params.x === 13) throw new Error('unlucky x 13');`,
    `    for (let epoch = 1; epoch <= ${epochs}; epoch++) {`,
    `      const loss = (spec.params.x - 2) ** 2 + 1 / epoch;`,
    `      if ((await ctx.reportEpoch(epoch, { loss })) === 'stop') break;`,
    `    }`,
    `  },`,
    `});`,
    '',
  ].join('\n');
}

export function writeFile(dir: string, name: string, text: string, executable = false): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  if (executable) chmodSync(file, 0o755);
  return file;
}

/**
 * A W&B-style Node training program: reads --name=value args, writes its argv, env and pid into
 * HPO_TRIAL_DIR, prints noise and one JSON line per epoch of `validation_loss`; `--ignore_term=1`
 * makes it ignore SIGTERM, `--exit_code=N` makes it print to stderr and exit N after epoch 1.
 */
export const TRAIN_PROGRAM = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/s.exec(a);
  if (m) args[m[1]] = m[2];
}
const dir = process.env.HPO_TRIAL_DIR;
writeFileSync(join(dir, 'seen.json'), JSON.stringify({ argv: process.argv.slice(2), pid: process.pid,
  env: { id: process.env.HPO_TRIAL_ID, exp: process.env.HPO_EXPERIMENT, seed: process.env.HPO_SEED, dir } }));
if (args.ignore_term === '1') process.on('SIGTERM', () => {});
const epochs = Number(args.epochs ?? 3);
const lr = Number(args.lr ?? 0.01);
console.log('Epoch progress: starting');
for (let epoch = 1; epoch <= epochs; epoch++) {
  await new Promise((r) => setTimeout(r, Number(args.sleep_ms ?? 10)));
  console.log('not json {');
  console.log(JSON.stringify({ epoch, validation_loss: (Math.log10(lr) + 2) ** 2 + 1 / epoch }));
  if (args.exit_code && epoch === 1) {
    console.error('something broke: CUDA out of cheese');
    process.exit(Number(args.exit_code));
  }
}
if (args.ignore_term === '1') await new Promise((r) => setTimeout(r, 600000));
`;

export const HPO_REPO = fileURLToPath(new URL('../../../', import.meta.url));

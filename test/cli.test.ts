import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cacheFilePath } from '../worker/data/index.js';
import { runHpo } from './helpers/cli.js';
import { TEST_DATA_DIR, testDataset } from './helpers/dataset.js';

const TRAIN = [
  'train',
  '--arch',
  'mlp',
  '--optimizer',
  'adam',
  '--lr',
  '0.001',
  '--batch-size',
  '64',
  '--epochs',
  '1',
];

/** A user mistake: exit code 2, a message, no stack trace. */
function assertUsageError(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('hpo CLI', () => {
  let tmp: string;

  before(async () => {
    await testDataset(); // fills the cache the CLI runs use
    tmp = await mkdtemp(join(tmpdir(), 'hpo-cli-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('--help lists the commands', async () => {
    const r = await runHpo(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of ['models', 'data', 'train']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  });

  it('models --json lists the seven models with parameter counts', async () => {
    const r = await runHpo(['models', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const models = JSON.parse(r.stdout) as { name: string; params: number; description: string }[];
    assert.deepEqual(
      models.map((m) => m.name),
      ['mlp', 'mlp_linear', 'cnn', 'cnn2', 'scnn', 'scnn2', 'scnn3'],
    );
    for (const m of models) assert.ok(m.params > 0 && m.description.length > 0);
  });

  it('data info --json gives the split sizes, image size, balance and sha256', async () => {
    const r = await runHpo(['data', 'info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.height, 42);
    assert.equal(info.width, 28);
    assert.deepEqual(
      [info.splits.train.count, info.splits.val.count, info.splits.test.count],
      [36000, 4000, 4000],
    );
    assert.deepEqual(info.splits.test.top, Array(10).fill(400));
    assert.equal(info.sha256, (await testDataset()).sha256);
  });

  it('data preview writes a PNG', async () => {
    const out = join(tmp, 'preview.png');
    const r = await runHpo(['data', 'preview', '--out', out, '--count', '8']);
    assert.equal(r.code, 0, r.stderr);
    const png = PNG.sync.read(await readFile(out));
    assert.ok(png.width > 28 && png.height > 42);
  });

  it('train --json prints one JSON document with epochs, test metrics and the backend', async () => {
    const r = await runHpo([...TRAIN, '--train-size', '500', '--backend', 'wasm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.backend, 'wasm');
    assert.equal(doc.epochs.length, 1);
    assert.ok(doc.epochs[0].val_acc > 0 && doc.epochs[0].val_acc <= 1);
    assert.ok(doc.test.test_acc > 0 && doc.test.test_acc <= 1);
    assert.equal(doc.config.arch, 'mlp');
  });

  it('train prints a row per epoch and the test accuracy on a terminal', async () => {
    const r = await runHpo([...TRAIN, '--train-size', '200', '--epochs', '2', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /epoch\s+train_loss\s+val_loss/);
    assert.match(r.stdout, /^\s+2\s+\d+\.\d{4}/m);
    assert.match(r.stdout, /test: top \d+\.\d\d%, bottom \d+\.\d\d%, mean/);
  });

  describe('bad input', () => {
    const cases: [string, string[], RegExp][] = [
      [
        'unknown architecture',
        ['--arch', 'resnet'],
        /--arch <name>.*'resnet' is invalid\. expected one of: mlp, mlp_linear/,
      ],
      [
        'unknown optimizer',
        ['--optimizer', 'lbfgs'],
        /--optimizer <name>.*'lbfgs' is invalid\. expected one of: sgd, momentum, adam, rmsprop/,
      ],
      [
        'unknown backend',
        ['--backend', 'cuda'],
        /--backend <name>.*'cuda' is invalid\. expected one of: auto, tensorflow-gpu/,
      ],
      ['negative learning rate', ['--lr', '-0.1'], /--lr <x>.*'-0\.1' is invalid\. expected a number > 0/],
      ['non-numeric learning rate', ['--lr', 'fast'], /--lr <x>.*'fast' is invalid\. expected a number > 0/],
      [
        'zero batch size',
        ['--batch-size', '0'],
        /--batch-size <n>.*'0' is invalid\. expected an integer > 0/,
      ],
      ['fractional epochs', ['--epochs', '1.5'], /--epochs <n>.*'1\.5' is invalid\. expected an integer > 0/],
      [
        'negative train size',
        ['--train-size', '-5'],
        /--train-size <n>.*'-5' is invalid\. expected an integer > 0/,
      ],
      ['train size above the split', ['--train-size', '40000'], /trainSize: expected at most 36000/],
    ];
    for (const [what, patch, message] of cases) {
      it(`${what}: exit 2 with a message naming the option`, async () => {
        const args = [...TRAIN];
        for (let i = 0; i < patch.length; i += 2) {
          const at = args.indexOf(patch[i]);
          if (at >= 0) args[at + 1] = patch[i + 1];
          else args.push(patch[i], patch[i + 1]);
        }
        assertUsageError(await runHpo(args), message);
      });
    }

    it('a missing required option: exit 2', async () => {
      assertUsageError(
        await runHpo(['train', '--arch', 'mlp']),
        /required option '--optimizer <name>' not specified/,
      );
    });

    it('an unknown command: exit 2', async () => {
      assertUsageError(await runHpo(['trian']), /unknown command 'trian'/);
    });

    it('a backend asked for by name is used or named in the failure, never a silent fallback', async () => {
      // @tensorflow/tfjs-node-gpu is an optional dependency: absent offline, present (loadable or not,
      // e.g. without CUDA) where npm could fetch it. Either way the answer names the backend.
      let installed = true;
      try {
        createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
      } catch {
        installed = false;
      }
      const r = await runHpo([...TRAIN, '--backend', 'tensorflow-gpu', '--train-size', '64']);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      if (!installed) {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /backend 'tensorflow-gpu' could not be loaded: package not installed/);
      } else if (r.code === 0) {
        assert.match(r.stdout, / on tensorflow-gpu\n/);
      } else {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /backend 'tensorflow-gpu' could not be loaded: /);
      }
    });

    it('a missing data file is named, exit 1', async () => {
      const missing = join(tmp, 'nope.hpod');
      const r = await runHpo(['data', 'info', '--data-file', missing]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(missing), r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    });

    it('a truncated data file is named, exit 1, and the file is left as it was', async () => {
      const bytes = await readFile(cacheFilePath(1, TEST_DATA_DIR));
      const truncated = join(tmp, 'truncated.hpod');
      const cut = bytes.subarray(0, bytes.length - 1000);
      await writeFile(truncated, cut);
      const r = await runHpo([...TRAIN, '--data-file', truncated]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(truncated), r.stderr);
      assert.match(r.stderr, /truncated|expected \d+ bytes/i);
      assert.deepEqual(await readFile(truncated), cut);
    });

    it('a corrupt data file (one byte changed) is named, exit 1', async () => {
      const bytes = Buffer.from(await readFile(cacheFilePath(1, TEST_DATA_DIR)));
      bytes[bytes.length - 5000] ^= 0xff;
      const corrupt = join(tmp, 'corrupt.hpod');
      await writeFile(corrupt, bytes);
      const r = await runHpo(['data', 'info', '--data-file', corrupt]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(corrupt), r.stderr);
      assert.match(r.stderr, /sha256|hash|corrupt/i);
    });
  });
});

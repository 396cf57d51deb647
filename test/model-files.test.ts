import { modelFolder } from '../shared/protocol/model-metadata.js';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { ModelKeeper, parseSavePolicy } from '../orchestrator/artifacts/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { validateResultEvent, validateTrialSpec } from '../shared/protocol/validate.js';
import { selectBackend } from '../worker/backends/index.js';
import { UsageError } from '../shared/errors.js';
import {
  encodeDigitPng,
  loadModelFiles,
  MAX_DIGIT_PNG_BYTES,
  type ModelMetadata,
  readDigitPng,
  saveModelFiles,
} from '../worker/model-files/index.js';
import { disposeModel } from '../worker/models/dispose.js';
import { architectureNames, getArchitecture } from '../worker/models/registry.js';
import { runHpo } from './helpers/cli.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';

function metadata(arch: string): ModelMetadata {
  return {
    format: 'hpo-model',
    version: 1,
    arch,
    params: { arch },
    input_shape: [42, 28, 1],
    heads: ['top', 'bottom'],
    classes: 10,
    data: { seed: 1, sha256: '0'.repeat(64) },
    seed: 7,
    backend: tf.getBackend(),
    tfjs_version: tf.version.tfjs,
    validation: {},
    test: {},
    saved_at: new Date(0).toISOString(),
  };
}

function grayPng(width: number, height: number, colorType: 0 | 2 | 6 = 0): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(128);
  return PNG.sync.write(png, { colorType, inputColorType: 6 });
}

/** One PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid digit PNG with `extra` chunks inserted right after its IHDR. */
function digitPngWith(...extra: Buffer[]): Buffer {
  const png = encodeDigitPng(new Uint8Array(28 * 42).fill(200));
  const afterHeader = 8 + 12 + 13; // signature, IHDR chunk
  return Buffer.concat([png.subarray(0, afterHeader), ...extra, png.subarray(afterHeader)]);
}

describe('saved models: tfjs files, every architecture, export/evaluate/predict', function () {
  this.timeout(600_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-models-'));
    await selectBackend('wasm');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('save then load gives the same outputs for every architecture (shared towers included)', async () => {
    const x = tf.randomUniform([2, 42, 28, 1], 0, 1, 'float32', 3);
    for (const arch of architectureNames()) {
      const model = getArchitecture(arch).build({ seed: 11 });
      const out = join(dir, `rt-${arch}`);
      await saveModelFiles(model, out, metadata(arch));
      const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
      assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin'], `${arch}: tfjs-node file layout`);
      assert.equal(json.format, 'layers-model');
      const { model: loaded, metadata: meta } = await loadModelFiles(out);
      assert.equal(meta.arch, arch);
      assert.equal(loaded.countParams(), model.countParams(), `${arch}: parameter count`);
      const a = model.predict(x) as tf.Tensor[];
      const b = loaded.predict(x) as tf.Tensor[];
      for (let h = 0; h < 2; h++) {
        const diff = tf.max(tf.abs(tf.sub(a[h], b[h]))).dataSync()[0];
        assert.ok(diff < 1e-5, `${arch} head ${h}: outputs differ by ${diff}`);
      }
      tf.dispose([...a, ...b]);
      disposeModel(model);
      disposeModel(loaded);
    }
    x.dispose();
  });

  it('a data-set image survives PNG encoding exactly', () => {
    const image = new Uint8Array(42 * 28).map((_, i) => (i * 37) % 256);
    const file = join(dir, 'digit.png');
    return writeFile(file, encodeDigitPng(image)).then(() => {
      const pixels = readDigitPng(file);
      assert.deepEqual(
        Array.from(pixels, (p) => Math.round(p * 255)),
        Array.from(image),
      );
    });
  });

  it('predict input checks: missing file, not a PNG, wrong size, wrong colour type: a UsageError naming the file', async () => {
    const missing = join(dir, 'missing.png');
    assert.throws(
      () => readDigitPng(missing),
      (e: Error) => e instanceof UsageError && e.message === `${missing}: no such file`,
    );
    const text = join(dir, 'text.png');
    await writeFile(text, 'not an image');
    assert.throws(
      () => readDigitPng(text),
      (e: Error) => e instanceof UsageError && e.message.startsWith(`${text}: not a PNG image`),
    );
    const big = join(dir, 'big.png');
    await writeFile(big, grayPng(28, 28));
    assert.throws(
      () => readDigitPng(big),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.includes(`${big}: expected a 28x42`) &&
        e.message.includes('it is 28x28'),
    );
    const rgb = join(dir, 'rgb.png');
    await writeFile(rgb, grayPng(28, 42, 2));
    assert.throws(
      () => readDigitPng(rgb),
      (e: Error) => e instanceof UsageError && /colour type is RGB\b/.test(e.message),
    );
    const rgba = join(dir, 'rgba.png');
    await writeFile(rgba, grayPng(30, 42, 6));
    assert.throws(() => readDigitPng(rgba), /it is 30x42 \(width x height\) and its colour type is RGBA/);
    await writeFile(join(dir, 'ok.png'), grayPng(28, 42, 0));
    assert.equal(readDigitPng(join(dir, 'ok.png')).length, 42 * 28);
  });

  it('predict reads at most what a 28x42 image needs: a second IHDR, a long payload inside or after it (issue 24)', async () => {
    // A second IHDR declaring 2000x2000 after a valid one: refused before anything is decoded.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(2000, 0);
    ihdr.writeUInt32BE(2000, 4);
    ihdr[8] = 8; // bit depth; colour type 0 (grayscale), compression, filter, interlace 0
    const twice = join(dir, 'two-headers.png');
    await writeFile(twice, digitPngWith(chunk('IHDR', ihdr)));
    assert.throws(
      () => readDigitPng(twice),
      (e: Error) =>
        e instanceof UsageError && e.message === `${twice}: not a PNG image (a second IHDR chunk)`,
    );
    // 3 GiB after IEND (a sparse file: no disk used): never read, the image is.
    const trailing = join(dir, 'trailing.png');
    await writeFile(trailing, digitPngWith());
    await truncate(trailing, 3 * 2 ** 30);
    assert.equal(readDigitPng(trailing).length, 28 * 42);
    // A chunk that does not end within the bytes read: refused, saying why.
    const long = join(dir, 'long-text.png');
    await writeFile(long, digitPngWith(chunk('tEXt', Buffer.alloc(MAX_DIGIT_PNG_BYTES, 0x41))));
    assert.throws(
      () => readDigitPng(long),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.startsWith(`${long}: not read past its first ${MAX_DIGIT_PNG_BYTES} bytes`),
    );
    // Small ancillary chunks are skipped; a file cut inside a chunk is not a PNG.
    const text = join(dir, 'small-text.png');
    await writeFile(text, digitPngWith(chunk('tEXt', Buffer.from('Comment\0hello'))));
    assert.equal(readDigitPng(text).length, 28 * 42);
    const cut = join(dir, 'cut.png');
    await writeFile(cut, digitPngWith().subarray(0, 60));
    assert.throws(() => readDigitPng(cut), /not a PNG image \(it ends inside a chunk, before IEND\)/);
  });

  it('the protocol carries save_model as a flag (never a path) and model as an optional, validated path', () => {
    const spec = {
      v: PROTOCOL_VERSION,
      experiment: 'e',
      experiment_id: 'e1',
      token: 'T'.repeat(22),
      trial_id: 't0',
      attempt: 1,
      task: 'x',
      params: {},
      seed: 1,
    };
    assert.deepEqual(validateTrialSpec({ ...spec, save_model: true }), {
      ok: true,
      value: { ...spec, save_model: true },
    });
    assert.equal(validateTrialSpec(spec).ok, true);
    for (const bad of [{ dir: '/m/e/t0' }, { dir: '' }, 'x', 1]) {
      const r = validateTrialSpec({ ...spec, save_model: bad });
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, /^save_model: expected a boolean/);
    }
    // The folder is derived from the ids, under the worker's root; ids that could leave it are refused.
    assert.equal(modelFolder('/m/', 'e1', 't0'), '/m/e1/t0');
    for (const [id, trial] of [
      ['..', 't0'],
      ['e1', '../x'],
      ['e1', 'a/b'],
      ['e.1', 't0'],
      ['', 't0'],
    ]) {
      assert.throws(() => modelFolder('/m', id, trial), /not a safe folder name/);
    }
    const result = {
      ...spec,
      state: 'completed',
      metrics: {},
      epochs: 1,
      worker: 'w',
      started_at: Date.now() - 2,
      ended_at: Date.now() - 1,
    };
    const ok = validateResultEvent({ ...result, model: { path: '/m/e/t0' } });
    assert.ok(ok.ok && ok.value.model?.path === '/m/e/t0');
    const bad = validateResultEvent({ ...result, model: { path: 'x'.repeat(5000) } });
    assert.ok(!bad.ok && /model\.path/.test(bad.error));
    // Over NATS: the uploaded files (names, sizes, sha256) or why nothing was sent.
    const files = ['model.json', 'weights.bin', 'hpo-model.json'].map((name, i) => ({
      name,
      size: i * 10,
      sha256: String(i).repeat(64),
    }));
    const sent = validateResultEvent({ ...result, model: { path: '/m/e/t0', files } });
    assert.deepEqual(sent.ok && sent.value.model, { path: '/m/e/t0', files });
    const unsent = validateResultEvent({ ...result, model: { path: '/m/e/t0', not_sent: 'too big' } });
    assert.deepEqual(unsent.ok && unsent.value.model, { path: '/m/e/t0', not_sent: 'too big' });
    for (const [wrong, field] of [
      [[...files, files[0]], /model\.files: expected an array of at most 3/],
      [[{ ...files[0], sha256: 'Z'.repeat(64) }], /model\.files\[0\]\.sha256/],
      [[{ ...files[0], size: -1 }], /model\.files\[0\]\.size/],
      [[{ ...files[0], name: 'model.json/../x' }], /model\.files\[0\]\.name/],
    ] as const) {
      const r = validateResultEvent({ ...result, model: { path: '/m', files: wrong } });
      assert.ok(!r.ok && field.test(r.error), JSON.stringify(r));
    }
  });

  it('--save-models policies parse; anything else is a usage error', () => {
    assert.deepEqual(parseSavePolicy('all'), { kind: 'all' });
    assert.deepEqual(parseSavePolicy('none'), { kind: 'none' });
    assert.deepEqual(parseSavePolicy('top:3'), { kind: 'top', k: 3 });
    for (const bad of ['top:0', 'top', 'top:x', 'best', '']) {
      assert.throws(
        () => parseSavePolicy(bad),
        (e: Error) => e instanceof UsageError && e.message.includes(`'${bad}'`),
      );
    }
  });

  it('top:K keeps the K best by validation (not test) and deletes only hpo model folders under its root', async () => {
    const root = join(dir, 'keeper');
    const store = SqliteStore.open(join(dir, 'keeper.db'));
    try {
      await store.createExperiment(
        'e',
        {
          method: 'grid',
          metric: { name: 'val_acc', goal: 'maximize' },
          parameters: { a: { kind: 'categorical', values: [1, 2, 3] } },
          task: 'synthetic',
          seed: 1,
          data: { seed: 1 },
        },
        '',
      );
      const keeper = new ModelKeeper({
        store,
        experiment: 'e',
        experimentId: 'e-id',
        policy: { kind: 'top', k: 1 },
        root,
      });
      const outside = join(dir, 'outside-model');
      await mkdir(outside, { recursive: true });
      await writeFile(join(outside, 'hpo-model.json'), '{}');
      const vals = [0.5, 0.9, 0.7];
      for (let i = 0; i < 3; i++) {
        const id = `t${i}`;
        await store.addTrial('e', { trial_id: id, index: i, params: { a: i }, seed: i });
        await store.startTrial('e', id, 'w');
        const path = i === 2 ? outside : keeper.dirFor(id);
        if (i < 2) {
          await mkdir(path, { recursive: true });
          await writeFile(join(path, 'hpo-model.json'), '{}');
        }
        const result = {
          v: PROTOCOL_VERSION as typeof PROTOCOL_VERSION,
          experiment: 'e',
          experiment_id: 'e-id',
          trial_id: id,
          attempt: 1,
          state: 'completed' as const,
          // t0's test accuracy is the best: it must not matter.
          metrics: { val_acc: vals[i], test_acc: i === 0 ? 0.99 : 0.1 },
          epochs: 1,
          worker: 'w',
          started_at: 1,
          ended_at: 2,
          model: { path },
        };
        assert.equal(await store.recordResult('e', id, result), true);
        await keeper.recorded(result);
      }
      assert.deepEqual(
        (await store.listModels('e')).map((m) => m.trial_id),
        ['t1'],
      );
      assert.equal(existsSync(keeper.dirFor('t0')), false, 't0 pruned');
      assert.equal(existsSync(keeper.dirFor('t1')), true, 't1 kept');
      assert.equal(
        existsSync(join(outside, 'hpo-model.json')),
        true,
        'a folder outside the root is never deleted',
      );
      assert.equal(
        new ModelKeeper({
          store,
          experiment: 'e',
          experimentId: 'e-id',
          policy: { kind: 'none' },
          root,
        }).saves(),
        false,
      );
    } finally {
      await store.close();
    }
  });

  for (const backend of ['wasm', 'tensorflow'] as const) {
    it(`search --save-models, export, evaluate on ${backend}: the exported model scores exactly the trial's recorded test accuracy; predict reads a sample`, async function () {
      if (backend === 'tensorflow') skipUnlessNativeBackend(this);
      const home = join(dir, backend);
      await mkdir(home, { recursive: true });
      const space = join(home, 'tiny.yaml');
      await writeFile(
        space,
        [
          'method: grid',
          'task: multi-digit-mnist',
          'parameters:',
          '  arch: {value: mlp}',
          '  optimizer: {value: adam}',
          '  learning_rate: {value: 0.002}',
          '  batch_size: {values: [32, 64]}',
          '  epochs: {value: 1}',
          '  train_size: {value: 1000}',
          '',
        ].join('\n'),
      );
      const db = join(home, 'e2e.db');
      const search = await runHpo([
        'search',
        space,
        '--name',
        'tiny',
        '--db',
        db,
        '--workers',
        '1',
        '--backend',
        backend,
        '--save-models',
        'top:1',
      ]);
      assert.equal(search.code, 0, search.stderr);
      const store = SqliteStore.open(db);
      let best;
      try {
        best = (await store.leaderboard('tiny', { top: 1 }))[0];
        assert.deepEqual(
          (await store.listModels('tiny')).map((m) => m.trial_id),
          [best.trial_id],
        );
        assert.equal((await store.listRuns('tiny')).length, 1);
      } finally {
        await store.close();
      }
      const out = join(home, 'best');
      const exp = await runHpo(['export', 'tiny', '--db', db, '--out', out]);
      assert.equal(exp.code, 0, exp.stderr);
      assert.match(exp.stdout, new RegExp(`exported tiny/${best.trial_id}`));
      const again = await runHpo(['export', 'tiny', '--db', db, '--out', out]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already holds .* \(nothing was written\)/);

      const ev = await runHpo(['evaluate', out, '--backend', backend, '--json']);
      assert.equal(ev.code, 0, ev.stderr);
      const e = JSON.parse(ev.stdout);
      assert.equal(e.images, 4000);
      assert.equal(e.trial, best.trial_id);
      assert.equal(e.test_acc_top, best.metrics!.test_acc_top);
      assert.equal(e.test_acc_bottom, best.metrics!.test_acc_bottom);
      assert.equal(e.test_acc, best.metrics!.test_acc);

      const png = join(home, 'sample.png');
      const sample = await runHpo(['data', 'sample', '--split', 'test', '--index', '3', '--out', png]);
      assert.equal(sample.code, 0, sample.stderr);
      const pr = await runHpo(['predict', out, png, '--backend', backend, '--json']);
      assert.equal(pr.code, 0, pr.stderr);
      const p = JSON.parse(pr.stdout);
      for (const h of [p.top, p.bottom]) {
        assert.ok(Number.isInteger(h.digit) && h.digit >= 0 && h.digit <= 9);
        assert.equal(h.probabilities.length, 10);
        assert.ok(Math.abs(h.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
        assert.equal(h.probability, Math.max(...h.probabilities));
      }
      const wrong = await runHpo(['predict', out, space]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /tiny\.yaml: not a PNG image/);
    });
  }
});

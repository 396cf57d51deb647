/**
 * `auto` per model family (issue 28 item 6): the built-in task's mlp trials train on wasm, the conv models
 * on the auto order's backend (tensorflow here), switching in one pool thread; a backend named explicitly
 * is never overridden; the backend each trial reports is the one it ran on. The table itself: unit tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { AUTO_PREFERENCES, autoPreference, familiesPreferring } from '../worker/backends/auto-preference.js';
import { architectureNames } from '../worker/models/index.js';
import { runHpo } from './helpers/cli.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';

describe('auto: the preferred backend per model family (table)', () => {
  it('moves mlp and mlp_linear from tensorflow to wasm, and nothing else', () => {
    assert.equal(autoPreference('mlp', 'tensorflow'), 'wasm');
    assert.equal(autoPreference('mlp_linear', 'tensorflow'), 'wasm');
    for (const arch of ['cnn', 'cnn2', 'scnn', 'scnn2', 'scnn3']) {
      assert.equal(autoPreference(arch, 'tensorflow'), undefined, arch);
    }
    assert.deepEqual(familiesPreferring('wasm', 'tensorflow'), ['mlp', 'mlp_linear']);
  });

  it('keeps the order where nothing was measured or nothing would change: no family, a GPU, wasm, cpu', () => {
    assert.equal(autoPreference(undefined, 'tensorflow'), undefined);
    assert.equal(autoPreference('mlp', 'tensorflow-gpu'), undefined);
    assert.equal(autoPreference('mlp', 'wasm'), undefined);
    assert.equal(autoPreference('mlp', 'cpu'), undefined);
    assert.equal(autoPreference('toString', 'tensorflow'), undefined, 'only the table’s own entries');
  });

  it('names only architectures that exist', () => {
    for (const family of Object.keys(AUTO_PREFERENCES))
      assert.ok(architectureNames().includes(family), family);
  });
});

const CHILD = fileURLToPath(new URL('./helpers/auto-backend-child.js', import.meta.url));

describe('auto per family in one thread (ensureThreadBackend, backend tensorflow built)', function () {
  this.timeout(120_000);
  before(function () {
    skipUnlessNativeBackend(this);
  });

  const steps = async (mode: 'pool' | 'inline') => {
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, mode]);
    return (
      JSON.parse(stdout) as { steps: { call: string; returned: string; active: string; tensors: number }[] }
    ).steps;
  };

  it('a pool thread switches: mlp on wasm, cnn and a task module (no family) on tensorflow, and back', async () => {
    assert.deepEqual(
      (await steps('pool')).map((s) => [s.call, s.returned, s.active, s.tensors]),
      [
        ['mlp', 'wasm', 'wasm', 0],
        ['cnn', 'tensorflow', 'tensorflow', 0],
        ['mlp_linear', 'wasm', 'wasm', 0],
        ['module', 'tensorflow', 'tensorflow', 0],
        ['mlp', 'wasm', 'wasm', 0],
      ],
    );
  });

  it('where trials may run at once (no allowFamilyBackends: the inline executor), auto keeps its order', async () => {
    for (const s of await steps('inline'))
      assert.deepEqual([s.returned, s.active], ['tensorflow', 'tensorflow']);
  });
});

const SPACE = (archs: string[]) =>
  [
    'method: grid',
    'task: multi-digit-mnist',
    'parameters:',
    `  arch: {values: [${archs.join(', ')}]}`,
    '  batch_size: {value: 32}',
    '  epochs: {value: 1}',
    '  train_size: {value: 64}',
    '  val_size: {value: 64}',
    '',
  ].join('\n');

describe('auto per family through the real pool (hpo search, one thread, backend tensorflow built)', function () {
  this.timeout(600_000);
  let dir: string;

  before(async function () {
    skipUnlessNativeBackend(this);
    dir = await mkdtemp(join(tmpdir(), 'hpo-auto-backend-'));
  });
  after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  /** Runs a one-thread search over `archs`; returns each trial's reported backend by arch, and stderr. */
  async function search(name: string, archs: string[], backend: string) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, SPACE(archs));
    const db = join(dir, `${name}.db`);
    const r = await runHpo([
      'search',
      file,
      '--name',
      name,
      '--db',
      db,
      '--workers',
      '1',
      '--backend',
      backend,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials(name);
      assert.deepEqual(
        trials.map((t) => t.state),
        archs.map(() => 'completed'),
        r.stderr,
      );
      return { byArch: Object.fromEntries(trials.map((t) => [t.params.arch, t.backend])), stderr: r.stderr };
    } finally {
      await store.close();
    }
  }

  it('auto: mlp and mlp_linear on wasm, cnn on tensorflow, in one thread; the move logged once', async () => {
    const { byArch, stderr } = await search('auto', ['mlp', 'cnn', 'mlp_linear'], 'auto');
    assert.deepEqual(byArch, { mlp: 'wasm', cnn: 'tensorflow', mlp_linear: 'wasm' });
    const moves = stderr.match(/auto: mlp, mlp_linear on wasm \(faster than tensorflow/g) ?? [];
    assert.equal(moves.length, 1, stderr);
  });

  for (const backend of ['tensorflow', 'wasm']) {
    it(`--backend ${backend}: mlp and cnn both on ${backend}`, async () => {
      const { byArch, stderr } = await search(`named-${backend}`, ['mlp', 'cnn'], backend);
      assert.deepEqual(byArch, { mlp: backend, cnn: backend });
      assert.doesNotMatch(stderr, /auto: /);
    });
  }
});

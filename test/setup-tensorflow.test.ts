/**
 * `hpo setup tensorflow`'s parts that need no TensorFlow: the wheel's METADATA and table of contents, the
 * undoable swap of a build into a package, and its usage errors and missing-tool answers (exit codes).
 * The build itself is proven in native-backend.test.ts (and by `npm test`'s setup step).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SetupError } from '../shared/errors.js';
import { inspectTensorflowWheel, parseWheelMetadata, swapBinding } from '../cli/setup/index.js';
import { runHpo } from './helpers/cli.js';
import { tempDir } from './helpers/user-tasks.js';

const run = promisify(execFile);

// As in tensorflow_cpu-2.21.0's METADATA (shortened).
const METADATA = `Metadata-Version: 2.1
Name: tensorflow-cpu
Version: 2.21.0
Requires-Dist: absl-py>=1.0.0
Requires-Dist: numpy>=1.26.0
Requires-Dist: nvidia-cublas-cu12<13.0,>=12.5.3.2; extra == "and-cuda"
Requires-Dist: nvidia-cudnn-cu12<10.0,>=9.3.0.75; extra == "and-cuda"
Requires-Dist: tensorflow-io-gcs-filesystem>=0.23.1; (sys_platform != "win32" and python_version < "3.13") and extra == "gcs-filesystem"
`;

async function zip(file: string, members: Record<string, string>): Promise<string> {
  const code = `import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name, text in json.loads(sys.argv[2]).items():
        z.writestr(name, text)
`;
  await run('python3', ['-c', code, file, JSON.stringify(members)]);
  return file;
}

describe('hpo setup tensorflow: wheels, swap, usage', function () {
  this.timeout(120_000);
  const dir = tempDir('setup-tf');

  it("reads a wheel's name, version and NVIDIA requirements (the and-cuda extra only)", () => {
    assert.deepEqual(parseWheelMetadata(METADATA), {
      name: 'tensorflow-cpu',
      version: '2.21.0',
      cudaRequirements: ['nvidia-cublas-cu12<13.0,>=12.5.3.2', 'nvidia-cudnn-cu12<10.0,>=9.3.0.75'],
    });
  });

  it('inspects a wheel without unpacking it; one without libtensorflow is an error naming what is missing', async () => {
    const good = await zip(join(dir, 'good.whl'), {
      'tensorflow/libtensorflow_cc.so.2': 'x',
      'tensorflow/libtensorflow_framework.so.2': 'x',
      'tensorflow/include/tensorflow/c/c_api.h': 'x',
      'tensorflow_cpu-2.21.0.dist-info/METADATA': METADATA,
    });
    assert.equal((await inspectTensorflowWheel('python3', good)).version, '2.21.0');
    const bad = await zip(join(dir, 'bad.whl'), { 'tensorflow/libtensorflow_cc.so.2': 'x' });
    await assert.rejects(
      inspectTensorflowWheel('python3', bad),
      (err: Error) =>
        err instanceof SetupError &&
        /bad\.whl is not a TensorFlow wheel .*no tensorflow\/libtensorflow_framework\.so\.2, tensorflow\/include\/tensorflow\/c\/c_api\.h/.test(
          err.message,
        ),
    );
  });

  function fakePackage(name: string, withOld: boolean) {
    const pkg = join(dir, name);
    const staging = join(pkg, '.hpo-setup-x');
    mkdirSync(join(staging, 'package', 'deps', 'lib'), { recursive: true });
    mkdirSync(join(staging, 'package', 'lib', 'napi-v8'), { recursive: true });
    writeFileSync(join(staging, 'package', 'deps', 'lib', 'lib.so'), 'new lib');
    const binding = join(staging, 'package', 'lib', 'napi-v8', 'tfjs_binding.node');
    writeFileSync(binding, 'new binding');
    if (withOld) {
      mkdirSync(join(pkg, 'deps', 'lib'), { recursive: true });
      mkdirSync(join(pkg, 'lib', 'napi-v8'), { recursive: true });
      writeFileSync(join(pkg, 'deps', 'lib', 'lib.so'), 'old lib');
      writeFileSync(join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'), 'old binding');
    }
    const staged = { deps: join(staging, 'package', 'deps'), binding };
    return { pkg, staged, aside: join(staging, 'previous') };
  }

  it('a swapped-in build can be undone: restore puts the previous deps/ and binding back', () => {
    const { pkg, staged, aside } = fakePackage('restore', true);
    const swap = swapBinding(pkg, staged, aside);
    assert.equal(readFileSync(join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'), 'utf8'), 'new binding');
    assert.equal(readFileSync(join(pkg, 'deps', 'lib', 'lib.so'), 'utf8'), 'new lib');
    swap.restore();
    assert.equal(readFileSync(join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'), 'utf8'), 'old binding');
    assert.equal(readFileSync(join(pkg, 'deps', 'lib', 'lib.so'), 'utf8'), 'old lib');
  });

  it('commit keeps the new build and deletes the previous one; restore with no previous build removes the new one', () => {
    const kept = fakePackage('commit', true);
    swapBinding(kept.pkg, kept.staged, kept.aside).commit();
    assert.equal(readFileSync(join(kept.pkg, 'deps', 'lib', 'lib.so'), 'utf8'), 'new lib');
    assert.ok(!existsSync(kept.aside));
    const fresh = fakePackage('fresh', false);
    swapBinding(fresh.pkg, fresh.staged, fresh.aside).restore();
    assert.ok(!existsSync(join(fresh.pkg, 'deps')));
    assert.ok(!existsSync(join(fresh.pkg, 'lib', 'napi-v8', 'tfjs_binding.node')));
  });

  it('usage mistakes exit 2 naming the option; a missing tool is exit 1, or a skip with --if-available', async () => {
    const missing = await runHpo(['setup', 'tensorflow', '--wheel', join(dir, 'nope.whl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--wheel .*nope\.whl: no such file/);
    const version = await runHpo(['setup', 'tensorflow', '--tf-version', '2.21; rm -rf ~']);
    assert.equal(version.code, 2);
    assert.match(version.stderr, /--tf-version: expected a version such as 2\.21\.0/);
    assert.equal((await runHpo(['setup', 'pytorch'])).code, 2);
    const noPython = { HPO_PYTHON: join(dir, 'no-python') };
    const failed = await runHpo(['setup', 'tensorflow', '--force'], noPython);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /needs python3 with pip \(HPO_PYTHON=.*no-python is not executable\)/);
    const skipped = await runHpo(['setup', 'tensorflow', '--force', '--if-available', '--json'], noPython);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(JSON.parse(skipped.stdout).action, 'skipped');
    assert.match(skipped.stderr, /skipped, nothing changed: .*python3/);
  });
});

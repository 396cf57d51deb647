/**
 * GPU workers, the parts that need no process: `--gpus` parsing, the plan of processes (CUDA_VISIBLE_DEVICES
 * per process, memory growth), the environment `hpo worker` sets, the per-process command line, the
 * nvidia-smi CSV, and where TensorFlow says it runs ops.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { gpuList, gpuListOrAll, resolveAllGpus } from '../cli/options/gpu-options.js';
import { childArgs, gpuSetup, withoutOptions } from '../cli/gpu-workers/index.js';
import { DevicePlacement, parseNvidiaSmi, planGpuWorkers, queryNvidiaSmi } from '../worker/gpu/index.js';
import { deviceOf } from '../worker/backends/tf-device.js';
import { UsageError } from '../shared/errors.js';
import { captureLogs } from './helpers/logs.js';
import { createMetricsRegistry } from '../shared/metrics/index.js';
import { one, parsePrometheusText } from './helpers/prom-text.js';
import type { TrialSpec } from '../shared/protocol/index.js';

describe('GPU workers: plan and parsing', () => {
  it('--gpus: a count, indices, or device=N; bad values say what is allowed', () => {
    assert.deepEqual(gpuList('2'), [0, 1]);
    assert.deepEqual(gpuList('0,2'), [0, 2]);
    assert.deepEqual(gpuList(' 3 , 1 '), [3, 1]);
    assert.deepEqual(gpuList('device=3'), [3]);
    assert.deepEqual(gpuList('device=1,3'), [1, 3]);
    for (const bad of ['0', '-1', 'x', '1.5', '1,,2', '0,0', 'device=', 'device=a', '65', '64,1', '']) {
      assert.throws(() => gpuList(bad), InvalidArgumentError, bad);
    }
    assert.throws(() => gpuList('0'), /GPU count \(1-64\).*device=N/);
    assert.throws(() => gpuList('0,0'), /listed twice/);
    assert.equal(gpuListOrAll('all'), 'all');
    assert.deepEqual(gpuListOrAll('2'), [0, 1]);
    assert.throws(() => gpuList('all'), InvalidArgumentError);
  });

  it('--gpus all: the GPUs nvidia-smi lists; a usage error when it cannot say', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-nvsmi-all-'));
    try {
      const smi = join(dir, 'nvidia-smi');
      writeFileSync(smi, '#!/bin/sh\necho "0, 1, 2, 3"\necho "3, 1, 2, 3"\n');
      const none = join(dir, 'none');
      writeFileSync(none, '#!/bin/sh\nexit 0\n');
      chmodSync(smi, 0o755);
      chmodSync(none, 0o755);
      assert.deepEqual(await resolveAllGpus(smi), [0, 3]);
      await assert.rejects(
        resolveAllGpus(none),
        (err: unknown) => err instanceof UsageError && /lists no GPU/.test(err.message),
      );
      await assert.rejects(
        resolveAllGpus(join(dir, 'missing')),
        (err: unknown) =>
          err instanceof UsageError && /--gpus all: .*not found; name the GPUs instead/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("one process per GPU; slots beyond a process's threads become more processes on the same GPU", () => {
    const one = planGpuWorkers({ gpus: [0, 2], slotsPerGpu: 1, threadsPerProcess: 1, name: 'w' });
    assert.deepEqual(
      one.map((p) => [p.name, p.gpu, p.threads, p.env.CUDA_VISIBLE_DEVICES, p.env.TF_FORCE_GPU_ALLOW_GROWTH]),
      [
        ['w/gpu0', 0, 1, '0', 'true'],
        ['w/gpu2', 2, 1, '2', 'true'],
      ],
    );
    const four = planGpuWorkers({ gpus: [0, 1], slotsPerGpu: 2, threadsPerProcess: 1, name: 'w' });
    assert.deepEqual(
      four.map((p) => [p.name, p.env.CUDA_VISIBLE_DEVICES, p.threads]),
      [
        ['w/gpu0.0', '0', 1],
        ['w/gpu0.1', '0', 1],
        ['w/gpu1.0', '1', 1],
        ['w/gpu1.1', '1', 1],
      ],
    );
    const threads = planGpuWorkers({ gpus: [1], slotsPerGpu: 3, threadsPerProcess: 2, name: 'w' });
    assert.deepEqual(
      threads.map((p) => [p.name, p.threads]),
      [
        ['w/gpu1.0', 2],
        ['w/gpu1.1', 1],
      ],
    );
    assert.equal(planGpuWorkers({ gpus: [0], slotsPerGpu: 4, threadsPerProcess: 4, name: 'w' }).length, 1);
    assert.throws(() => planGpuWorkers({ gpus: [], slotsPerGpu: 1, threadsPerProcess: 1, name: 'w' }));
    assert.throws(() => planGpuWorkers({ gpus: [1, 1], slotsPerGpu: 1, threadsPerProcess: 1, name: 'w' }));
    assert.throws(() => planGpuWorkers({ gpus: [0], slotsPerGpu: 0, threadsPerProcess: 1, name: 'w' }));
  });

  it('hpo worker: memory growth for tensorflow-gpu, one GPU in this process, several supervised', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(gpuSetup({ backend: 'tensorflow-gpu' }, 'w', env), {});
    assert.equal(env.TF_FORCE_GPU_ALLOW_GROWTH, 'true');
    assert.equal(env.CUDA_VISIBLE_DEVICES, undefined, 'left to the environment without --gpus');
    // The operator's own setting stays.
    const off: NodeJS.ProcessEnv = { TF_FORCE_GPU_ALLOW_GROWTH: 'false' };
    gpuSetup({ backend: 'tensorflow-gpu' }, 'w', off);
    assert.equal(off.TF_FORCE_GPU_ALLOW_GROWTH, 'false');
    // Other backends: nothing set.
    const wasm: NodeJS.ProcessEnv = {};
    assert.deepEqual(gpuSetup({ backend: 'wasm' }, 'w', wasm), {});
    assert.deepEqual(wasm, {});
    // One GPU, one process: this one, seeing only that GPU.
    const single: NodeJS.ProcessEnv = {};
    assert.deepEqual(
      gpuSetup({ backend: 'tensorflow-gpu', gpus: [3], concurrency: 2, slotsPerGpu: 2 }, 'w', single),
      {
        threads: 2,
      },
    );
    assert.equal(single.CUDA_VISIBLE_DEVICES, '3');
    // Several: a plan to supervise; this process's environment names no GPU.
    const many: NodeJS.ProcessEnv = {};
    const setup = gpuSetup({ backend: 'tensorflow-gpu', gpus: [0, 1] }, 'w', many);
    assert.deepEqual(
      setup.supervise?.map((p) => p.name),
      ['w/gpu0', 'w/gpu1'],
    );
    assert.equal(many.CUDA_VISIBLE_DEVICES, undefined);
    // --slots-per-gpu alone: the GPUs CUDA_VISIBLE_DEVICES lists (GPU 0 when unset).
    const visible: NodeJS.ProcessEnv = { CUDA_VISIBLE_DEVICES: '2,3' };
    const s2 = gpuSetup({ backend: 'tensorflow-gpu', slotsPerGpu: 2 }, 'w', visible);
    assert.deepEqual(
      s2.supervise?.map((p) => p.env.CUDA_VISIBLE_DEVICES),
      ['2', '2', '3', '3'],
    );
    const unset: NodeJS.ProcessEnv = {};
    assert.deepEqual(gpuSetup({ backend: 'tensorflow-gpu', slotsPerGpu: 1 }, 'w', unset), { threads: 1 });
    assert.equal(unset.CUDA_VISIBLE_DEVICES, '0');
    assert.throws(
      () =>
        gpuSetup({ backend: 'tensorflow-gpu', slotsPerGpu: 2 }, 'w', { CUDA_VISIBLE_DEVICES: 'GPU-5d0e' }),
      (err: unknown) => err instanceof UsageError && /name the GPUs with --gpus/.test(err.message),
    );
    for (const backend of ['auto', 'wasm', 'tensorflow'] as const) {
      assert.throws(
        () => gpuSetup({ backend, gpus: [0] }, 'w', {}),
        (err: unknown) => err instanceof UsageError && /need --backend tensorflow-gpu/.test(err.message),
      );
    }
  });

  it("each GPU process gets the supervisor's arguments without the ones decided per process", () => {
    const args = [
      '--log-level',
      'debug',
      'worker',
      '--nats',
      'nats://h:4222',
      '--gpus',
      '0,1',
      '--slots-per-gpu=2',
      '--name',
      'big',
      '--metrics-port',
      '9464',
      '--metrics-host=0.0.0.0',
      '--concurrency',
      '2',
      '--backend',
      'tensorflow-gpu',
    ];
    const [plan] = planGpuWorkers({ gpus: [1], slotsPerGpu: 1, threadsPerProcess: 1, name: 'big' });
    assert.deepEqual(childArgs(args, plan), [
      '--log-level',
      'debug',
      'worker',
      '--nats',
      'nats://h:4222',
      '--backend',
      'tensorflow-gpu',
      '--name',
      'big/gpu1',
      '--concurrency',
      '1',
    ]);
    assert.deepEqual(withoutOptions(['a', '--', '--name', 'x'], ['--name']), ['a', '--', '--name', 'x']);
  });

  it('nvidia-smi CSV: one sample per GPU, fractions and bytes; lines that are not four numbers are skipped', () => {
    const samples = parseNvidiaSmi('0, 42, 1024, 16384\n1, [N/A], 10, 100\n2, 100, 0, 81920\n\nbad\n');
    assert.deepEqual(samples, [
      { index: 0, utilization: 0.42, memoryUsedBytes: 1024 * 2 ** 20, memoryTotalBytes: 16384 * 2 ** 20 },
      { index: 2, utilization: 1, memoryUsedBytes: 0, memoryTotalBytes: 81920 * 2 ** 20 },
    ]);
    assert.deepEqual(parseNvidiaSmi('0, 101, 1, 2\n-1, 1, 1, 1\n1.5, 1, 1, 1\n99, 1, 1, 1'), []);
    const many = Array.from({ length: 100 }, (_, i) => `${i % 64}, 1, 1, 1`).join('\n');
    assert.equal(parseNvidiaSmi(many).length, 64);
  });

  it('nvidia-smi that hangs, fails or is missing: a clear error, bounded by the timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpo-nvsmi-'));
    try {
      const hang = join(dir, 'hang');
      writeFileSync(hang, '#!/bin/sh\nexec sleep 30\n');
      const fail = join(dir, 'fail');
      writeFileSync(fail, '#!/bin/sh\necho "NVIDIA-SMI has failed" >&2\nexit 9\n');
      chmodSync(hang, 0o755);
      chmodSync(fail, 0o755);
      const started = Date.now();
      await assert.rejects(
        queryNvidiaSmi({ command: hang, timeoutMs: 300 }),
        (err: Error & { kind?: string }) => {
          assert.equal(err.kind, 'failed');
          assert.match(err.message, /did not answer within 300 ms/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 10_000, 'the hanging query was killed');
      await assert.rejects(queryNvidiaSmi({ command: fail }), /failed: exit code 9/);
      await assert.rejects(
        queryNvidiaSmi({ command: join(dir, 'none') }),
        (err: Error & { kind?: string }) => {
          assert.equal(err.kind, 'missing');
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("where TensorFlow runs ops: tfjs-node's isUsingGpuDevice; other backends: the CPU", () => {
    assert.equal(deviceOf('tensorflow', { isUsingGpuDevice: true }), 'gpu');
    assert.equal(deviceOf('tensorflow', { isUsingGpuDevice: false }), 'cpu');
    assert.equal(deviceOf('tensorflow', {}), undefined);
    assert.equal(deviceOf('wasm', {}), 'cpu');
    assert.equal(deviceOf('cpu', null), 'cpu');
  });

  it('device placement: logged once per thread and change, a warning when tensorflow-gpu runs on the CPU, a gauge', async () => {
    const logs = captureLogs();
    const registry = createMetricsRegistry();
    const placement = new DevicePlacement({
      logger: logs.logger,
      backend: 'tensorflow-gpu',
      registry,
      worker: 'w',
    });
    const spec = { task: 'multi-digit-mnist', params: {} } as unknown as TrialSpec;
    placement.onEpoch(spec, { thread: 1, seconds: 1, backend: 'tensorflow', device: 'gpu' });
    placement.onEpoch(spec, { thread: 1, seconds: 1, backend: 'tensorflow', device: 'gpu' });
    placement.onEpoch(spec, { thread: 2, seconds: 1, backend: 'tensorflow', device: 'cpu' });
    placement.onEpoch(spec, { thread: 3, seconds: 1 });
    assert.deepEqual(placement.counts(), { gpu: 1, cpu: 1 });
    const recs = logs.records();
    assert.equal(recs.length, 2, logs.lines().join('\n'));
    assert.match(recs[0].msg, /thread 1: TensorFlow runs its ops on a GPU/);
    assert.equal(recs[1].level, 'warn');
    assert.match(recs[1].msg, /thread 2: backend tensorflow-gpu, but TensorFlow found no GPU/);
    let s = parsePrometheusText(await registry.metrics());
    assert.equal(one(s, 'hpo_worker_device_threads', { worker: 'w', device: 'gpu' }), 1);
    assert.equal(one(s, 'hpo_worker_device_threads', { worker: 'w', device: 'cpu' }), 1);
    placement.onTrialEnd(spec, 'cancelled', { id: 2, gone: true });
    s = parsePrometheusText(await registry.metrics());
    assert.equal(one(s, 'hpo_worker_device_threads', { worker: 'w', device: 'cpu' }), 0);
  });
});

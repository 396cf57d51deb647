/**
 * GPU workers as real processes against a real nats-server, with a stand-in `nvidia-smi` (a shell
 * script on PATH printing what the real one prints for the worker's query; there is no GPU here):
 * - `hpo worker --backend tensorflow-gpu --metrics-port 0`: the GPU gauges on its /metrics, from the
 *   stand-in's numbers; without nvidia-smi: no gauges and one log line.
 * - `hpo worker --gpus 2`: a supervisor and one worker process per GPU, each started with its own
 *   CUDA_VISIBLE_DEVICES and TF_FORCE_GPU_ALLOW_GROWTH=true (read from /proc/<pid>/environ); their
 *   metrics merged on the supervisor's port; trials of a search served by both; a process killed -9 is
 *   started again; SIGTERM stops them all.
 * The synthetic task is used for trials (it loads no tfjs backend, so no GPU or libtensorflow is needed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { exitOf, type Proc, spawnHpo, until } from './helpers/proc.js';
import { one, parsePrometheusText, type Sample, select } from './helpers/prom-text.js';

const MIB = 2 ** 20;
const PROMTOOL = ['/usr/bin/promtool', 'promtool'].find((p) => spawnSync(p, ['--version']).status === 0);

const STAND_IN = `#!/bin/sh
# Stand-in for nvidia-smi: answers only the query hpo's worker makes.
if [ "$1" != "--query-gpu=index,utilization.gpu,memory.used,memory.total" ] || [ "$2" != "--format=csv,noheader,nounits" ]; then
  echo "stand-in nvidia-smi: unexpected arguments: $*" >&2
  exit 9
fi
echo "0, 37, 2048, 16384"
echo "1, 81, 8192, 16384"
echo "2, 5, 100, 16384"
`;

function metricsUrl(p: Proc): string | undefined {
  return /metrics: (http:\/\/\S+\/metrics)/.exec(p.out())?.[1];
}

async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parsePrometheusText(text) };
}

/** Prometheus's own linter on our series (prom-client's nodejs_* gauges draw lint notes; ours must not). */
function promtoolCheck(text: string): void {
  if (!PROMTOOL) return;
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics failed:\n${r.stdout}${r.stderr}`);
  const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('hpo_'));
  assert.deepEqual(ours, []);
}

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter((e) => e.includes('='))
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

/** `started <name> (pid N` lines of the supervisor, latest pid per name. */
function childPids(p: Proc): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of p.out().matchAll(/started (\S+) \(pid (\d+)/g)) pids.set(m[1], Number(m[2]));
  return pids;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

describe('GPU workers (real processes, real nats-server, stand-in nvidia-smi)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let standIn: string;
  let empty: string;
  const procs: Proc[] = [];
  const start = (args: string[], env: NodeJS.ProcessEnv) => {
    const p = spawnHpo(args, env);
    procs.push(p);
    return p;
  };

  before(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'hpo-gpu-workers-'));
    standIn = join(dir, 'bin');
    empty = join(dir, 'empty');
    mkdirSync(standIn);
    mkdirSync(empty);
    writeFileSync(join(standIn, 'nvidia-smi'), STAND_IN);
    chmodSync(join(standIn, 'nvidia-smi'), 0o755);
  });
  afterEach(() => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode !== null) continue;
      // The supervisor's processes are in their own process groups: stop them too.
      for (const pid of childPids(p).values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      p.child.kill('SIGKILL');
    }
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hpo worker --backend tensorflow-gpu: GPU utilisation and memory gauges from nvidia-smi on /metrics', async () => {
    const w = start(
      ['worker', '--nats', server.url, '--backend', 'tensorflow-gpu', '--name', 'g1', '--metrics-port', '0'],
      { PATH: `${standIn}:${process.env.PATH}` },
    );
    await until('the worker serving', () => /hpo worker g1: /.test(w.out()), 60_000, w);
    const url = metricsUrl(w)!;
    let s: Sample[] = [];
    await until(
      'GPU gauges',
      async () => select((s = (await scrape(url)).samples), 'hpo_worker_gpu_utilization_ratio').length > 0,
      30_000,
      w,
    );
    const { text } = await scrape(url);
    for (const [gpu, util, used] of [
      ['0', 0.37, 2048],
      ['1', 0.81, 8192],
      ['2', 0.05, 100],
    ] as const) {
      assert.equal(one(s, 'hpo_worker_gpu_utilization_ratio', { worker: 'g1', gpu }), util);
      assert.equal(one(s, 'hpo_worker_gpu_memory_used_bytes', { worker: 'g1', gpu }), used * MIB);
      assert.equal(one(s, 'hpo_worker_gpu_memory_total_bytes', { worker: 'g1', gpu }), 16384 * MIB);
    }
    // One trial thread per core, as on every backend (several native trial threads share a process).
    assert.equal(one(s, 'hpo_worker_slots', { worker: 'g1' }), availableParallelism());
    promtoolCheck(text);
    assert.doesNotMatch(w.out(), /GPU metrics:/, 'nothing to report about nvidia-smi');
    w.child.kill('SIGTERM');
    assert.equal(await exitOf(w, 60_000), 0, w.out());
  });

  it('without nvidia-smi: no GPU gauges and one log line; other backends do not look for it', async () => {
    const w = start(
      ['worker', '--nats', server.url, '--backend', 'tensorflow-gpu', '--name', 'g2', '--metrics-port', '0'],
      { PATH: empty },
    );
    await until('the worker serving', () => /hpo worker g2: /.test(w.out()), 60_000, w);
    await until('the nvidia-smi line', () => /nvidia-smi not found/.test(w.out()), 30_000, w);
    // Past the poll interval (5 s): still one line, no gauges.
    await new Promise((r) => setTimeout(r, 6000));
    const s = (await scrape(metricsUrl(w)!)).samples;
    assert.deepEqual(
      s.filter((x) => x.name.startsWith('hpo_worker_gpu_')),
      [],
    );
    // One trial thread per core, as on every backend (several native trial threads share a process).
    assert.equal(one(s, 'hpo_worker_slots', { worker: 'g2' }), availableParallelism());
    assert.equal(w.out().match(/nvidia-smi not found: no GPU gauges on this worker/g)?.length, 1, w.out());
    w.child.kill('SIGTERM');
    assert.equal(await exitOf(w, 60_000), 0, w.out());

    const cpu = start(
      ['worker', '--nats', server.url, '--backend', 'cpu', '--name', 'c1', '--metrics-port', '0'],
      {
        PATH: `${standIn}:${process.env.PATH}`,
      },
    );
    await until('the metrics URL', () => metricsUrl(cpu) !== undefined, 60_000, cpu);
    await until('the worker serving', () => /hpo worker c1: /.test(cpu.out()), 60_000, cpu);
    const c = (await scrape(metricsUrl(cpu)!)).samples;
    assert.equal(c.filter((x) => x.name.startsWith('hpo_worker_gpu_')).length, 0);
    cpu.child.kill('SIGTERM');
    assert.equal(await exitOf(cpu, 60_000), 0, cpu.out());
  });

  it('--gpus 2: one process per GPU with its CUDA_VISIBLE_DEVICES, merged metrics, trials served, a dead process restarted', async () => {
    const sup = start(
      [
        'worker',
        '--nats',
        server.url,
        '--backend',
        'tensorflow-gpu',
        '--gpus',
        '2',
        '--name',
        'sup',
        '--metrics-port',
        '0',
      ],
      { PATH: `${standIn}:${process.env.PATH}` },
    );
    await until('two GPU processes', () => childPids(sup).size === 2, 60_000, sup);
    const pids = childPids(sup);
    for (const [name, gpu] of [
      ['sup/gpu0', '0'],
      ['sup/gpu1', '1'],
    ]) {
      const env = environOf(pids.get(name)!);
      assert.equal(env.CUDA_VISIBLE_DEVICES, gpu, name);
      assert.equal(env.TF_FORCE_GPU_ALLOW_GROWTH, 'true', name);
    }
    await until('the metrics URL', () => metricsUrl(sup) !== undefined, 60_000, sup);
    const url = metricsUrl(sup)!;
    let s: Sample[] = [];
    await until(
      'both processes in the merged metrics',
      async () => select((s = (await scrape(url)).samples), 'hpo_worker_slots').length === 2,
      60_000,
      sup,
    );
    assert.equal(one(s, 'hpo_worker_slots', { worker: 'sup/gpu0' }), 1);
    assert.equal(one(s, 'hpo_worker_slots', { worker: 'sup/gpu1' }), 1);
    // nvidia-smi is read once, by the supervisor, for its GPUs only.
    assert.deepEqual(
      select(s, 'hpo_worker_gpu_utilization_ratio').map((x) => [x.labels.worker, x.labels.gpu, x.value]),
      [
        ['sup', '0', 0.37],
        ['sup', '1', 0.81],
      ],
    );
    promtoolCheck((await scrape(url)).text);
    // /readyz on the supervisor's port: one check per process, each that process's own readiness (nats,
    // pool) asked over IPC; ready once both take trials.
    const readyz = url.replace(/\/metrics$/, '/readyz');
    let ready: { status: number; body: string } = { status: 0, body: '' };
    await until(
      'the supervisor ready',
      async () => {
        const res = await fetch(readyz);
        ready = { status: res.status, body: await res.text() };
        return ready.status === 200;
      },
      60_000,
      sup,
    );
    const checks = (JSON.parse(ready.body) as { checks: Record<string, { ok: boolean; detail?: string }> })
      .checks;
    assert.deepEqual(Object.keys(checks), ['sup/gpu0', 'sup/gpu1'], ready.body);
    for (const c of Object.values(checks)) assert.match(c.detail ?? '', /^pid \d+ ready$/, ready.body);
    const listed = await runHpo(['workers', '--nats', server.url, '--json', '--wait', '2000']);
    const names = (JSON.parse(listed.stdout) as { name: string }[]).map((w) => w.name).sort();
    assert.deepEqual(
      names.filter((n) => n.startsWith('sup')),
      ['sup/gpu0', 'sup/gpu1'],
    );

    // A search over NATS: both GPU processes serve its trials.
    const space = join(dir, 'synthetic.yaml');
    writeFileSync(
      space,
      'method: grid\ntask: synthetic\nmetric: {name: val_acc, goal: maximize}\nparameters:\n  a: {values: [1, 2, 3, 4, 5, 6, 7, 8]}\n  epochs: {value: 2}\n  sleep_ms: {value: 300}\n',
    );
    const search = await runHpo([
      'search',
      space,
      '--name',
      'gpu-sup',
      '--db',
      join(dir, 's.db'),
      '--nats',
      server.url,
    ]);
    assert.equal(search.code, 0, search.stderr);
    s = (await scrape(url)).samples;
    const done = (w: string) => one(s, 'hpo_worker_trials_total', { worker: w, state: 'completed' });
    assert.equal(done('sup/gpu0') + done('sup/gpu1'), 8);
    assert.ok(
      done('sup/gpu0') > 0 && done('sup/gpu1') > 0,
      `trials by process: ${done('sup/gpu0')}, ${done('sup/gpu1')}`,
    );

    // A process that dies is started again, on the same GPU.
    process.kill(pids.get('sup/gpu1')!, 'SIGKILL');
    await until(
      'gpu1 started again',
      () => childPids(sup).get('sup/gpu1') !== pids.get('sup/gpu1'),
      30_000,
      sup,
    );
    assert.match(sup.out(), /sup\/gpu1 exited unexpectedly \(signal SIGKILL\): starting it again in 1 s/);
    const again = childPids(sup).get('sup/gpu1')!;
    assert.equal(environOf(again).CUDA_VISIBLE_DEVICES, '1');
    // The new process answers for gpu1 once it takes trials.
    await until(
      'gpu1 ready again',
      async () => {
        const res = await fetch(readyz);
        ready = { status: res.status, body: await res.text() };
        return ready.status === 200 && ready.body.includes(`pid ${again} ready`);
      },
      60_000,
      sup,
    );

    sup.child.kill('SIGTERM');
    assert.equal(await exitOf(sup, 60_000), 0, sup.out());
    for (const pid of [pids.get('sup/gpu0')!, again]) assert.ok(!alive(pid), `process ${pid} is gone`);
  });

  it('--gpus with another backend is a usage error (exit 2)', async () => {
    const r = await runHpo(['worker', '--nats', server.url, '--backend', 'wasm', '--gpus', '2']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--gpus and --slots-per-gpu need --backend tensorflow-gpu/);
    const bad = await runHpo(['worker', '--nats', server.url, '--backend', 'tensorflow-gpu', '--gpus', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--gpus.*GPU count/);
  });
});

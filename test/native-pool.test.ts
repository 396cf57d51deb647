/**
 * tfjs-node in several TrialPool threads of one process (issue 28, tfjs#8388): each trial thread gets
 * its share of TensorFlow's threads, and a stress run (test/native/pool-stress.ts) in a child process
 * (a native crash must not take mocha with it) ends every trial as planned while threads are recycled.
 * CI runs 2 threads x 6 trials; HPO_NATIVE_STRESS=full runs the 4 threads x 50 trials.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  NATIVE_THREAD_VARIABLES,
  applyNativeThreadShare,
  nativeThreadShare,
} from '../worker/backends/native-threads.js';
import { skipUnlessNativeBackend } from './helpers/native-backend.js';
import type { StressReport } from './native/pool-stress.js';

const STRESS = fileURLToPath(new URL('./native/pool-stress.js', import.meta.url));

function runStress(
  args: string[],
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const env = { ...process.env };
  for (const name of NATIVE_THREAD_VARIABLES) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STRESS, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

describe('TensorFlow threads per trial thread', () => {
  it('splits the cores between the trial threads, at least one each, one inter-op thread, own pools', () => {
    assert.deepEqual(nativeThreadShare(2, 2), {
      TF_NUM_INTRAOP_THREADS: '1',
      TF_NUM_INTEROP_THREADS: '1',
      TF_OVERRIDE_GLOBAL_THREADPOOL: '1',
    });
    assert.equal(nativeThreadShare(1, 2).TF_NUM_INTRAOP_THREADS, '2');
    assert.equal(nativeThreadShare(4, 16).TF_NUM_INTRAOP_THREADS, '4');
    assert.equal(nativeThreadShare(3, 8).TF_NUM_INTRAOP_THREADS, '2');
    assert.equal(nativeThreadShare(8, 2).TF_NUM_INTRAOP_THREADS, '1');
  });

  it("sets what is missing from the environment and keeps the user's own settings", () => {
    const env: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '3' };
    const inForce = applyNativeThreadShare(2, { cores: 8, env });
    assert.deepEqual(inForce, {
      TF_NUM_INTRAOP_THREADS: '3',
      TF_NUM_INTEROP_THREADS: '1',
      TF_OVERRIDE_GLOBAL_THREADPOOL: '1',
    });
    assert.deepEqual(env, inForce);
  });
});

describe('backend tensorflow in several pool threads (tfjs#8388)', function () {
  const full = process.env.HPO_NATIVE_STRESS === 'full';
  const threads = full ? 4 : 2;
  const perThread = full ? 50 : 6;
  this.timeout(full ? 3_600_000 : 900_000);

  it(`${threads} threads x ${perThread} trials, threads recycled, errors and cancels: every trial ends as planned`, async function () {
    skipUnlessNativeBackend(this);
    const r = await runStress(['--threads', String(threads), '--trials-per-thread', String(perThread)]);
    assert.equal(r.signal, null, `the stress process died of ${r.signal}:\n${r.err.slice(-3000)}`);
    let report: StressReport;
    try {
      report = JSON.parse(r.out) as StressReport;
    } catch {
      assert.fail(`no report (exit ${r.code}):\n${r.err.slice(-3000)}`);
    }
    assert.deepEqual(report.mismatches, []);
    assert.equal(r.code, 0, r.err.slice(-3000));
    assert.equal(report.trials, threads * perThread);
    const ended = Object.values(report.outcomes).reduce(
      (s, byEnd) => s + Object.values(byEnd).reduce((a, b) => a + b, 0),
      0,
    );
    assert.equal(ended, report.trials, 'every trial ended');
    for (const kind of ['complete', 'stop', 'save-fails', 'wrong-data', 'cancel']) {
      assert.ok(report.outcomes[kind], `the run had ${kind} trials`);
    }
    // N native trials at once in one process (one at a time before: tfjs#8388 was assumed).
    assert.equal(report.max_concurrent, threads);
    assert.ok(report.threads_seen > threads, `threads were recycled (${report.threads_seen} seen)`);
    assert.deepEqual(report.env, {
      TF_NUM_INTRAOP_THREADS: String(Math.max(1, Math.floor(availableParallelism() / threads))),
      TF_NUM_INTEROP_THREADS: '1',
      TF_OVERRIDE_GLOBAL_THREADPOOL: '1',
    });
  });
});

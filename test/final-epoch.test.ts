/**
 * Issue 25 item 3: a trial that runs its last epoch is `completed`, whatever the scheduler answers at that
 * epoch (hyperband's max_iter cap, a rung at the last epoch). Before, a task module given `stop` at its
 * last epoch was recorded `stopped`, and a command program could be killed while it ended on its own.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { search } from '../cli/library/index.js';
import { AshaScheduler, finalEpochDecision, isLastEpoch } from '../orchestrator/schedulers/index.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { defineTask } from '../worker/tasks/index.js';
import { captureOutput, runHpo, startHpo, waitForOutput } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { tempDir, writeFile } from './helpers/user-tasks.js';
import { workerArgs } from './helpers/spawn-worker.js';

/** A command program: one JSON line per epoch, then a second of saving before it exits 0. */
const PROGRAM = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
for (let epoch = 1; epoch <= Number(args.epochs); epoch++) {
  console.log(JSON.stringify({ epoch, loss: (Number(args.x) - 2) ** 2 + 1 / epoch }));
}
await new Promise((r) => setTimeout(r, 1500));
writeFileSync(join(process.env.HPO_TRIAL_DIR, 'saved'), 'model');
`;

/** Grid over x with hyperband rungs at 1 and the max_iter cap at the trials' last epoch, 3. */
const SWEEP = [
  'program: train.mjs',
  'method: grid',
  'metric: {name: loss, goal: minimize}',
  'early_terminate: {type: hyperband, min_iter: 1, max_iter: 3, eta: 3}',
  'parameters:',
  '  x: {values: [2, 0, 1, 3]}',
  '  epochs: {value: 3}',
  '',
].join('\n');

describe('a trial that runs its last epoch completes (issue 25 item 3)', function () {
  this.timeout(300_000);

  it("finalEpochDecision: a stop at the trial's last epoch becomes continue; earlier ones stay", () => {
    assert.equal(finalEpochDecision('stop', 3, { epochs: 3 }), 'continue');
    assert.equal(finalEpochDecision('stop', 2, { epochs: 3 }), 'stop');
    assert.equal(finalEpochDecision('continue', 3, { epochs: 3 }), 'continue');
    // Without an epochs parameter the last epoch is unknown: the answer is left alone.
    assert.equal(finalEpochDecision('stop', 9, { x: 1 }), 'stop');
    assert.equal(isLastEpoch(9, { epochs: 9 }), true);
    assert.equal(isLastEpoch(8, { epochs: 9 }), false);
  });

  it('ASHA still answers stop at max_iter (the cap for longer trials) and records the rung', () => {
    const asha = new AshaScheduler(
      { name: 'loss', goal: 'minimize' },
      { type: 'hyperband', min_iter: 1, max_iter: 3 },
    );
    const trial = { trial_id: 't1', params: { epochs: 3 }, history: [{ loss: 1 }, { loss: 1 }, { loss: 1 }] };
    assert.equal(asha.decide(trial, 3), 'stop');
    assert.equal(finalEpochDecision(asha.decide(trial, 3), 3, trial.params), 'continue');
  });

  it('defineTask: a stop answered at the last epoch does not make the outcome stopped', async () => {
    const task = defineTask({
      name: 'three',
      tfjs: false,
      async run(spec, ctx) {
        for (let epoch = 1; epoch <= 3; epoch++) {
          if ((await ctx.reportEpoch(epoch, { loss: 1 / epoch })) === 'stop') break;
        }
      },
    });
    const spec = {
      v: PROTOCOL_VERSION,
      experiment_id: 'e',
      trial_id: 't',
      attempt: 1,
      task: 'three',
      params: { epochs: 3 },
      seed: 1,
    } as unknown as TrialSpec;
    const ctx = (answer: (epoch: number) => 'stop' | 'continue') =>
      ({
        signal: new AbortController().signal,
        backend: 'cpu',
        reportEpoch: async (epoch: number) => answer(epoch),
      }) as never;
    const last = await task.run(
      spec,
      ctx((e) => (e === 3 ? 'stop' : 'continue')),
    );
    assert.equal(last.epochs, 3);
    assert.equal(last.stopped, false, 'ran all 3 epochs: completed');
    const early = await task.run(
      spec,
      ctx((e) => (e === 2 ? 'stop' : 'continue')),
    );
    assert.equal(early.epochs, 2);
    assert.equal(early.stopped, true, 'stopped at epoch 2 of 3');
  });

  it('library search() with a defineTask object (inline): trials that ran their 3 epochs are completed', async () => {
    // The inline executor asked for a decision at the last epoch too; max_iter 3 answered stop there.
    const result = await search({
      space: {
        method: 'grid',
        metric: { name: 'loss', goal: 'minimize' },
        early_terminate: { type: 'hyperband', min_iter: 1, max_iter: 3, eta: 3 },
        parameters: { x: { values: [2, 0, 1, 3, 4, 5] }, epochs: { value: 3 } },
      },
      task: defineTask({
        name: 'quad-inline',
        metrics: ['loss'],
        tfjs: false,
        async run(spec, ctx) {
          for (let epoch = 1; epoch <= (spec.params.epochs as number); epoch++) {
            const loss = ((spec.params.x as number) - 2) ** 2 + 1 / epoch;
            if ((await ctx.reportEpoch(epoch, { loss })) === 'stop') break;
          }
        },
      }),
      workers: 1,
      top: 100,
    });
    const full = result.leaderboard.filter((t) => t.epochs === 3);
    assert.ok(full.length >= 1, 'the first trial passes rung 1 and runs to its last epoch');
    for (const t of full) assert.equal(t.state, 'completed', `${t.trial_id} ran 3 of 3 epochs`);
    assert.equal(result.progress.completed, full.length);
  });

  it('hpo search with a command program that works after its last epoch: 3 of 3 epochs is completed, not killed', async () => {
    // The program saves for a while after printing its last epoch (as a real one writes its model): a
    // stop for that epoch used to SIGTERM it then, and the trial was recorded stopped.
    const dir = tempDir('final-epoch');
    writeFile(dir, 'train.mjs', PROGRAM);
    const sweep = writeFile(dir, 'sweep.yaml', SWEEP);
    const db = join(dir, 'hpo.db');
    const r = await runHpo(['search', sweep, '--db', db, '--workers', '2', '--name', 'f'], { TMPDIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const store = SqliteStore.open(db);
    try {
      const trials = await store.listTrials('f');
      assert.equal(trials.length, 4);
      const full = trials.filter((t) => t.epochs === 3);
      assert.ok(full.length >= 1, 'the first trial passes rung 1 and runs to its last epoch');
      for (const t of full) {
        assert.equal(t.state, 'completed', `${t.trial_id} ran 3 of 3 epochs`);
        assert.ok(
          existsSync(join(dir, 'hpo-trials', 'f', `${t.trial_id}-a1`, 'saved')),
          'it finished saving',
        );
      }
      for (const t of trials.filter((x) => x.epochs < 3)) assert.equal(t.state, 'stopped', t.trial_id);
    } finally {
      await store.close();
    }
  });

  describe('over NATS (real nats-server, hpo worker --allow-command)', () => {
    let server: NatsServerHandle;
    let worker: ChildProcess | undefined;
    before(async () => {
      server = await startNatsServer();
    });
    after(async () => {
      if (worker && worker.exitCode === null) worker.kill('SIGKILL');
      await server.stop();
    });

    it('the same program: 3 of 3 epochs is completed; the others stopped at rung 1', async () => {
      const dir = tempDir('final-epoch-nats');
      const program = writeFile(dir, 'train.mjs', PROGRAM);
      const sweep = writeFile(dir, 'sweep.yaml', SWEEP);
      worker = startHpo(workerArgs(server.url, 'w1', { extra: ['--allow-command', program] }), {
        TMPDIR: dir,
      });
      const log = captureOutput(worker);
      await waitForOutput(log, /hpo worker w1: 2 slot/, worker);
      const db = join(dir, 'hpo.db');
      const r = await runHpo(['search', sweep, '--db', db, '--name', 'n', '--nats', server.url]);
      assert.equal(r.code, 0, r.stderr);
      const store = SqliteStore.open(db);
      try {
        const trials = await store.listTrials('n');
        assert.equal(trials.length, 4);
        const full = trials.filter((t) => t.epochs === 3);
        assert.ok(full.length >= 1, 'the first trial passes rung 1 and runs to its last epoch');
        for (const t of full) assert.equal(t.state, 'completed', `${t.trial_id} ran 3 of 3 epochs`);
        for (const t of trials.filter((x) => x.epochs < 3)) assert.equal(t.state, 'stopped', t.trial_id);
      } finally {
        await store.close();
      }
    });
  });
});

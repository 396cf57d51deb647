/**
 * Command tasks (issue 14): W&B `program`/`command` run as real child processes without a shell.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { parseSearchSpace } from '../orchestrator/search-space/index.js';
import { builtinTaskCatalog } from '../cli/builtin-tasks.js';
import { type Decision, PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import {
  buildCommandLine,
  IGNORED_LINES_METRIC,
  parseEpochLine,
  runCommandTrial,
} from '../worker/command/index.js';
import { commandOffer } from '../worker/tasks/index.js';
import { runHpo } from './helpers/cli.js';
import { TRAIN_PROGRAM, tempDir, writeFile } from './helpers/user-tasks.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function spec(params: TrialSpec['params'], trial = 't1'): TrialSpec {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'exp',
    experiment_id: 'exp',
    trial_id: trial,
    attempt: 1,
    task: 'train.mjs',
    params,
    seed: 42,
  };
}

describe('command tasks', function () {
  this.timeout(300_000);

  describe('command line and stdout parsing', () => {
    it('expands every W&B macro; other items (numbers too) stay one argument each', () => {
      const argv = buildCommandLine({
        command: [
          '${env}',
          '${interpreter}',
          '${program}',
          '--steps',
          '3',
          '${args}',
          '${args_no_hyphens}',
          '${args_json}',
          '${args_json_file}',
        ],
        program: '/p/train.py',
        interpreter: 'python3',
        params: { lr: 0.1, opt: 'adam' },
        argsJsonFile: '/t/params.json',
      });
      assert.deepEqual(argv, [
        '/usr/bin/env',
        'python3',
        '/p/train.py',
        '--steps',
        '3',
        '--lr=0.1',
        '--opt=adam',
        'lr=0.1',
        'opt=adam',
        '{"lr":0.1,"opt":"adam"}',
        '/t/params.json',
      ]);
      const dflt = buildCommandLine({
        program: 'x.mjs',
        interpreter: 'node',
        params: { a: 1 },
        argsJsonFile: 'f',
      });
      assert.deepEqual(dflt, ['/usr/bin/env', 'node', 'x.mjs', '--a=1']);
    });

    it('parses JSON lines with numbers; everything else is garbage', () => {
      assert.deepEqual(parseEpochLine('{"epoch": 2, "val_loss": 0.3, "note": "x"}'), {
        epoch: 2,
        metrics: { val_loss: 0.3 },
      });
      for (const bad of ['Epoch 1/10', '{', '[1,2]', '"x"', '{"epoch": 1}', '{"note": "x"}', '']) {
        assert.equal(parseEpochLine(bad), null, bad);
      }
    });

    it('the sweep parser reads program and command (numbers become text) and rejects unknown macros', () => {
      const s = parseSearchSpace(
        'program: train.mjs\ncommand:\n  - ${env}\n  - ${interpreter}\n  - ${program}\n  - --epochs\n  - 3\n  - ${args}\nmethod: random\nmetric: {name: validation_loss, goal: minimize}\nparameters:\n  lr: {values: [0.1]}\n',
        { tasks: builtinTaskCatalog() },
      );
      assert.equal(s.task, 'train.mjs');
      assert.equal(s.program, 'train.mjs');
      assert.deepEqual(s.command, ['${env}', '${interpreter}', '${program}', '--epochs', '3', '${args}']);
      assert.throws(
        () =>
          parseSearchSpace(
            'program: t.mjs\ncommand:\n  - ${program}\n  - ${argz}\nmethod: random\nparameters:\n  a: {value: 1}\n',
            { tasks: builtinTaskCatalog() },
          ),
        /command\[1\].*unknown macro/,
      );
    });
  });

  describe('runCommandTrial (real processes)', () => {
    const dir = tempDir('cmd');
    const program = writeFile(dir, 'train.mjs', TRAIN_PROGRAM);
    const trials = join(dir, 'trials');
    const hooks = (decide: (epoch: number) => Decision = () => 'continue') => ({
      onEpoch: async (e: { epoch: number }) => decide(e.epoch),
      signal: new AbortController().signal,
    });

    it('parameter values with shell metacharacters reach the program literally; env names the trial', async () => {
      const nasty = `; rm -rf ~ $(touch ${join(dir, 'pwned')}) \`id\` "q" 'q' \n newline | & > x`;
      const r = await runCommandTrial(spec({ lr: 0.01, label: nasty }), hooks(), commandOffer(program), {
        worker: 'w',
        trialsDir: trials,
      });
      assert.equal(r.state, 'completed', r.error);
      const seen = JSON.parse(readFileSync(join(trials, 'exp', 't1-a1', 'seen.json'), 'utf8'));
      assert.ok(seen.argv.includes(`--label=${nasty}`), JSON.stringify(seen.argv));
      assert.equal(existsSync(join(dir, 'pwned')), false);
      assert.deepEqual(
        { id: seen.env.id, exp: seen.env.exp, seed: seen.env.seed },
        { id: 't1', exp: 'exp', seed: '42' },
      );
      assert.equal(seen.env.dir, join(trials, 'exp', 't1-a1'));
      // Garbage lines are ignored and counted: 'Epoch progress' + one 'not json {' per epoch.
      assert.equal(r.epochs, 3);
      assert.equal(r.metrics[IGNORED_LINES_METRIC], 4);
      assert.ok(Number.isFinite(r.metrics.validation_loss));
    });

    it('a non-zero exit fails the trial with the tail of stderr', async () => {
      const r = await runCommandTrial(spec({ exit_code: 3 }, 't2'), hooks(), commandOffer(program), {
        worker: 'w',
        trialsDir: trials,
      });
      assert.equal(r.state, 'failed');
      assert.match(r.error ?? '', /exited with code 3/);
      assert.match(r.error ?? '', /CUDA out of cheese/);
      assert.equal(r.epochs, 1);
    });

    it('a program that cannot start, or dies of a signal, fails the trial saying which', async () => {
      const missing = join(dir, 'no-such-interpreter');
      const gone = await runCommandTrial(
        spec({}, 't5'),
        hooks(),
        { ...commandOffer(program, ['${interpreter}', '${program}']), interpreter: missing },
        { worker: 'w', trialsDir: trials },
      );
      assert.equal(gone.state, 'failed');
      assert.match(gone.error ?? '', new RegExp(`^cannot start ${missing}: .*ENOENT`));
      const selfKill = writeFile(
        dir,
        'self-kill.mjs',
        `console.log(JSON.stringify({ epoch: 1, loss: 1 }));\nprocess.kill(process.pid, 'SIGKILL');\n`,
      );
      const killed = await runCommandTrial(spec({}, 't6'), hooks(), commandOffer(selfKill), {
        worker: 'w',
        trialsDir: trials,
      });
      assert.equal(killed.state, 'failed');
      assert.equal(killed.error, 'self-kill.mjs was killed by SIGKILL (no stderr)');
      assert.deepEqual({ epochs: killed.epochs, loss: killed.metrics.loss }, { epochs: 1, loss: 1 });
    });

    it('a stop sends SIGTERM; a program ignoring it is killed after the grace period and is gone', async () => {
      const r = await runCommandTrial(
        spec({ ignore_term: 1, epochs: 50, sleep_ms: 50 }, 't3'),
        hooks((epoch) => (epoch >= 2 ? 'stop' : 'continue')),
        commandOffer(program),
        { worker: 'w', trialsDir: trials, graceMs: 300 },
      );
      assert.equal(r.state, 'stopped');
      assert.equal(r.epochs, 2);
      const { pid } = JSON.parse(readFileSync(join(trials, 'exp', 't3-a1', 'seen.json'), 'utf8'));
      assert.equal(alive(pid), false, `process ${pid} still running`);
    });

    it('an abort (cancel) ends the process and rejects as interrupted', async () => {
      const controller = new AbortController();
      const run = runCommandTrial(
        spec({ ignore_term: 1, epochs: 50, sleep_ms: 50 }, 't4'),
        {
          onEpoch: async () => {
            controller.abort();
            return 'continue';
          },
          signal: controller.signal,
        },
        commandOffer(program),
        { worker: 'w', trialsDir: trials, graceMs: 300 },
      );
      await assert.rejects(run, /interrupted/);
      const { pid } = JSON.parse(readFileSync(join(trials, 'exp', 't4-a1', 'seen.json'), 'utf8'));
      assert.equal(alive(pid), false);
    });
  });

  describe('hpo search with program:', () => {
    it("a W&B sweep (program: train.mjs, metric validation_loss, hyperband) runs; stopped trials' processes are gone", async () => {
      const dir = tempDir('wandb');
      writeFile(dir, 'train.mjs', TRAIN_PROGRAM);
      const sweep = writeFile(
        dir,
        'sweep.yaml',
        [
          'program: train.mjs',
          'method: random',
          'run_cap: 9',
          'metric: {name: validation_loss, goal: minimize}',
          'early_terminate: {type: hyperband, min_iter: 1, max_iter: 9, eta: 3}',
          'parameters:',
          '  lr: {min: 0.0001, max: 1, distribution: log_uniform_values}',
          '  epochs: {value: 9}',
          '  sleep_ms: {value: 30}',
          '',
        ].join('\n'),
      );
      const db = join(dir, 'hpo.db');
      const r = await runHpo(['search', sweep, '--db', db, '--workers', '3', '--name', 'w'], { TMPDIR: dir });
      assert.equal(r.code, 0, r.stderr);
      const store = SqliteStore.open(db);
      try {
        const trials = await store.listTrials('w');
        assert.equal(trials.length, 9);
        assert.ok(
          trials.some((t) => t.state === 'stopped'),
          'hyperband stopped some trials',
        );
        assert.ok(trials.every((t) => t.state !== 'failed'));
        const board = await store.leaderboard('w', { top: 3 });
        assert.ok(board[0].value! <= board[1].value!);
      } finally {
        await store.close();
      }
      const root = join(dir, 'hpo-trials', 'w');
      const pids = readdirSync(root).map(
        (d) => JSON.parse(readFileSync(join(root, d, 'seen.json'), 'utf8')).pid as number,
      );
      assert.equal(pids.length, 9);
      for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} still running`);
    });

    it('a program that is not there, or not executable, is exit 2 at validation', async () => {
      const dir = tempDir('wandb-bad');
      writeFile(dir, 'train.bin', '#!/bin/sh\necho hi\n', false);
      const base = 'method: random\nrun_cap: 1\nparameters:\n  a: {value: 1}\n';
      const missing = writeFile(dir, 'missing.yaml', `program: nope.mjs\n${base}`);
      const notExec = writeFile(dir, 'noexec.yaml', `program: train.bin\n${base}`);
      const noInterp = writeFile(
        dir,
        'nointerp.yaml',
        `program: train.bin\ncommand:\n  - no-such-interpreter-xyz\n  - \${program}\n${base}`,
      );
      for (const [file, pattern] of [
        [missing, /nope\.mjs: no such file/],
        [notExec, /not executable/],
        [noInterp, /command not found or not executable: no-such-interpreter-xyz/],
      ] as const) {
        const r = await runHpo(['search', file, '--db', join(dir, 'x.db')]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, pattern);
      }
      assert.equal(existsSync(join(dir, 'x.db')), false);
    });
  });
});

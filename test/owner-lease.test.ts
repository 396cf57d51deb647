/**
 * One driver per experiment (issue 15 item 4), on real `hpo search`/`hpo resume` processes and a real
 * SQLite file: a second driver is refused while the first runs; a kill -9'd driver shows as orphaned
 * and is taken over by resume; a frozen driver's expired lease is taken over only with --force, and
 * the frozen one, thawed, stops at once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import Database from 'better-sqlite3';
import { runHpo, startHpo, captureOutput as capture, waitForOutput as waitFor } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';

const SPACE = `
method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2, 3, 4, 5, 6]}
  epochs: {value: 6}
  sleep_ms: {value: 150}
`;

const exit = (child: ChildProcess) =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

async function assertAllCompletedOnce(db: string, name: string): Promise<void> {
  const store = SqliteStore.open(db, { readonly: true });
  try {
    assert.equal((await store.getExperiment(name))!.status, 'completed');
    const trials = await store.listTrials(name);
    assert.equal(trials.length, 6);
    assert.ok(
      trials.every((t) => t.state === 'completed'),
      JSON.stringify(trials.map((t) => t.state)),
    );
  } finally {
    await store.close();
  }
}

describe('owner lease: one driver per experiment (real hpo processes, SQLite file)', function () {
  this.timeout(300_000);
  let dir: string;
  let spaceFile: string;
  const children: ChildProcess[] = [];
  const start = (args: string[]) => {
    const c = startHpo(args);
    children.push(c);
    return c;
  };
  const local = ['--workers', '1', '--backend', 'cpu'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-owner-'));
    spaceFile = join(dir, 'space.yaml');
    await writeFile(spaceFile, SPACE);
  });
  afterEach(() => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null) {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      }
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a second driver is refused (exit 2) while the first runs, even with --force; the first is unaffected', async () => {
    const db = join(dir, 'a.db');
    const long = join(dir, 'long.yaml');
    await writeFile(
      long,
      SPACE.replace('[1, 2, 3, 4, 5, 6]', `[${Array.from({ length: 200 }, (_, i) => i).join(', ')}]`),
    );
    const first = start(['search', long, '--name', 'a', '--db', db, ...local]);
    const log = capture(first);
    await waitFor(log, / finished /, first);
    const second = await runHpo(['resume', 'a', '--db', db, ...local]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`experiment 'a' is already driven by pid ${first.pid} on .*: stop that process first`),
    );
    const forced = await runHpo(['resume', 'a', '--db', db, '--force', ...local]);
    assert.equal(forced.code, 2, 'a live lease is not taken even with --force');
    assert.equal(first.exitCode, null, 'the first driver still runs');
    first.kill('SIGINT');
    assert.equal(await exit(first), 130, log());
    const store = SqliteStore.open(db, { readonly: true });
    try {
      assert.equal((await store.getExperiment('a'))!.status, 'interrupted');
      // Nobody else ran its trials: each started once, by the first driver.
      assert.deepEqual(
        (await store.listTrials('a')).filter((t) => t.attempt > 1).map((t) => t.trial_id),
        [],
      );
      assert.equal(await store.getLease('a'), undefined, 'the lease was released');
    } finally {
      await store.close();
    }
  });

  it('kill -9: status says orphaned since its last heartbeat; resume on this host takes over', async () => {
    const db = join(dir, 'b.db');
    const first = start(['search', spaceFile, '--name', 'b', '--db', db, ...local]);
    const log = capture(first);
    await waitFor(log, / finished /, first);
    first.kill('SIGKILL');
    await exit(first);
    const status = await runHpo(['status', 'b', '--db', db]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`^b: running, orphaned since \\d{4}-\\d\\d-\\d\\dT[^ ]+Z \\(driver pid ${first.pid} on `),
    );
    const json = JSON.parse((await runHpo(['status', 'b', '--db', db, '--json'])).stdout) as {
      orphaned_since?: string;
      owner?: { state: string };
    };
    assert.equal(json.owner?.state, 'dead');
    assert.ok(json.orphaned_since);

    const resumed = await runHpo(['resume', 'b', '--db', db, ...local]);
    assert.equal(resumed.code, 0, resumed.stderr);
    await assertAllCompletedOnce(db, 'b');
    const after = await runHpo(['status', 'b', '--db', db]);
    assert.match(after.stdout, /^b: completed \(/);
  });

  it('a frozen driver: its expired lease is taken only with --force; thawed, it stops at once', async () => {
    const db = join(dir, 'c.db');
    const first = start(['search', spaceFile, '--name', 'c', '--db', db, ...local]);
    const log = capture(first);
    await waitFor(log, / finished /, first);
    first.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 4000));
    // Same host, pid alive, no heartbeat for more than --owner-timeout: expired, not dead.
    const refused = await runHpo(['resume', 'c', '--db', db, '--owner-timeout', '3000', ...local]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /no heartbeat since\): if that process is gone, take over with --force/);

    const second = start(['resume', 'c', '--db', db, '--owner-timeout', '3000', '--force', ...local]);
    const log2 = capture(second);
    await waitFor(log2, /experiment 'c'/, second);
    first.kill('SIGCONT');
    assert.equal(await exit(first), 1, log());
    assert.match(log(), /lost the owner lease of experiment 'c' to pid \d+ on .*: stopping at once/);
    assert.equal(await exit(second), 0, log2());
    await assertAllCompletedOnce(db, 'c');
  });

  describe('over NATS: the lease also lives on the bus (real nats-server)', () => {
    let server: NatsServerHandle;
    before(async () => {
      server = await startNatsServer();
    });
    after(() => server.stop());

    it('a copy of the database on "another machine" cannot drive the experiment while the first does', async () => {
      const db1 = join(dir, 'n1.db');
      const db2 = join(dir, 'n2.db');
      // No worker: trials just wait on the queue, the driver keeps running.
      const first = start(['search', spaceFile, '--name', 'k', '--db', db1, '--nats', server.url]);
      const log = capture(first);
      await waitFor(log, /experiment 'k'/, first);
      const raw = new Database(db1, { readonly: true });
      raw.exec(`VACUUM INTO '${db2.replace(/'/g, "''")}'`);
      raw.close();
      // The copy's store lease names a live pid of this host: drop it, as on another machine.
      const copy = new Database(db2);
      copy.exec('DELETE FROM owners');
      copy.close();

      const second = await runHpo(['resume', 'k', '--db', db2, '--nats', server.url, '--force']);
      assert.equal(second.code, 2, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `experiment 'k' is already driven by pid ${first.pid} on .* \\(bus (nats:\\/\\/)?127\\.0\\.0\\.1:${server.port}; `,
        ),
      );
      first.kill('SIGINT');
      assert.equal(await exit(first), 130, log());

      // Released on the way out: the copy may drive it now.
      const third = start(['resume', 'k', '--db', db2, '--nats', server.url]);
      const log3 = capture(third);
      await waitFor(log3, /experiment 'k'/, third);
      third.kill('SIGINT');
      assert.equal(await exit(third), 130, log3());
    });
  });
});

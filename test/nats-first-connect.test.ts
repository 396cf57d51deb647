/**
 * Compose starts the orchestrator and workers alongside NATS (issue 15 item 10): `hpo search --nats`
 * and `hpo worker` started before any server keep trying their first connection with a logged backoff,
 * then run the search once nats-server comes up; `--resume-existing` lets a restarted orchestrator
 * pick its experiment up again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../orchestrator/store/index.js';
import { runHpo, startHpo, captureOutput as capture, waitForOutput as waitFor } from './helpers/cli.js';
import { freePort, type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';

const SPACE = `
method: grid
task: synthetic
metric: {name: val_acc, goal: maximize}
parameters:
  a: {values: [1, 2, 3]}
  epochs: {value: 2}
  sleep_ms: {value: 50}
`;

describe('first connection to NATS: bounded, logged retry (real processes, nats-server started late)', function () {
  this.timeout(300_000);
  let dir: string;
  let server: NatsServerHandle | undefined;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hpo-first-connect-'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('search and worker started before nats-server wait for it, then the search completes', async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const spaceFile = join(dir, 'space.yaml');
    await writeFile(spaceFile, SPACE);
    const db = join(dir, 'late.db');
    const args = ['search', spaceFile, '--name', 'late', '--db', db, '--nats', url, '--nats-wait', '120'];
    const search = startHpo(args);
    children.push(search);
    const log = capture(search);
    const worker = startHpo([
      'worker',
      '--nats',
      url,
      '--concurrency',
      '1',
      '--backend',
      'cpu',
      '--nats-wait',
      '120',
    ]);
    children.push(worker);
    const wlog = capture(worker);
    await waitFor(
      log,
      /NATS at nats:\/\/127\.0\.0\.1:\d+ not reachable \(.*\); retrying in \d+\.\d s/,
      search,
    );
    await waitFor(wlog, /not reachable .*retrying in/, worker);

    server = await startNatsServer({ port });
    const code = await new Promise<number | null>((resolve) => search.once('exit', resolve));
    assert.equal(code, 0, log());
    const store = SqliteStore.open(db, { readonly: true });
    assert.deepEqual(
      (await store.listTrials('late')).map((t) => t.state),
      ['completed', 'completed', 'completed'],
    );
    await store.close();

    // A restarted orchestrator service runs the same command: it resumes instead of refusing.
    const again = await runHpo([...args, '--resume-existing']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /experiment 'late' exists in .*: resuming it/);
    worker.kill('SIGTERM');
  });

  it('without --nats-wait time left it fails at once, naming the server (exit 1)', async () => {
    const port = await freePort();
    const r = await runHpo(['worker', '--nats', `nats://127.0.0.1:${port}`, '--nats-wait', '0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}`));
  });
});

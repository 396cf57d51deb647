/**
 * Issue 25 item 7: a worker started with `--backend auto` says in its heartbeat which backend its trials
 * ran on, so `hpo workers` shows `wasm (auto)` after an MLP trial instead of `auto` forever. Real
 * nats-server, `hpo worker`, `hpo search --nats`, `hpo workers`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerHeartbeat } from '../shared/protocol/bus.js';
import { SqliteStore } from '../orchestrator/store/index.js';
import { runHpo } from './helpers/cli.js';
import { type NatsServerHandle, startNatsServer } from './helpers/nats-server.js';
import { type Proc, exitOf, spawnHpo, until } from './helpers/proc.js';
import { spawnWorker } from './helpers/spawn-worker.js';

// One small MLP trial: `auto` trains MLPs on wasm whichever native backends this machine has.
const SPACE = [
  'method: grid',
  'task: multi-digit-mnist',
  'parameters:',
  '  arch: {value: mlp}',
  '  optimizer: {value: adam}',
  '  learning_rate: {value: 0.002}',
  '  batch_size: {value: 64}',
  '  epochs: {value: 1}',
  '  train_size: {value: 1000}',
  '',
].join('\n');

describe('hpo workers shows the backend a worker runs on (real nats-server)', function () {
  this.timeout(300_000);
  let server: NatsServerHandle;
  let dir: string;
  let worker: Proc | undefined;

  before(async () => {
    server = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'hpo-worker-backend-'));
  });
  after(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exit;
    }
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const listed = async (): Promise<WorkerHeartbeat | undefined> => {
    const r = await runHpo(['workers', '--nats', server.url, '--json', '--wait', '800']);
    return (JSON.parse(r.stdout || '[]') as WorkerHeartbeat[]).find((w) => w.name === 'wb');
  };

  it('auto before any trial, then "wasm (auto)" once an MLP trial ran on wasm', async () => {
    worker = spawnWorker(server.url, 'wb', { concurrency: 1, backend: 'auto' });
    let before: WorkerHeartbeat | undefined;
    await until(
      'the worker to be listed',
      async () => (before = await listed()) !== undefined,
      120_000,
      worker,
    );
    assert.equal(before!.backend, 'auto');
    assert.equal(before!.backends_in_use, undefined, 'no backend in use before any trial');

    const space = join(dir, 'mlp.yaml');
    await writeFile(space, SPACE);
    const db = join(dir, 'b.db');
    const search = spawnHpo(['search', space, '--name', 'b', '--db', db, '--nats', server.url]);
    assert.equal(await exitOf(search, 240_000), 0, `${search.out()}\n--- worker:\n${worker.out()}`);
    const store = SqliteStore.open(db, { readonly: true });
    const ran = (await store.listTrials('b')).map((t) => [t.state, t.backend]);
    await store.close();
    assert.deepEqual(ran, [['completed', 'wasm']]);

    let after: WorkerHeartbeat | undefined;
    await until('the trial counted', async () => ((after = await listed())?.trials_done ?? 0) >= 1, 60_000);
    assert.equal(after!.backend, 'auto');
    assert.deepEqual(after!.backends_in_use, ['wasm']);
    const table = await runHpo(['workers', '--nats', server.url, '--wait', '800']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /wb .*wasm \(auto\)/, table.stdout);
  });
});

/** A database with one synthetic experiment in every trial state, for the dashboard tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../orchestrator/store/index.js';
import { syntheticSpace } from './space.js';

export const DASH_EXPERIMENT = 'dash';

/**
 * `dash`: x (uniform) decides val_acc = 1 - x^2 (noise-free), rate (log) and mode (categorical) do not;
 * hyperband early termination (min_iter 1, eta 2, max_iter 4). Trials 0..finished-1 end completed (even)
 * or stopped after 2 epochs (odd); then one failed (t<finished>), one running with 1 epoch, one queued.
 */
export async function dashboardDb(finished = 24): Promise<{ file: string; store: SqliteStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'hpo-dash-'));
  const file = join(dir, 'dash.db');
  const store = SqliteStore.open(file);
  const space = syntheticSpace(
    {
      x: { kind: 'uniform', min: -1, max: 1 },
      rate: { kind: 'log_uniform_values', min: 0.001, max: 1 },
      mode: { kind: 'categorical', values: ['a', '<b>&"c"'] },
      epochs: { kind: 'constant', value: 4 },
    },
    {
      early_terminate: { type: 'hyperband', min_iter: 1, eta: 2, max_iter: 4 },
      description: 'dashboard test',
    },
  );
  await store.createExperiment(DASH_EXPERIMENT, space, 'test');
  const total = finished + 3;
  for (let i = 0; i < total; i++) {
    // Irrational-looking values: full precision must survive every hop.
    const x = Math.sin(i * 7.13) * 0.999;
    const params = { x, rate: 10 ** (-3 + ((i * 0.37) % 3)), mode: i % 3 === 0 ? '<b>&"c"' : 'a', epochs: 4 };
    const id = `t${String(i).padStart(4, '0')}`;
    await store.addTrial(DASH_EXPERIMENT, { trial_id: id, index: i, params, seed: i });
    if (i === total - 1) continue; // queued
    await store.startTrial(DASH_EXPERIMENT, id, 'w1');
    const value = 1 - x * x;
    if (i === total - 2) {
      await store.recordEpoch(DASH_EXPERIMENT, id, 1, { val_acc: value / 2 });
      continue; // running
    }
    if (i === total - 3) {
      await store.recordResult(DASH_EXPERIMENT, id, {
        attempt: 1,
        state: 'failed',
        metrics: {},
        epochs: 0,
        worker: 'w1',
        started_at: 1000 + i,
        ended_at: 2000 + i,
        error: 'boom: <script>alert(1)</script>',
      });
      continue;
    }
    const epochs = i % 2 === 0 ? 4 : 2;
    for (let e = 1; e <= epochs; e++) {
      await store.recordEpoch(DASH_EXPERIMENT, id, e, {
        val_acc: (value * e) / epochs,
        val_loss: 1 - (value * e) / epochs,
      });
    }
    await store.recordResult(DASH_EXPERIMENT, id, {
      attempt: 1,
      state: i % 2 === 0 ? 'completed' : 'stopped',
      metrics: { val_acc: value },
      epochs,
      worker: 'w1',
      started_at: 1000 + i,
      ended_at: 2000 + i,
    });
  }
  return { file, store };
}

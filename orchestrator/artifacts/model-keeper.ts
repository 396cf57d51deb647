/**
 * The orchestrator's side of model saving: names each trial's model folder (sent in the TrialSpec),
 * records the folder a result reports, and for `top:K` deletes the models that fall out of the best K
 * (ranked by the validation objective, never by test metrics).
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { Store } from '../store/types.js';
import { MODEL_METADATA_FILE } from '../../shared/protocol/model-metadata.js';
import type { SavePolicy } from './save-policy.js';

export interface ModelKeeperOptions {
  store: Store;
  experiment: string;
  policy: SavePolicy;
  /** Models go to ROOT/<experiment>/<trial_id>. */
  root: string;
}

export class ModelKeeper {
  private readonly root: string;

  constructor(private readonly options: ModelKeeperOptions) {
    this.root = resolve(options.root);
  }

  /** Folder the trial's model is saved to, or undefined when the policy saves nothing. */
  dirFor(trialId: string): string | undefined {
    if (this.options.policy.kind === 'none') return undefined;
    return join(this.root, this.options.experiment, trialId);
  }

  /** After a final result was stored: record its model, then prune to the policy. */
  recorded(result: ResultEvent): void {
    const { store, experiment, policy } = this.options;
    if (result.model && result.state !== 'failed') {
      store.recordModel(experiment, {
        trial_id: result.trial_id,
        path: result.model.path,
        worker: result.worker,
        saved_at: result.ended_at,
      });
    }
    if (policy.kind !== 'top') return;
    const keep = new Set(store.leaderboard(experiment, { top: policy.k }).map((t) => t.trial_id));
    for (const m of store.listModels(experiment)) {
      if (keep.has(m.trial_id)) continue;
      this.removeFiles(m.path);
      store.deleteModel(experiment, m.trial_id);
    }
  }

  /** Deletes a model folder only when it lies under our root and is an hpo model (never anything else). */
  private removeFiles(path: string): void {
    const rel = relative(this.root, resolve(path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return;
    if (!existsSync(join(path, MODEL_METADATA_FILE))) return;
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The orchestrator's side of model saving: tells the runner whether trials save their model (the spec
 * carries only `save_model: true`; each worker derives the folder under its own models root), records
 * the folder a result reports when it is that derived folder, and for `top:K` deletes the models that
 * fall out of the best K (ranked by the validation objective, never by test metrics).
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { Store } from '../store/types.js';
import { MODEL_METADATA_FILE, modelFolder } from '../../shared/protocol/model-metadata.js';
import type { SavePolicy } from './save-policy.js';

export interface ModelKeeperOptions {
  store: Store;
  experiment: string;
  /** The experiment's bus id: models go to ROOT/<bus id>/<trial_id> (modelFolder). */
  experimentId: string;
  policy: SavePolicy;
  /** The models root of the local pool (remote workers use their own --models-dir). */
  root: string;
}

export class ModelKeeper {
  private readonly root: string;

  constructor(private readonly options: ModelKeeperOptions) {
    this.root = resolve(options.root);
  }

  /** True when the policy keeps models (the dispatched specs then ask for them). */
  saves(): boolean {
    return this.options.policy.kind !== 'none';
  }

  /** Folder a trial's model is saved to by the local pool. */
  dirFor(trialId: string): string {
    return modelFolder(this.root, this.options.experimentId, trialId);
  }

  /**
   * After a final result was stored: record its model, then prune to the policy. A model is recorded
   * only when the experiment saves models and the reported folder is the one a worker derives
   * (`<its root>/<bus id>/<trial_id>`): a result cannot make the store point anywhere else.
   */
  recorded(result: ResultEvent): void {
    const { store, experiment, policy } = this.options;
    if (result.model && result.state !== 'failed' && this.saves() && this.isDerived(result)) {
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

  private isDerived(result: ResultEvent): boolean {
    const path = result.model?.path ?? '';
    const tail = `/${this.options.experimentId}/${result.trial_id}`;
    return (
      (path.endsWith(tail) || path.replace(/\\/g, '/').endsWith(tail)) && !path.split(/[\\/]/).includes('..')
    );
  }

  /** Deletes a model folder only when it lies under our root and is an hpo model (never anything else). */
  private removeFiles(path: string): void {
    const rel = relative(this.root, resolve(path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return;
    if (!existsSync(join(path, MODEL_METADATA_FILE))) return;
    rmSync(path, { recursive: true, force: true });
  }
}

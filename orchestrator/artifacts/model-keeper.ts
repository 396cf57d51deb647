/**
 * The orchestrator's side of model saving: tells the runner whether trials save their model (the spec
 * carries only `save_model: true`; each worker derives the folder under its own models root), records
 * where a trial's model is, and for `top:K` deletes the models that fall out of the best K (ranked by the
 * validation objective, never by test metrics).
 *
 * In-process (the local pool) the model is where the result says when that is the derived folder. Over
 * NATS (`remote`) a result's path is the worker's and is never used: the files come through the object
 * store into this orchestrator's own root (ModelFetcher), and the objects of a trial are deleted once
 * fetched, refused, or not kept by the policy.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { ResultEvent } from '../../shared/protocol/index.js';
import type { Store } from '../store/types.js';
import { MODEL_METADATA_FILE, modelFolder } from '../../shared/protocol/model-metadata.js';
import { type Logger, childLogger } from '../../shared/log/index.js';
import type { SavePolicy } from './save-policy.js';
import type { RemoteModels } from './model-fetcher.js';

export interface ModelKeeperOptions {
  store: Store;
  experiment: string;
  /** The experiment's bus id: models go to ROOT/<bus id>/<trial_id> (modelFolder). */
  experimentId: string;
  policy: SavePolicy;
  /** The orchestrator's models root: the local pool saves there, models fetched over NATS land there. */
  root: string;
  /** Over NATS: where remote workers' models are fetched from (ModelFetcher). */
  remote?: RemoteModels;
  /** Where refused or unsent models are reported (default: the process's logger). */
  logger?: Logger;
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
   * only when the experiment saves models. In-process, the reported folder must be the one a worker
   * derives (`<its root>/<bus id>/<trial_id>`): a result cannot make the store point anywhere else. Over
   * NATS the model is fetched into this orchestrator's root (or refused, and the reason logged).
   */
  async recorded(result: ResultEvent): Promise<void> {
    const { store, experiment, policy } = this.options;
    // top:K: the best K now (recording a model does not change the ranking).
    const best =
      policy.kind === 'top'
        ? new Set((await store.leaderboard(experiment, { top: policy.k })).map((t) => t.trial_id))
        : undefined;
    if (this.options.remote) {
      await this.fetched(result, this.options.remote, best);
    } else if (result.model && result.state !== 'failed' && this.saves() && this.isDerived(result)) {
      await store.recordModel(experiment, {
        trial_id: result.trial_id,
        path: result.model.path,
        worker: result.worker,
        saved_at: result.ended_at,
      });
    }
    if (best) await this.prune(best);
  }

  private async fetched(
    result: ResultEvent,
    remote: RemoteModels,
    best: ReadonlySet<string> | undefined,
  ): Promise<void> {
    const { store, experiment } = this.options;
    const model = result.model;
    if (!model || !this.saves()) return;
    const log = (this.options.logger ?? childLogger({ component: 'models' })).child({
      experiment,
      trial: result.trial_id,
      worker: result.worker,
    });
    if (!model.files) {
      log.warn(
        { reason: model.not_sent ?? 'no files listed' },
        `the model of trial ${result.trial_id} was not sent`,
      );
      return;
    }
    const kept = result.state !== 'failed' && (best === undefined || best.has(result.trial_id));
    try {
      if (!kept) return;
      const path = await remote.fetch(result.trial_id, model.files);
      await store.recordModel(experiment, {
        trial_id: result.trial_id,
        path,
        worker: result.worker,
        saved_at: result.ended_at,
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, `the model of trial ${result.trial_id} was not taken`);
    } finally {
      // The bucket is only a way here: fetched, refused or not kept, the objects go.
      await remote.discard(result.trial_id);
    }
  }

  /** top:K: deletes the models that are no longer among the best K (`keep`). */
  private async prune(keep: ReadonlySet<string>): Promise<void> {
    const { store, experiment } = this.options;
    for (const m of await store.listModels(experiment)) {
      if (keep.has(m.trial_id)) continue;
      this.removeFiles(m.path);
      await store.deleteModel(experiment, m.trial_id);
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

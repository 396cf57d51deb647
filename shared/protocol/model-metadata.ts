/** hpo-model.json: what a saved model is, where it came from, and how well it did. */
export const MODEL_METADATA_FILE = 'hpo-model.json';
export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface ModelMetadata {
  format: 'hpo-model';
  version: 1;
  arch: string;
  /** The trial's parameters as run. */
  params: Record<string, string | number | boolean>;
  /** [height, width, channels]; pixels are scaled to [0, 1]. */
  input_shape: [number, number, number];
  /** Output order: top digit logits, bottom digit logits, each over 10 classes. */
  heads: ['top', 'bottom'];
  classes: number;
  /** The generated data set the model was trained on (evaluate regenerates its test split and checks it). */
  data: { seed: number; sha256: string };
  experiment?: string;
  trial_id?: string;
  attempt?: number;
  /** Trial seed (weights and batch order). */
  seed: number;
  backend: string;
  tfjs_version: string;
  /** The last epoch's validation metrics (what the search ranked by) and the end-of-run test metrics. */
  validation: Record<string, number>;
  test: Record<string, number>;
  saved_at: string;
}

/** Whether a parsed hpo-model.json is this format's description (format and version; not its fields). */
export function isModelMetadata(meta: unknown): meta is ModelMetadata {
  const m = meta as { format?: unknown; version?: unknown } | null;
  return typeof m === 'object' && m !== null && m.format === 'hpo-model' && m.version === 1;
}

/** A trial id usable as one folder name (the orchestrator's ids, t0000 ..., always are). */
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The folder a trial's model is saved to: `<root>/<experiment_id>/<trial_id>`. Derived, never taken
 * from a message: a worker saves only under its own models root. Throws if either id could leave the
 * folder (anything but 1-64 of [A-Za-z0-9_-]).
 */
export function modelFolder(root: string, experimentId: string, trialId: string): string {
  for (const [what, value] of [
    ['experiment id', experimentId],
    ['trial id', trialId],
  ]) {
    if (!SAFE_SEGMENT.test(value)) {
      throw new Error(
        `cannot save a model for ${what} ${JSON.stringify(value.slice(0, 80))}: not a safe folder name`,
      );
    }
  }
  // Plain string joining (no node:path here: shared by both processes, and browsers never load it).
  return `${root.replace(/[\\/]+$/, '')}/${experimentId}/${trialId}`;
}

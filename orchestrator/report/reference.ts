/** The seed report's own per-digit accuracies (seed-report-reference.json), the rows a run is compared to. */
import data from './seed-report-reference.json' with { type: 'json' };

export interface ReferenceRow {
  arch: string;
  optimizer: string;
  learning_rate: number;
  /** null: the report does not say; matches any batch size. */
  batch_size: number | null;
  epochs: number;
  /** (top, bottom) accuracy in percent. */
  train: [number, number];
  test: [number, number];
  /** The report's sentence the numbers come from. */
  quote: string;
}

export interface Reference {
  source: string;
  notes: string[];
  rows: ReferenceRow[];
}

/** The seed report's table. */
export const SEED_REPORT_REFERENCE: Reference = data as Reference;

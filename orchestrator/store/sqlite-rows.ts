/** Rows of the hpo SQLite tables as better-sqlite3 returns them, and their codecs to the Store's records. */
import type { SearchSpace } from '../search-space/types.js';
import type { EpochRecord, ExperimentRecord, ExperimentStatus, TrialRecord, TrialState } from './types.js';

export interface ExperimentRow {
  name: string;
  bus_id: string;
  bus_secret: string;
  space: string;
  source: string;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface TrialRow {
  experiment: string;
  trial_id: string;
  idx: number;
  params: string;
  seed: number;
  state: string;
  attempt: number;
  worker: string | null;
  backend: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  value: number | null;
  metrics: string | null;
  epochs: number;
  error: string | null;
}

export interface EpochRow {
  trial_id: string;
  epoch: number;
  metrics: string;
  recorded_at: number;
}

/** Metrics as JSON, keeping NaN and ±Infinity (JSON.stringify would turn them into null). */
export function encodeMetrics(metrics: Record<string, number>): string {
  return JSON.stringify(metrics, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

export function decodeMetrics(text: string): Record<string, number> {
  return JSON.parse(text, (_key, v: unknown) =>
    v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v,
  ) as Record<string, number>;
}

export function toExperiment(row: ExperimentRow): ExperimentRecord {
  return {
    name: row.name,
    bus_id: row.bus_id,
    bus_secret: row.bus_secret,
    space: JSON.parse(row.space) as SearchSpace,
    source: row.source,
    status: row.status as ExperimentStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function toTrial(row: TrialRow): TrialRecord {
  return {
    experiment: row.experiment,
    trial_id: row.trial_id,
    index: row.idx,
    params: JSON.parse(row.params) as TrialRecord['params'],
    seed: row.seed,
    state: row.state as TrialState,
    attempt: row.attempt,
    worker: row.worker,
    backend: row.backend,
    created_at: row.created_at,
    started_at: row.started_at,
    ended_at: row.ended_at,
    value: row.value,
    metrics: row.metrics === null ? null : decodeMetrics(row.metrics),
    epochs: row.epochs,
    error: row.error,
  };
}

export function toEpoch(row: EpochRow): EpochRecord {
  return {
    trial_id: row.trial_id,
    epoch: row.epoch,
    metrics: decodeMetrics(row.metrics),
    recorded_at: row.recorded_at,
  };
}

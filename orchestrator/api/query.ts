/**
 * Questions about an experiment that the CLI answers from a local database, and a running orchestrator
 * answers for other machines (over NATS request/reply and its HTTP endpoint): the same JSON either way.
 */
import { trialRung } from '../search-space/hyperband.js';
import { hostname } from 'node:os';
import { LEASE_STALE_MS, leaseState } from '../store/owner-lease.js';
import type { ExperimentRecord, StoreReader, TrialRecord } from '../store/types.js';

export type Query = { kind: 'status' } | { kind: 'leaderboard'; top?: number };

export interface ExperimentSummary {
  name: string;
  status: string;
  method: string;
  task: string;
  metric: string;
  goal: string;
  trials: Record<string, number>;
  best: { trial_id: string; value: number | null; params: TrialRecord['params'] } | null;
  created_at: string;
  updated_at: string;
  /** The process driving a running experiment, from its owner lease. */
  owner?: { pid: number; host: string; heartbeat_at: string; state: 'alive' | 'expired' | 'dead' };
  /**
   * Set when the experiment says running but nobody drives it (its driver was killed): the last sign
   * of life (lease heartbeat, else the experiment's last update).
   */
  orphaned_since?: string;
}

/** Who drives a running experiment, and since when it is orphaned if nobody does. */
async function ownership(
  store: StoreReader,
  exp: ExperimentRecord,
): Promise<Pick<ExperimentSummary, 'owner' | 'orphaned_since'>> {
  if (exp.status !== 'running') return {};
  const lease = await store.getLease(exp.name);
  if (!lease) return { orphaned_since: new Date(exp.updated_at).toISOString() };
  const state = leaseState(lease, { now: Date.now(), staleMs: LEASE_STALE_MS, host: hostname() });
  const heartbeat = new Date(lease.heartbeat_at).toISOString();
  return {
    owner: { pid: lease.pid, host: lease.host, heartbeat_at: heartbeat, state },
    ...(state === 'alive' ? {} : { orphaned_since: heartbeat }),
  };
}

export interface StatusAnswer extends ExperimentSummary {
  /**
   * Stopped trials grouped by where they stopped: the epochs they ran and, with hyperband, the rung
   * they reached (derived from the recorded epochs and the space's early_terminate); fewest epochs first.
   */
  stopped_at: { epochs: number; rung: number | null; trials: number }[];
  running: {
    trial_id: string;
    params: TrialRecord['params'];
    epochs: number;
    attempt: number;
    worker: string | null;
  }[];
  /**
   * The latest run's time budget: when it ends and, while the experiment runs, the seconds left (0 once
   * spent: running trials finish, no new ones start). Absent without a budget.
   */
  time_budget?: { seconds: number; hard: boolean; ends_at: string; left_seconds: number | null };
}

export interface LeaderboardAnswer {
  experiment: Pick<ExperimentRecord, 'name' | 'space'>;
  rows: TrialRecord[];
}

export async function summarize(store: StoreReader, exp: ExperimentRecord): Promise<ExperimentSummary> {
  const byState = await store.countTrials(exp.name);
  const counts: Record<string, number> = {
    total: Object.values(byState).reduce((a, b) => a + b, 0),
    ...byState,
  };
  const [best] = await store.leaderboard(exp.name, { top: 1 });
  return {
    name: exp.name,
    status: exp.status,
    method: exp.space.method,
    task: exp.space.task,
    metric: exp.space.metric.name,
    goal: exp.space.metric.goal,
    trials: counts,
    best: best ? { trial_id: best.trial_id, value: best.value, params: best.params } : null,
    created_at: new Date(exp.created_at).toISOString(),
    updated_at: new Date(exp.updated_at).toISOString(),
    ...(await ownership(store, exp)),
  };
}

export async function statusAnswer(
  store: StoreReader,
  exp: ExperimentRecord,
  now: () => number = Date.now,
): Promise<StatusAnswer> {
  const trials = await store.listTrials(exp.name);
  const groups = new Map<string, { epochs: number; rung: number | null; trials: number }>();
  for (const t of trials) {
    if (t.state !== 'stopped') continue;
    const rung = trialRung(exp.space, t);
    const key = `${t.epochs}/${rung}`;
    const g = groups.get(key) ?? { epochs: t.epochs, rung, trials: 0 };
    g.trials++;
    groups.set(key, g);
  }
  const stoppedAt = [...groups.values()].sort((a, b) => a.epochs - b.epochs);
  const running = trials
    .filter((t) => t.state === 'running')
    .map((t) => ({
      trial_id: t.trial_id,
      params: t.params,
      epochs: t.epochs,
      attempt: t.attempt,
      worker: t.worker,
    }));
  const answer: StatusAnswer = { ...(await summarize(store, exp)), stopped_at: stoppedAt, running };
  const last = (await store.listRuns(exp.name)).at(-1);
  if (last?.time_budget) {
    const ends = last.started_at + last.time_budget.seconds * 1000;
    answer.time_budget = {
      ...last.time_budget,
      ends_at: new Date(ends).toISOString(),
      left_seconds: exp.status === 'running' ? Math.max(0, (ends - now()) / 1000) : null,
    };
  }
  return answer;
}

export async function leaderboardAnswer(
  store: StoreReader,
  exp: ExperimentRecord,
  top?: number,
): Promise<LeaderboardAnswer> {
  return {
    experiment: { name: exp.name, space: exp.space },
    rows: await store.leaderboard(exp.name, top ? { top } : {}),
  };
}

/** Answers a query about `experiment`; undefined when the store has no such experiment. */
export async function answerQuery(
  store: StoreReader,
  experiment: string,
  query: Query,
): Promise<StatusAnswer | LeaderboardAnswer | undefined> {
  const exp = await store.getExperiment(experiment);
  if (!exp) return undefined;
  return query.kind === 'status'
    ? await statusAnswer(store, exp)
    : await leaderboardAnswer(store, exp, query.top);
}

/** A query from untrusted input (a bus message, a URL): null when it is not one. */
export function parseQuery(input: unknown): Query | null {
  if (typeof input !== 'object' || input === null) return null;
  const q = input as Record<string, unknown>;
  if (q.kind === 'status') return { kind: 'status' };
  if (q.kind === 'leaderboard') {
    if (q.top === undefined) return { kind: 'leaderboard' };
    if (typeof q.top === 'number' && Number.isInteger(q.top) && q.top > 0 && q.top <= 10_000) {
      return { kind: 'leaderboard', top: q.top };
    }
  }
  return null;
}

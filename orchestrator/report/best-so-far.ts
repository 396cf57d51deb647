/**
 * Best so far over wall time, for a report: each finished trial (completed or stopped, with a value) at
 * the time it ended, counted from its experiment's first start (`hpo search`; a resume's pause counts as
 * wall time), with the best value of the experiment's trials finished so far. Selection is by the
 * validation objective only, as everywhere in a report.
 */
import type { ReportData, ReportTrial } from './collect.js';

export interface BestSoFarPoint {
  experiment: string;
  trial: ReportTrial;
  /** Wall-clock minutes from the experiment's first start to the trial's end. */
  minutes: number;
  value: number;
  best: number;
  /** True when this trial raised (or first set) the best. */
  improved: boolean;
}

/** When the experiment started: its first run's start or its first trial's, whichever came first. */
export function experimentStart(data: ReportData, name: string): number {
  const e = data.experiments.find((x) => x.record.name === name)!;
  const starts = [
    ...e.runs.map((r) => r.started_at),
    ...data.trials.filter((t) => t.experiment === name && t.started_at !== null).map((t) => t.started_at!),
  ];
  return starts.length > 0 ? Math.min(...starts) : e.record.created_at;
}

export function bestSoFar(data: ReportData): BestSoFarPoint[] {
  const better = (a: number, b: number) => (data.metric.goal === 'maximize' ? a > b : a < b);
  const out: BestSoFarPoint[] = [];
  for (const { record } of data.experiments) {
    const t0 = experimentStart(data, record.name);
    const finished = data.leaderboard
      .filter((t) => t.experiment === record.name && t.ended_at !== null)
      .sort((a, b) => a.ended_at! - b.ended_at! || a.index - b.index);
    let best: number | null = null;
    for (const t of finished) {
      const improved = best === null || better(t.value!, best);
      if (improved) best = t.value!;
      out.push({
        experiment: record.name,
        trial: t,
        minutes: (t.ended_at! - t0) / 60_000,
        value: t.value!,
        best: best!,
        improved,
      });
    }
  }
  return out;
}

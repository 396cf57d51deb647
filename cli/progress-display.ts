/**
 * Shows a running search: a live progress bar on a terminal (cli-progress), plain log lines otherwise
 * (one per finished trial), so CI logs and pipes stay readable.
 */
import cliProgress from 'cli-progress';
import type { SearchProgress } from '../orchestrator/core/progress.js';
import type { TrialParams } from '../shared/protocol/index.js';
import { formatDuration } from '../orchestrator/search-space/duration.js';

export interface ProgressDisplay {
  update(p: SearchProgress): void;
  stop(): void;
}

const shortParams = (params: TrialParams) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(' ');

/** What bounds the search: the time left, a reached target, or that nothing does (an endless search). */
export function endText(p: SearchProgress, now = Date.now()): string | null {
  if (p.target_reached) return 'target reached: finishing running trials';
  if (p.deadline !== null) {
    const left = (p.deadline - now) / 1000;
    return left > 0 ? `time left ${formatDuration(left)}` : 'time budget spent: finishing running trials';
  }
  if (p.total === null)
    return 'endless: no run_cap, time budget or finite grid (Ctrl-C stops, hpo resume continues)';
  return null;
}

/** Running and queued as `hpo status` counts them: "4 running, 28 queued" (queued only over a bus). */
export function inFlightText(p: Pick<SearchProgress, 'running' | 'queued'>): string {
  return `${p.running} running${p.queued > 0 ? `, ${p.queued} queued` : ''}`;
}

const bestText = (p: SearchProgress, metric: string) =>
  p.best ? `${metric} ${p.best.value.toFixed(4)} (${p.best.trial_id} ${shortParams(p.best.params)})` : '-';

class BarDisplay implements ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly metric: string) {}

  update(p: SearchProgress): void {
    const end = endText(p);
    const payload = {
      inflight: inFlightText(p),
      failed: p.failed,
      best: bestText(p, this.metric),
      end: end ?? '',
    };
    const total = p.total ?? p.done + p.running + p.queued;
    if (!this.bar) {
      // A known total without another bound shows the ETA; otherwise the time left, or "endless".
      const until = end === null ? 'ETA {eta_formatted}' : '{end}';
      this.bar = new cliProgress.SingleBar({
        format: `{bar} {value}/{total} done | {inflight} | {failed} failed | ${until} | best {best}`,
        hideCursor: true,
        etaBuffer: 20,
        clearOnComplete: false,
        stream: process.stderr,
      });
      this.bar.start(total, p.done, payload);
    } else {
      this.bar.setTotal(total);
      this.bar.update(p.done, payload);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

class LineDisplay implements ProgressDisplay {
  constructor(private readonly metric: string) {}

  update(p: SearchProgress): void {
    if (p.event.kind !== 'result' || !p.event.trial_id) return;
    const time = new Date().toISOString().slice(11, 19);
    const total = p.total === null ? '' : `/${p.total}`;
    const failed = p.event.text ? ` failed: ${p.event.text}` : '';
    const end = endText(p);
    process.stderr.write(
      `[${time}] ${p.event.trial_id} finished${failed} | ${p.done}${total} done, ${inFlightText(p)}, ${p.failed} failed${end ? ` | ${end}` : ''} | best ${bestText(p, this.metric)}\n`,
    );
  }

  stop(): void {}
}

export function createProgressDisplay(metric: string, tty = process.stderr.isTTY === true): ProgressDisplay {
  return tty ? new BarDisplay(metric) : new LineDisplay(metric);
}

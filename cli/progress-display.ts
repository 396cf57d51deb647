/**
 * Shows a running search: a live progress bar on a terminal (cli-progress), plain log lines otherwise
 * (one per finished trial), so CI logs and pipes stay readable.
 */
import cliProgress from 'cli-progress';
import type { SearchProgress } from '../orchestrator/core/progress.js';
import type { TrialParams } from '../shared/protocol/index.js';

export interface ProgressDisplay {
  update(p: SearchProgress): void;
  stop(): void;
}

const shortParams = (params: TrialParams) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(' ');

const bestText = (p: SearchProgress, metric: string) =>
  p.best ? `${metric} ${p.best.value.toFixed(4)} (${p.best.trial_id} ${shortParams(p.best.params)})` : '-';

class BarDisplay implements ProgressDisplay {
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(private readonly metric: string) {
    this.bar = new cliProgress.SingleBar({
      format:
        '{bar} {value}/{total} done | {running} running | {failed} failed | ETA {eta_formatted} | best {best}',
      hideCursor: true,
      etaBuffer: 20,
      clearOnComplete: false,
      stream: process.stderr,
    });
  }

  update(p: SearchProgress): void {
    const payload = { running: p.running, failed: p.failed, best: bestText(p, this.metric) };
    const total = p.total ?? p.done + p.running;
    if (!this.started) {
      this.bar.start(total, p.done, payload);
      this.started = true;
    } else {
      this.bar.setTotal(total);
      this.bar.update(p.done, payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}

class LineDisplay implements ProgressDisplay {
  constructor(private readonly metric: string) {}

  update(p: SearchProgress): void {
    if (p.event.kind !== 'result' || !p.event.trial_id) return;
    const time = new Date().toISOString().slice(11, 19);
    const total = p.total === null ? '' : `/${p.total}`;
    const failed = p.event.text ? ` failed: ${p.event.text}` : '';
    process.stderr.write(
      `[${time}] ${p.event.trial_id} finished${failed} | ${p.done}${total} done, ${p.running} running, ${p.failed} failed | best ${bestText(p, this.metric)}\n`,
    );
  }

  stop(): void {}
}

export function createProgressDisplay(metric: string, tty = process.stderr.isTTY === true): ProgressDisplay {
  return tty ? new BarDisplay(metric) : new LineDisplay(metric);
}

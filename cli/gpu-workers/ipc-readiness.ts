/**
 * Readiness of `hpo worker --gpus`: the supervisor's /readyz has one check per GPU worker process (named
 * as the process's worker, e.g. `host:123/gpu0`), which asks that process over IPC for its own checks
 * (nats, pool: cli/readiness-checks.ts). A process not running (being started again) or not answering
 * in time fails its check.
 */
import type { ChildProcess } from 'node:child_process';
import {
  type ReadinessChecks,
  type ReadinessReport,
  evaluateReadiness,
  failed,
  passed,
} from '../../shared/metrics/index.js';
import { answerOverIpc, askChild } from './ipc-request.js';

const REQUEST = 'hpo-readiness-request';
const REPLY = 'hpo-readiness';

/** In a GPU worker process: answers the supervisor's readiness questions with `checks`. */
export function answerReadinessOverIpc(checks: ReadinessChecks): void {
  answerOverIpc(REQUEST, REPLY, 'report', () => evaluateReadiness(checks));
}

/** One check per process: its own readiness, asked over IPC. */
export function processesReadiness(
  processes: () => { name: string; child?: ChildProcess }[],
  timeoutMs = 1500,
): ReadinessChecks {
  const checks: ReadinessChecks = {};
  for (const { name } of processes()) {
    checks[name] = async () => {
      const child = processes().find((p) => p.name === name)?.child;
      if (!child) return failed('process not running (being started again)');
      const report = await askChild<ReadinessReport>(child, {
        request: REQUEST,
        reply: REPLY,
        read: (m) =>
          typeof (m.report as ReadinessReport | undefined)?.ready === 'boolean'
            ? (m.report as ReadinessReport)
            : undefined,
        timeoutMs,
      });
      if (!report) return failed(`pid ${child.pid} did not answer within ${timeoutMs} ms`);
      if (report.ready) return passed(`pid ${child.pid} ready`);
      const why = report.failing.map((n) => `${n}: ${report.checks[n]?.detail ?? 'failing'}`);
      return failed(`pid ${child.pid} not ready (${why.join('; ')})`);
    };
  }
  return checks;
}

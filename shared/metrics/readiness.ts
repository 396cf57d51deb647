/**
 * Readiness for GET /readyz (metrics-server.ts): named checks each process hands to its metrics server
 * (the orchestrator: NATS, store, lease; a worker: NATS, pool). Ready when every check passes; until a
 * process hands its checks over it is not ready (check `started`). docs/METRICS.md "Health".
 */

export interface CheckResult {
  ok: boolean;
  /** Why not (or what is fine), for a person reading /readyz. */
  detail?: string;
}

/** One readiness check: quick, and never throws on purpose (a throw or a hang counts as failing). */
export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

/** Checks by name (the name is what /readyz reports as failing). */
export type ReadinessChecks = Record<string, ReadinessCheck>;

export interface ReadinessReport {
  ready: boolean;
  /** Names of the failing checks (empty when ready). */
  failing: string[];
  checks: Record<string, CheckResult>;
}

/** A check slower than this fails (a probe must answer even when, say, the store hangs). */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

/** The check reported before a process has handed over its own. */
export const NOT_STARTED_CHECK = 'started';

export const passed = (detail?: string): CheckResult =>
  detail === undefined ? { ok: true } : { ok: true, detail };
export const failed = (detail: string): CheckResult => ({ ok: false, detail });

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve(failed(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } catch (err) {
    return failed(`check failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check (together); `undefined` checks: not started yet. */
export async function evaluateReadiness(
  checks: ReadinessChecks | undefined,
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> {
  if (checks === undefined) {
    return {
      ready: false,
      failing: [NOT_STARTED_CHECK],
      checks: { [NOT_STARTED_CHECK]: failed('starting up') },
    };
  }
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n], timeoutMs)));
  const report: ReadinessReport = { ready: true, failing: [], checks: {} };
  names.forEach((name, i) => {
    report.checks[name] = results[i];
    if (!results[i].ok) report.failing.push(name);
  });
  report.ready = report.failing.length === 0;
  return report;
}

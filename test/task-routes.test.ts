/**
 * Task routes (issue 25 item 2), unit level: each task its own route; which live workers offer a task
 * (from heartbeats); when refusals may fail a trial. The real-process proof is mixed-fleet-nats.test.ts.
 */
import assert from 'node:assert/strict';
import { TaskCoverage } from '../orchestrator/transport/nats/task-coverage.js';
import { refusalsExhausted } from '../orchestrator/transport/nats/trial-queue.js';
import type { InFlight } from '../orchestrator/transport/nats/deliveries.js';
import { type RefusalEvent, type WorkerHeartbeat, taskRoute, trialRoute } from '../shared/protocol/bus.js';
import { PROTOCOL_VERSION, type TrialSpec } from '../shared/protocol/index.js';
import { BUILTIN_TASK_NAMES, TASKS } from '../worker/tasks/index.js';

const SHA = 'ab'.repeat(32);

/** A worker offering the built-in tasks and, with `parabola`, the parabola module. */
function heartbeat(name: string, parabola = false, extra: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  const now = Date.now();
  const routes = BUILTIN_TASK_NAMES.map((t) => taskRoute(t));
  if (parabola) routes.push(taskRoute('parabola', SHA));
  return {
    v: PROTOCOL_VERSION,
    name,
    slots: 2,
    busy: 0,
    trials_done: 0,
    started_at: now,
    sent_at: now,
    draining: false,
    invalid_messages: 0,
    ...(parabola ? { tasks: [`parabola@${SHA.slice(0, 12)}`] } : {}),
    routes,
    ...extra,
  };
}

function entry(spec: Partial<TrialSpec>): InFlight {
  const full = {
    v: PROTOCOL_VERSION,
    experiment: 'e',
    experiment_id: 'e',
    trial_id: 't1',
    attempt: 1,
    task: 'parabola',
    task_sha256: SHA,
    params: {},
    seed: 1,
    ...spec,
  } as TrialSpec;
  return {
    experiment: 'e',
    experimentId: 'e',
    trial_id: 't1',
    attempt: 1,
    token: 'T'.repeat(22),
    maxEpoch: 1,
    spec: full,
    lastSign: Date.now(),
  };
}

function refusal(worker: string, refusals: number): RefusalEvent {
  return {
    v: PROTOCOL_VERSION,
    experiment: 'e',
    experiment_id: 'e',
    trial_id: 't1',
    attempt: 1,
    token: 'T'.repeat(22),
    worker,
    reason: 'data set sha256 mismatch',
    refusals,
    seq: 1,
  };
}

describe('task routes', () => {
  it('give every task, each built-in one too, a route of its own: 32 hex digits, by name and content', () => {
    assert.deepEqual([...BUILTIN_TASK_NAMES].sort(), [...TASKS.keys()].sort());
    const routes = [
      ...BUILTIN_TASK_NAMES.map((t) => taskRoute(t)),
      taskRoute('parabola', SHA),
      taskRoute('parabola', 'cd'.repeat(32)),
      taskRoute('other', SHA),
      taskRoute('parabola'),
    ];
    assert.equal(new Set(routes).size, routes.length);
    for (const r of routes) assert.match(r, /^[0-9a-f]{32}$/);
    assert.equal(taskRoute('parabola', SHA), trialRoute({ task: 'parabola', task_sha256: SHA }));
    // A path as a task name is only ever hashed.
    assert.match(taskRoute('../../evil.js'), /^[0-9a-f]{32}$/);
  });

  it('TaskCoverage: a live worker of this version, not draining, offers the tasks whose routes its heartbeat lists', () => {
    const coverage = new TaskCoverage({ staleMs: 1000 });
    const now = Date.now();
    coverage.heard(heartbeat('plain'), now);
    coverage.heard(heartbeat('capable', true), now);
    coverage.heard(heartbeat('draining', true, { draining: true }), now);
    coverage.heard(heartbeat('old', true, { v: PROTOCOL_VERSION - 1 }), now);
    coverage.heard(heartbeat('gone', true), now - 5000);
    assert.deepEqual(coverage.offering({ task: 'parabola', task_sha256: SHA }, now), ['capable']);
    assert.deepEqual(coverage.offering({ task: 'synthetic' }, now).sort(), ['capable', 'plain']);
    assert.deepEqual(coverage.offering({ task: 'parabola', task_sha256: 'cd'.repeat(32) }, now), []);
    // A built-in task this version of the workers does not have (or a typo): nobody.
    assert.deepEqual(coverage.offering({ task: '../../evil.js' }, now), []);
    // A worker of an older version without routes offers nothing here.
    coverage.heard({ ...heartbeat('routeless'), routes: undefined }, now);
    assert.deepEqual(coverage.offering({ task: 'synthetic' }, now).sort(), ['capable', 'plain']);
  });

  it('TaskCoverage.unserved lists queued trials whose task no live worker offers, once heartbeats had time to come', () => {
    const e = entry({});
    const started = { ...entry({ trial_id: 't2' }), trial_id: 't2', started: true };
    const coverage = new TaskCoverage({ inFlight: () => [e, started], listenMs: 0 });
    assert.deepEqual([...coverage.unserved()], [], 'not started: nothing known');
    coverage['startedAt'] = Date.now() - 1;
    assert.deepEqual(
      [...coverage.unserved()],
      [[`parabola@${SHA.slice(0, 12)}`, { experiment: 'e', trials: 1 }]],
    );
    coverage.heard(heartbeat('capable', true));
    assert.deepEqual([...coverage.unserved()], []);
  });

  it('refusals fail a trial only past maxRefusals and once every live worker offering its task refused it', () => {
    const e = entry({});
    assert.equal(refusalsExhausted(refusal('a', 3), e, ['a', 'b'], 5), undefined, 'below maxRefusals');
    assert.equal(refusalsExhausted(refusal('a', 5), e, ['a', 'b'], 5), undefined, 'b has not refused');
    const why = refusalsExhausted(refusal('b', 6), e, ['a', 'b'], 5);
    assert.match(
      why ?? '',
      /refused by worker b: data set sha256 mismatch \(refused 6 times in all, by 2 worker\(s\)/,
    );
    // A capable worker alive that never refused: queued again, however many refusals.
    const f = entry({});
    refusalsExhausted(refusal('a', 1), f, ['a', 'c'], 5);
    assert.equal(refusalsExhausted(refusal('a', 50), f, ['a', 'c'], 5), undefined);
    // Nobody alive offers it any more: said so.
    assert.match(
      refusalsExhausted(refusal('a', 51), f, [], 5) ?? '',
      /^no live worker offers task parabola@abababababab; /,
    );
  });
});

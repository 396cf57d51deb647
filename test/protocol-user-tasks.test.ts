/** The protocol additions of issue 14: TrialSpec.task_sha256 and the heartbeat's tasks, both bounded. */
import assert from 'node:assert/strict';
import { PROTOCOL_VERSION } from '../shared/protocol/index.js';
import { validateTrialSpec, validateWorkerHeartbeat } from '../shared/protocol/validate.js';

const spec = {
  v: PROTOCOL_VERSION,
  experiment: 'e',
  experiment_id: 'e',
  token: 'a-delivery-token-0123',
  trial_id: 't',
  attempt: 1,
  task: 'quad',
  params: {},
  seed: 1,
};
const hb = {
  v: PROTOCOL_VERSION,
  name: 'w',
  slots: 1,
  busy: 0,
  trials_done: 0,
  started_at: Date.now() - 2,
  sent_at: Date.now() - 1,
  draining: false,
  invalid_messages: 0,
};

describe('protocol: user tasks', () => {
  it('task_sha256 is 64 lowercase hex digits or absent', () => {
    const sha = 'a'.repeat(64);
    const ok = validateTrialSpec({ ...spec, task_sha256: sha });
    assert.ok(ok.ok && ok.value.task_sha256 === sha);
    assert.ok(validateTrialSpec(spec).ok);
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(63)}g`, 42, '../x.mjs']) {
      const r = validateTrialSpec({ ...spec, task_sha256: bad });
      assert.ok(!r.ok && /^task_sha256: expected 64 lowercase hex digits/.test(r.error), String(bad));
    }
  });

  it('heartbeat tasks: at most 100 names without control characters', () => {
    const r = validateWorkerHeartbeat({ ...hb, tasks: ['quad@0123456789ab'] });
    assert.ok(r.ok && r.value.tasks?.[0] === 'quad@0123456789ab');
    assert.ok(!validateWorkerHeartbeat({ ...hb, tasks: Array(101).fill('x') }).ok);
    assert.ok(!validateWorkerHeartbeat({ ...hb, tasks: ['a\nb'] }).ok);
    assert.ok(!validateWorkerHeartbeat({ ...hb, tasks: 'quad' }).ok);
  });
});

/**
 * Reply subjects a responder answers on (shared/nats/inbox.ts), the inbox prefix a client derives from
 * its user, and lease records read back from the bus (orchestrator/store/owner-lease.ts parseOwnerLease).
 * The real-server proofs are in test/bus-trust-replies.test.ts.
 */
import assert from 'node:assert/strict';
import { parseOwnerLease } from '../orchestrator/store/index.js';
import { inboxPrefixFor, isInboxReply } from '../shared/nats/index.js';

describe('inbox replies and lease records', () => {
  it('answers only subjects of inbox form', () => {
    for (const ok of [
      '_INBOX.viewer.Ab12Cd.7',
      '_INBOX.worker-gpu1.NUIDnuid0123456789abcd',
      '_INBOX.x',
      '_INBOX.a.b.c.d',
    ]) {
      assert.ok(isInboxReply(ok), ok);
    }
    for (const bad of [
      undefined,
      '',
      '$JS.API.STREAM.PURGE.HPO_TRIALS',
      '$KV.hpo_owners.abc',
      'hpo.trials.abc',
      '_INBOX',
      '_INBOX.>',
      '_INBOX.*.x',
      '_INBOX.a.b.c.d.e',
      '_INBOX..x',
      '_INBOXES.x',
      `_INBOX.${'a'.repeat(65)}`,
      '_INBOX.a b',
    ]) {
      assert.ok(!isInboxReply(bad), String(bad));
    }
  });

  it('derives _INBOX.<user> (one token) from the user name, _INBOX without one', () => {
    assert.equal(inboxPrefixFor(undefined), '_INBOX');
    assert.equal(inboxPrefixFor(''), '_INBOX');
    assert.equal(inboxPrefixFor('viewer'), '_INBOX.viewer');
    assert.equal(inboxPrefixFor('worker-gpu1'), '_INBOX.worker-gpu1');
    assert.equal(inboxPrefixFor('a.b*>c d'), '_INBOX.a_b__c_d');
  });

  it('a lease record with a missing or out-of-range field is no lease (never a bad Date)', () => {
    const good = {
      experiment: 'e',
      token: 't',
      pid: 12,
      host: 'h',
      acquired_at: 1_700_000_000_000,
      heartbeat_at: 1_700_000_000_000,
    };
    assert.deepEqual(parseOwnerLease(good), good);
    assert.deepEqual(parseOwnerLease({ ...good, extra: 1 }), good);
    for (const bad of [
      null,
      'lease',
      { name: 'e', status: 'running', trials: { total: 4 } },
      { ...good, heartbeat_at: undefined },
      { ...good, heartbeat_at: 1e300 },
      { ...good, acquired_at: -1 },
      { ...good, pid: 0 },
      { ...good, pid: 1.5 },
      { ...good, host: '' },
      { ...good, token: 7 },
    ]) {
      assert.equal(parseOwnerLease(bad), undefined, JSON.stringify(bad));
    }
  });
});

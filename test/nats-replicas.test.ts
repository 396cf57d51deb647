/**
 * The replica count (shared/nats/replicas.ts) from what a server says about its cluster, and the
 * classification of JetStream failures retried during a leader election (shared/nats/retry.ts). The
 * real cluster behind both: test/nats-cluster.test.ts.
 */
import { strict as assert } from 'node:assert';
import { JetStreamApiError } from '@nats-io/jetstream';
import { PermissionViolationError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { UsageError } from '../shared/errors.js';
import { chooseReplicas, replicasProblem } from '../shared/nats/replicas.js';
import { isTransientBusError, retryTransient } from '../shared/nats/retry.js';

describe('--replicas', () => {
  it('defaults to 1 on a single server, 3 on a cluster, 1 on a cluster of 2', () => {
    assert.equal(chooseReplicas({}).replicas, 1);
    assert.equal(chooseReplicas({ cluster: 'hpo', servers: 3 }).replicas, 3);
    assert.equal(chooseReplicas({ cluster: 'hpo', servers: 7 }).replicas, 3);
    assert.equal(chooseReplicas({ cluster: 'hpo', servers: 2 }).replicas, 1);
    // A cluster that advertises no peers (no_advertise): 3, and the server refuses it if it cannot.
    assert.equal(chooseReplicas({ cluster: 'hpo' }).replicas, 3);
    assert.match(chooseReplicas({ cluster: 'hpo', servers: 3 }).why, /3 \(cluster 'hpo' of 3 servers\)/);
  });

  it('accepts 1, 3, 5 up to the cluster size; refuses the rest naming the setting', () => {
    assert.equal(chooseReplicas({ cluster: 'c', servers: 5 }, 5).replicas, 5);
    assert.equal(chooseReplicas({ cluster: 'c', servers: 3 }, 1).replicas, 1);
    for (const n of [0, 2, 4, 6, 7, 1.5, Number.NaN]) assert.ok(replicasProblem(n), String(n));
    assert.throws(() => chooseReplicas({ cluster: 'c', servers: 3 }, 2), UsageError);
    assert.throws(
      () => chooseReplicas({ cluster: 'c', servers: 3 }, 5),
      (err: Error) =>
        err instanceof UsageError &&
        /--replicas 5: .*cluster 'c' of 3 servers.*--replicas 3/.test(err.message),
    );
    assert.throws(() => chooseReplicas({}, 3), /--replicas 3: the NATS server is a single server/);
  });
});

describe('transient JetStream failures', () => {
  const apiError = (code: number, description: string, err_code = code) =>
    new JetStreamApiError({ code, err_code, description });

  it('retries timeouts, no responders and cluster unavailability; not refusals', () => {
    assert.ok(isTransientBusError(new TimeoutError()));
    const notEnabled = new Error('jetstream is not enabled');
    notEnabled.name = 'JetStreamNotEnabled';
    assert.ok(isTransientBusError(notEnabled));
    assert.ok(isTransientBusError(apiError(503, 'JetStream system temporarily unavailable', 10008)));
    assert.ok(!isTransientBusError(apiError(404, 'stream not found', 10059)));
    assert.ok(!isTransientBusError(apiError(400, 'wrong last sequence: 4', 10071)));
    assert.ok(
      !isTransientBusError(
        new RequestError('denied', { cause: new PermissionViolationError('x', 'publish', '$JS.API.X') }),
      ),
    );
    assert.ok(
      !isTransientBusError(new Error('Permissions Violation for Publish to "$JS.API.STREAM.CREATE.X"')),
    );
  });

  it('runs the call again after a transient failure, throws anything else at once', async () => {
    let calls = 0;
    const value = await retryTransient(async () => {
      if (++calls < 3) throw new TimeoutError();
      return 'ok';
    });
    assert.deepEqual([value, calls], ['ok', 3]);
    calls = 0;
    await assert.rejects(
      retryTransient(async () => {
        calls++;
        throw apiError(404, 'stream not found', 10059);
      }),
      /stream not found/,
    );
    assert.equal(calls, 1);
  });
});

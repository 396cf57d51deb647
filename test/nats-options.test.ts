import assert from 'node:assert/strict';
import { natsSettings } from '../cli/options/nats-options.js';
import { UsageError } from '../shared/errors.js';

describe('NATS connection options (flags and environment)', () => {
  it('no URL anywhere: undefined (this machine only)', () => {
    assert.equal(natsSettings({}, {}), undefined);
  });

  it('several servers, token, user/password, creds and TLS from flags', () => {
    assert.deepEqual(
      natsSettings(
        {
          nats: 'nats://a:4222, nats://b:4222',
          natsToken: 't0k',
          natsCreds: '/x.creds',
          natsTlsCa: '/ca.pem',
          natsTlsCert: '/c.pem',
          natsTlsKey: '/k.pem',
        },
        {},
      ),
      {
        servers: ['nats://a:4222', 'nats://b:4222'],
        token: 't0k',
        credsFile: '/x.creds',
        tls: { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' },
      },
    );
    assert.deepEqual(natsSettings({ nats: 'nats://a:1', natsUser: 'u', natsPass: 'p' }, {}), {
      servers: ['nats://a:1'],
      user: 'u',
      pass: 'p',
    });
  });

  it('falls back to HPO_NATS_* variables; flags win', () => {
    const env = { HPO_NATS_URL: 'nats://env:4222', HPO_NATS_TOKEN: 'from-env' };
    assert.deepEqual(natsSettings({}, env), { servers: ['nats://env:4222'], token: 'from-env' });
    assert.deepEqual(natsSettings({ nats: 'nats://flag:1' }, env), {
      servers: ['nats://flag:1'],
      token: 'from-env',
    });
  });

  it('rejects what cannot work, naming the option', () => {
    const bad: [Parameters<typeof natsSettings>[0], RegExp][] = [
      [{ nats: 'http://x' }, /--nats: 'http:\/\/x' is not a server URL/],
      [{ nats: ' , ' }, /--nats: expected one or more server URLs/],
      [{ nats: 'nats://a:1', natsUser: 'u' }, /--nats-user and --nats-pass go together/],
      [{ nats: 'nats://a:1', natsTlsCert: '/c.pem' }, /--nats-tls-cert and --nats-tls-key go together/],
    ];
    for (const [flags, message] of bad)
      assert.throws(
        () => natsSettings(flags, {}),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
  });
});

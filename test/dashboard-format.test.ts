/**
 * The dashboard page's formatters (plain browser modules, loaded here from the source folder): a time
 * out of Date's range, as a forged heartbeat's `sent_at: 1e300` once was, reads `?` instead of throwing
 * (issue 24 item 8).
 */
import assert from 'node:assert/strict';

const FORMAT = new URL('../../viewer/public/format.js', import.meta.url).href;

describe('dashboard formatters', () => {
  it('when(): a time out of range reads ?, a normal one as UTC date and time, none as empty', async () => {
    const { when } = (await import(FORMAT)) as { when: (ms: unknown) => string };
    assert.equal(when(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02 03:04:05');
    for (const bad of [1e300, -1e300, 8.64e15 + 1]) assert.equal(when(bad), '?');
    assert.equal(when(null), '');
  });
});

/**
 * Which store failures pass (the event is kept on the bus and retried) and which never will (dropped
 * once): real SQLite errors of a real database (issue 24 item 6).
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { RefusedEventError, RetryLaterError, StoreError } from '../shared/errors.js';
import { storeCannotWriteNow } from '../orchestrator/store/index.js';
import { retryDelay } from '../orchestrator/transport/nats/events-consumer.js';

function sqliteError(fn: () => void): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an SQLite error');
}

describe('store failures: passing (retry) or for good (drop once)', () => {
  it('a full database passes; a value of the wrong type, a trigger refusal do not (also inside a StoreError)', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a INTEGER, b TEXT) STRICT');
    const datatype = sqliteError(() => db.prepare('INSERT INTO t VALUES (?, ?)').run(1e300, 'x'));
    assert.equal((datatype as Error & { code: string }).code, 'SQLITE_CONSTRAINT_DATATYPE');
    db.exec(`CREATE TRIGGER no BEFORE INSERT ON t WHEN NEW.a = 2 BEGIN SELECT RAISE(ABORT, 'no'); END`);
    const trigger = sqliteError(() => db.prepare('INSERT INTO t VALUES (?, ?)').run(2, 'x'));
    // A database of at most its current pages: the next page is "database or disk is full".
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const full = sqliteError(() => {
      for (let i = 0; i < 1000; i++) db.prepare('INSERT INTO t VALUES (?, ?)').run(3, 'y'.repeat(4000));
    });
    assert.equal((full as Error & { code: string }).code, 'SQLITE_FULL');
    db.close();

    const wrap = (cause: Error) => new StoreError(`could not record: ${cause.message}`, { cause });
    assert.equal(storeCannotWriteNow(wrap(full)), true);
    assert.equal(storeCannotWriteNow(wrap(datatype)), false);
    assert.equal(storeCannotWriteNow(wrap(trigger)), false);
    assert.equal(storeCannotWriteNow(new StoreError('no trial t9')), false);
    for (const code of ['ENOSPC', 'EFBIG', 'EDQUOT', 'SQLITE_IOERR_WRITE', 'SQLITE_BUSY']) {
      assert.equal(storeCannotWriteNow(wrap(Object.assign(new Error(code), { code }))), true, code);
    }
  });

  it('the events consumer drops a refused event at once, keeps retrying one that must wait', () => {
    assert.equal(retryDelay(new RefusedEventError('refused'), 1), undefined);
    assert.equal(retryDelay(new RetryLaterError('full'), 50), 8000);
    assert.equal(retryDelay(new Error('other'), 1), 1000);
    assert.equal(retryDelay(new Error('other'), 5), undefined);
  });
});

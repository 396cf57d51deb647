/** The owner lease in SQLite (table `owners`, schema version 3): acquire, heartbeat, release, read. */
import type Database from 'better-sqlite3';
import { type LeaseClock, leaseRefusal, type OwnerClaim, type OwnerLease } from './owner-lease.js';

export interface LeaseStatements {
  acquire(experiment: string, claim: OwnerClaim, clock: LeaseClock, force: boolean): OwnerLease;
  heartbeat(experiment: string, token: string, now: number): boolean;
  release(experiment: string, token: string): void;
  get(experiment: string): OwnerLease | undefined;
}

export function prepareLeaseStatements(db: Database.Database, file: string): LeaseStatements {
  const select = db.prepare<[string], OwnerLease>(
    'SELECT experiment, token, pid, host, acquired_at, heartbeat_at FROM owners WHERE experiment = ?',
  );
  const upsert = db.prepare<OwnerLease>(
    `INSERT INTO owners (experiment, token, pid, host, acquired_at, heartbeat_at)
     VALUES (@experiment, @token, @pid, @host, @acquired_at, @heartbeat_at)
     ON CONFLICT (experiment) DO UPDATE SET token = excluded.token, pid = excluded.pid,
       host = excluded.host, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
  );
  const beat = db.prepare<{ experiment: string; token: string; now: number }>(
    'UPDATE owners SET heartbeat_at = @now WHERE experiment = @experiment AND token = @token',
  );
  const remove = db.prepare<[string, string]>('DELETE FROM owners WHERE experiment = ? AND token = ?');
  // Read and write in one IMMEDIATE transaction: two drivers starting together cannot both win.
  const acquire = db.transaction(
    (experiment: string, claim: OwnerClaim, clock: LeaseClock, force: boolean): OwnerLease => {
      const refusal = leaseRefusal(select.get(experiment), claim, clock, force, `database ${file}`);
      if (refusal) throw refusal;
      const lease: OwnerLease = { experiment, ...claim, acquired_at: clock.now, heartbeat_at: clock.now };
      upsert.run(lease);
      return lease;
    },
  );
  return {
    acquire: (experiment, claim, clock, force) => acquire.immediate(experiment, claim, clock, force),
    heartbeat: (experiment, token, now) => beat.run({ experiment, token, now }).changes > 0,
    release: (experiment, token) => void remove.run(experiment, token),
    get: (experiment) => select.get(experiment),
  };
}

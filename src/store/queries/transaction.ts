/**
 * One transaction over either database, and the database's own clock.
 *
 * SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so two processes (serve
 * and a CLI command) that read then write wait for each other through
 * busy_timeout instead of failing on a lock upgrade (a deferred `BEGIN` cannot
 * wait there: https://www.sqlite.org/lang_transaction.html).
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';

export async function inTransaction<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  work: (trx: Kysely<Database>) => Promise<T>,
  /** `snapshot`: reads only, all from one consistent snapshot of the database. */
  mode: 'write' | 'snapshot' = 'write',
): Promise<T> {
  if (db.isTransaction) return work(db);
  if (dialect === 'postgres')
    return mode === 'write'
      ? db.transaction().execute(work)
      : db.transaction().setIsolationLevel('repeatable read').execute(work);
  return db.connection().execute(async (connection) => {
    // In WAL mode a deferred transaction reads one snapshot without blocking writers.
    await sql.raw(mode === 'write' ? 'begin immediate' : 'begin').execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * The database's clock in epoch milliseconds: leases are compared with it, so
 * replicas whose own clocks disagree still agree on who holds a run.
 */
export function databaseNow(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}

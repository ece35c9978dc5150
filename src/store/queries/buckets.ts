/**
 * Token buckets shared by replicas: a row per bucket, read and written in one
 * short transaction (a row lock on PostgreSQL, SQLite's immediate transaction),
 * so two replicas never take the same tokens. The arithmetic is core/token-bucket.ts;
 * the wait it asks for is slept by the caller, outside the transaction.
 *
 * Each replica counts time on its own (injected) clock: a replica whose clock is
 * behind the row's refills nothing until it catches up (core's `refill`), so skew
 * makes the budget stricter, never larger.
 */
import type { Kysely } from 'kysely';
import type { BucketLedger, BucketRate, BucketState } from '../../core/token-bucket.js';
import { fullBucket, take, throttled } from '../../core/token-bucket.js';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';
import { inTransaction } from './transaction.js';

async function change(
  db: Kysely<Database>,
  dialect: Dialect,
  bucket: string,
  rate: BucketRate,
  now: number,
  next: (state: BucketState) => { state: BucketState; waitMs: number },
): Promise<number> {
  return inTransaction(db, dialect, async (trx) => {
    const read = () => {
      const query = trx.selectFrom('token_buckets').selectAll().where('bucket', '=', bucket);
      return (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    };
    let row = await read();
    if (row === undefined) {
      const full = fullBucket(rate, now);
      // Replicas making it at once keep the first one stored.
      await trx
        .insertInto('token_buckets')
        .values({
          bucket,
          tokens: full.tokens,
          slow_until: full.slowUntil,
          slow_factor: full.factor,
          updated_at: full.at,
        })
        .onConflict((oc) => oc.column('bucket').doNothing())
        .execute();
      row = await read();
    }
    if (row === undefined) throw new Error(`token bucket ${bucket} vanished while taken`);
    const { state, waitMs } = next({
      tokens: row.tokens,
      at: row.updated_at,
      slowUntil: row.slow_until,
      factor: row.slow_factor,
    });
    await trx
      .updateTable('token_buckets')
      .set({
        tokens: state.tokens,
        slow_until: state.slowUntil,
        slow_factor: state.factor,
        updated_at: state.at,
      })
      .where('bucket', '=', bucket)
      .execute();
    return waitMs;
  });
}

/** The store's buckets, as the ledger the AWS limiter takes from. */
export function storeBuckets(db: Kysely<Database>, dialect: Dialect): BucketLedger {
  return {
    take: (bucket, rate, n, now) =>
      change(db, dialect, bucket, rate, now, (state) => take(rate, state, n, now)),
    throttled: async (bucket, rate, now) => {
      await change(db, dialect, bucket, rate, now, (state) => ({
        state: throttled(rate, state, now),
        waitMs: 0,
      }));
    },
  };
}

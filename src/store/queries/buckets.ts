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
import { fullBucket, take, takeAll, throttled } from '../../core/token-bucket.js';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';
import { inTransaction } from './transaction.js';

function byKey<T extends { readonly key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Reads the rows of `buckets` (made full on first use), locked, in the order of
 * their keys (two replicas locking two buckets never wait for each other in a
 * circle), and writes back what `next` makes of them, in one transaction.
 */
async function change(
  db: Kysely<Database>,
  dialect: Dialect,
  buckets: readonly { readonly key: string; readonly rate: BucketRate }[],
  now: number,
  next: (states: BucketState[]) => { states: BucketState[]; waitMs: number },
): Promise<number> {
  const ordered = byKey(buckets);
  return inTransaction(db, dialect, async (trx) => {
    const current: BucketState[] = [];
    for (const { key, rate } of ordered)
      current.push(await lockedState(trx, dialect, key, rate, now));
    const { states, waitMs } = next(current);
    for (const [i, { key }] of ordered.entries()) {
      const state = states[i]!;
      await trx
        .updateTable('token_buckets')
        .set({
          tokens: state.tokens,
          slow_until: state.slowUntil,
          slow_factor: state.factor,
          updated_at: state.at,
        })
        .where('bucket', '=', key)
        .execute();
    }
    return waitMs;
  });
}

/** One bucket's row, locked for the transaction; a full bucket stored first if it has none. */
async function lockedState(
  trx: Kysely<Database>,
  dialect: Dialect,
  bucket: string,
  rate: BucketRate,
  now: number,
): Promise<BucketState> {
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
  return {
    tokens: row.tokens,
    at: row.updated_at,
    slowUntil: row.slow_until,
    factor: row.slow_factor,
  };
}

/** The store's buckets, as the ledger the AWS limiter takes from. */
export function storeBuckets(db: Kysely<Database>, dialect: Dialect): BucketLedger {
  return {
    take: (bucket, rate, n, now) =>
      change(db, dialect, [{ key: bucket, rate }], now, ([state]) => {
        const taken = take(rate, state!, n, now);
        return { states: [taken.state], waitMs: taken.waitMs };
      }),
    takeAll: (takes, now) => {
      // In the order `change` reads the states in.
      const ordered = byKey(takes);
      return change(db, dialect, ordered, now, (states) =>
        takeAll(
          ordered.map((t, i) => ({ ...t, state: states[i]! })),
          now,
        ),
      );
    },
    throttled: async (bucket, rate, now) => {
      await change(db, dialect, [{ key: bucket, rate }], now, ([state]) => ({
        states: [throttled(rate, state!, now)],
        waitMs: 0,
      }));
    },
  };
}

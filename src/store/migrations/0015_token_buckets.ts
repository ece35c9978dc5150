import type { Kysely } from 'kysely';

/**
 * Client-side token buckets (core/token-bucket.ts), one row each, shared by every
 * replica on the database: a take reads and writes its row in one short
 * transaction (queries/buckets.ts). `tokens` and `slow_factor` are fractions.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('token_buckets')
    .addColumn('bucket', 'text', (c) => c.primaryKey())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('slow_until', 'bigint', (c) => c.notNull())
    .addColumn('slow_factor', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

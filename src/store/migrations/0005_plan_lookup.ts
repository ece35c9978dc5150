import type { Kysely } from 'kysely';

/**
 * Planning one environment's window reads its reservations and holds by
 * environment and end, and checks the start in the index itself: no table row is
 * read for one that ends before the window or begins after it. The new indexes
 * lead with the environment, so the single-column ones they replace go.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('reservations_environment_to_at')
    .on('reservations')
    .columns(['environment', 'to_at', 'from_at'])
    .execute();
  await db.schema
    .createIndex('holds_environment_until_at')
    .on('holds')
    .columns(['environment', 'until_at', 'from_at'])
    .execute();
  await db.schema.dropIndex('reservations_environment').execute();
  // Nothing looks reservations up by start alone; every index is one more page to write per insert.
  await db.schema.dropIndex('reservations_from_at').execute();
  await db.schema.dropIndex('holds_environment').execute();
}

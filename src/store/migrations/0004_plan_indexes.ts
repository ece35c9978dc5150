import type { Kysely } from 'kysely';

/** Readers plan a window ahead: reservations and holds are found by when they end and begin. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('reservations_to_at').on('reservations').column('to_at').execute();
  await db.schema
    .createIndex('reservations_from_at')
    .on('reservations')
    .column('from_at')
    .execute();
  await db.schema.createIndex('holds_until_at').on('holds').column('until_at').execute();
}

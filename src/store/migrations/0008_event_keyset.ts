import type { Kysely } from 'kysely';

/**
 * The event log is read in id order from a cursor (`id > after`). For one
 * environment this index walks its events in that order, a page at a time;
 * without it the database read all of the environment's events and sorted them
 * for every page, so streaming a large log cost the square of its size.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('events_environment_id')
    .on('events')
    .columns(['environment', 'id'])
    .execute();
}

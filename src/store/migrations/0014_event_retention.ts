import type { Kysely } from 'kysely';

/**
 * Retention deletes the events older than a cutoff, a batch at a time: an index on
 * `at` finds them without reading the whole log, and finds none without a scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('events_at').on('events').column('at').execute();
}

import type { Kysely } from 'kysely';

/**
 * Runs that act on some of an environment's resources (a database that started by
 * itself) carry their scope; a boost carries the instant it ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('scope', 'text').execute();
  await db.schema.alterTable('runs').addColumn('until_at', 'bigint').execute();
}

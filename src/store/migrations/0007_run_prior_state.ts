import type { Kysely } from 'kysely';

/**
 * A run records the state its target had before it, and whether that state had
 * been reached: a run that never acts (cancelled, superseded in its grace) gives
 * it back, and a retry follows when it had not been reached. Its own migration,
 * so stores already at 0006 get the columns too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('prior_state', 'text').execute();
  await db.schema.alterTable('runs').addColumn('prior_reached', 'integer').execute();
}

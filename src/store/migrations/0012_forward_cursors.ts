import type { Kysely } from 'kysely';

/**
 * Live forwarding of events: per destination (an EventBridge bus, an SNS topic),
 * the id of the last event it has been sent. Replicas advance it by
 * compare-and-set, so it never moves past an event no replica has sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('forward_cursors')
    .addColumn('destination', 'text', (c) => c.primaryKey())
    .addColumn('last_event_id', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('lease_until', 'bigint')
    .execute();
}

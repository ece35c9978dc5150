import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';
import { POWER_KINDS } from '../../core/savings.js';
import { recordPower } from '../queries/power.js';
import { toEvent } from '../queries/events.js';

const PAGE = 1_000;

/**
 * The power ledger (queries/power.ts): per environment and resource, whether it is
 * off and since when (`power_state`), and each off interval with the off time of
 * the unit's earlier ones (`power_intervals`). Filled from the event log already
 * recorded, in the order it was recorded, by the same code that keeps it from now on.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // SQLite: rows kept in primary key order, so a lookup is one B-tree descent, not two.
  const clustered = <T extends { modifyEnd(modifier: RawBuilder<unknown>): T }>(table: T) =>
    dialect === 'sqlite' ? table.modifyEnd(sql`without rowid`) : table;
  await db.schema
    .createTable('power_state')
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('off_since', 'bigint')
    .addColumn('off_total', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('power_state_pk', ['environment', 'resource_id'])
    .$call(clustered)
    .execute();
  await db.schema
    .createIndex('power_state_resource')
    .on('power_state')
    .column('resource_id')
    .execute();
  await db.schema
    .createTable('power_intervals')
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('off_from', 'bigint', (c) => c.notNull())
    .addColumn('off_to', 'bigint')
    .addColumn('off_before', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('power_intervals_pk', ['environment', 'resource_id', 'off_from'])
    .$call(clustered)
    .execute();
  // Intervals still open, found by resource when it turns on.
  await db.schema
    .createIndex('power_intervals_open')
    .on('power_intervals')
    .column('resource_id')
    .where(sql.ref('off_to'), 'is', null)
    .execute();
  await backfill(db as unknown as Kysely<Database>);
}

async function backfill(db: Kysely<Database>): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('kind', 'in', [...POWER_KINDS])
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) return;
    await recordPower(db, rows.map(toEvent));
    after = rows.at(-1)!.id;
  }
}

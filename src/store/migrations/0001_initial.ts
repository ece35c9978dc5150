import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/** The first schema: every table DESIGN.md names. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const serial = (column: string) =>
    dialect === 'sqlite'
      ? `${column} integer primary key autoincrement`
      : `${column} bigint generated always as identity primary key`;
  const instant = 'bigint';

  await db.schema
    .createTable('environments')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('team', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', instant, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('resources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment', 'text')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('last_state', 'text')
    .addColumn('restore', 'text')
    .addColumn('updated_at', instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('resources_environment')
    .on('resources')
    .column('environment')
    .execute();

  for (const table of ['reservations', 'holds'] as const) {
    let builder = db.schema
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment', 'text', (c) => c.notNull());
    builder =
      table === 'reservations'
        ? builder
            .addColumn('resource', 'text')
            .addColumn('from_at', instant, (c) => c.notNull())
            .addColumn('to_at', instant, (c) => c.notNull())
        : builder
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('from_at', instant)
            .addColumn('until_at', instant, (c) => c.notNull());
    await builder
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', instant, (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_environment`).on(table).column('environment').execute();
  }

  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('due_at', instant, (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('act_at', instant, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('updated_at', instant, (c) => c.notNull())
    .addColumn('finished_at', instant)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', instant)
    .addColumn('summary', 'text')
    // The idempotency key of a run: one run per environment, direction and transition instant.
    .addUniqueConstraint('runs_idempotency', ['environment', 'direction', 'due_at'])
    .execute();
  await db.schema.createIndex('runs_status').on('runs').columns(['status', 'act_at']).execute();

  await sqlCreate(
    db,
    `create table run_steps (
      ${serial('id')},
      run_id text not null,
      tier integer not null,
      resource text not null,
      action text not null,
      status text not null,
      attempts integer not null,
      error text,
      started_at ${instant},
      finished_at ${instant},
      constraint run_steps_once unique (run_id, resource, action)
    )`,
  );

  await sqlCreate(
    db,
    `create table events (
      ${serial('id')},
      at ${instant} not null,
      actor text not null,
      environment text,
      resource text,
      kind text not null,
      run_id text,
      payload text not null
    )`,
  );
  await db.schema
    .createIndex('events_environment_at')
    .on('events')
    .columns(['environment', 'at'])
    .execute();
  await db.schema.createIndex('events_kind_at').on('events').columns(['kind', 'at']).execute();
  await db.schema.createIndex('events_run').on('events').column('run_id').execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('response', 'text')
    .execute();

  await db.schema
    .createTable('sandbox_resources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('capacity', 'integer', (c) => c.notNull())
    .addColumn('on_capacity', 'integer', (c) => c.notNull())
    .addColumn('settles_at', instant)
    .addColumn('updated_at', instant, (c) => c.notNull())
    .execute();
}

/** Tables with an auto-increment key are written in SQL: the two dialects spell it differently. */
async function sqlCreate(db: Kysely<unknown>, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

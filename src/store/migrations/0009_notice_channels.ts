import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * A notice is owed once per channel: `channel` names the configured notifier it
 * goes to ('' for the log), so each channel's delivery is claimed, retried and
 * settled on its own, and a retry never sends twice to a channel that took it.
 * SQLite cannot drop a table constraint, so there the table is rebuilt.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql
      .raw(`alter table run_notices add column channel text not null default ''`)
      .execute(db);
    await sql.raw('alter table run_notices drop constraint run_notices_once').execute(db);
    await sql
      .raw('alter table run_notices add constraint run_notices_once unique (run_id, kind, channel)')
      .execute(db);
    return;
  }
  await sql
    .raw(
      `create table run_notices_v9 (
        id integer primary key autoincrement,
        run_id text not null,
        kind text not null,
        status text not null,
        attempts integer not null,
        next_at bigint not null,
        environment text not null,
        team text,
        body text not null,
        error text,
        sent_at bigint,
        channel text not null default '',
        constraint run_notices_once unique (run_id, kind, channel)
      )`,
    )
    .execute(db);
  await sql
    .raw(
      `insert into run_notices_v9 (id, run_id, kind, status, attempts, next_at, environment, team,
         body, error, sent_at)
       select id, run_id, kind, status, attempts, next_at, environment, team, body, error, sent_at
       from run_notices`,
    )
    .execute(db);
  await sql.raw('drop table run_notices').execute(db);
  await sql.raw('alter table run_notices_v9 rename to run_notices').execute(db);
  await sql.raw('create index run_notices_due on run_notices (status, next_at)').execute(db);
}

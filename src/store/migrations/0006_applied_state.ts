import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Desired versus applied state. Each target (an environment, or one resource of it
 * reserved alone) records the state lightsout last committed to bring about, with
 * a sequence number; a run is keyed by (environment, target, sequence) instead of
 * (environment, direction, transition instant). Leases get a fencing epoch, stop
 * warnings and summaries become durable notices, and the engine keeps the instant
 * of its last pass (to name every transition missed while it was down).
 *
 * Existing stores migrate forward: each environment's applied state is derived
 * once from its last finished start or stop.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const serial = (column: string) =>
    dialect === 'sqlite'
      ? `${column} integer primary key autoincrement`
      : `${column} bigint generated always as identity primary key`;

  await sql
    .raw(
      `create table applied_states (
        environment text not null,
        resource text not null,
        state text not null,
        seq bigint not null,
        run_id text,
        failures integer not null,
        retry_at bigint,
        actor text not null,
        updated_at bigint not null,
        primary key (environment, resource)
      )`,
    )
    .execute(db);

  await replaceRunKey(db, dialect);

  await sql
    .raw(
      `create table run_notices (
        ${serial('id')},
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
        constraint run_notices_once unique (run_id, kind)
      )`,
    )
    .execute(db);
  await sql.raw('create index run_notices_due on run_notices (status, next_at)').execute(db);

  await sql
    .raw('create table engine_state (key text primary key, value bigint not null)')
    .execute(db);

  await deriveAppliedStates(db);
}

/**
 * Runs are keyed by (environment, target, seq). SQLite cannot drop a table
 * constraint, so there the table is rebuilt (nothing references it by foreign key).
 */
async function replaceRunKey(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql.raw('alter table runs drop constraint runs_idempotency').execute(db);
    await sql.raw(`alter table runs add column target text not null default ''`).execute(db);
    await sql.raw('alter table runs add column seq bigint').execute(db);
    await sql.raw('alter table runs add column lease_epoch bigint not null default 0').execute(db);
  } else {
    await sql
      .raw(
        `create table runs_v6 (
          id text primary key,
          environment text not null,
          direction text not null,
          due_at bigint not null,
          trigger text not null,
          status text not null,
          act_at bigint not null,
          actor text not null,
          created_at bigint not null,
          updated_at bigint not null,
          finished_at bigint,
          lease_owner text,
          lease_until bigint,
          summary text,
          scope text,
          until_at bigint,
          target text not null default '',
          seq bigint,
          lease_epoch bigint not null default 0
        )`,
      )
      .execute(db);
    await sql
      .raw(
        `insert into runs_v6 (id, environment, direction, due_at, trigger, status, act_at, actor,
           created_at, updated_at, finished_at, lease_owner, lease_until, summary, scope, until_at)
         select id, environment, direction, due_at, trigger, status, act_at, actor,
           created_at, updated_at, finished_at, lease_owner, lease_until, summary, scope, until_at
         from runs`,
      )
      .execute(db);
    await sql.raw('drop table runs').execute(db);
    await sql.raw('alter table runs_v6 rename to runs').execute(db);
    await sql.raw('create index runs_status on runs (status, act_at)').execute(db);
  }
  // Old runs keep a null seq: NULLs never collide in a unique index, on either database.
  await sql
    .raw('create unique index runs_target_seq on runs (environment, target, seq)')
    .execute(db);
  await sql
    .raw('create index runs_environment_created on runs (environment, created_at)')
    .execute(db);
}

async function deriveAppliedStates(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{
    id: string;
    environment: string;
    direction: string;
    status: string;
    finished_at: number;
  }>`select id, environment, direction, status, finished_at from runs
     where direction in ('start', 'stop') and trigger <> 'reservation' and scope is null
       and status in ('succeeded', 'failed')
     order by finished_at`.execute(db);
  const last = new Map<string, (typeof rows)[number]>();
  for (const row of rows) last.set(row.environment, row);
  for (const run of last.values()) {
    // A last run that failed is retried by the first pass, as any failed run is.
    const failed = run.status === 'failed';
    await sql`insert into applied_states
      (environment, resource, state, seq, run_id, failures, retry_at, actor, updated_at)
      values (${run.environment}, '', ${run.direction === 'start' ? 'on' : 'off'}, 0, ${run.id},
              ${failed ? 1 : 0}, ${failed ? run.finished_at : null}, 'migration',
              ${run.finished_at})`.execute(db);
  }
}

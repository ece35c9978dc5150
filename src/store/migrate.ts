/**
 * Versioned migrations, numbered, run on start. Kysely's migrator records what
 * ran in its own table and takes a lock, so replicas starting together run each
 * migration once.
 */
import { DEFAULT_MIGRATION_TABLE, Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationResultSet } from 'kysely';
import type { Connection, Dialect } from './db.js';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_run_scope.js';
import * as m0003 from './migrations/0003_tokens.js';
import * as m0004 from './migrations/0004_plan_indexes.js';
import * as m0005 from './migrations/0005_plan_lookup.js';
import * as m0006 from './migrations/0006_applied_state.js';
import * as m0007 from './migrations/0007_run_prior_state.js';
import * as m0008 from './migrations/0008_event_keyset.js';
import * as m0009 from './migrations/0009_notice_channels.js';
import * as m0010 from './migrations/0010_action_links.js';
import * as m0011 from './migrations/0011_resource_size.js';
import * as m0012 from './migrations/0012_forward_cursors.js';
import * as m0013 from './migrations/0013_power_ledger.js';
import * as m0014 from './migrations/0014_event_retention.js';
import * as m0015 from './migrations/0015_token_buckets.js';

type Step = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

/** Every migration, in order. A new one is a new numbered file added here. */
const MIGRATIONS: Record<string, Step> = {
  '0001_initial': m0001,
  '0002_run_scope': m0002,
  '0003_tokens': m0003,
  '0004_plan_indexes': m0004,
  '0005_plan_lookup': m0005,
  '0006_applied_state': m0006,
  '0007_run_prior_state': m0007,
  '0008_event_keyset': m0008,
  '0009_notice_channels': m0009,
  '0010_action_links': m0010,
  '0011_resource_size': m0011,
  '0012_forward_cursors': m0012,
  '0013_power_ledger': m0013,
  '0014_event_retention': m0014,
  '0015_token_buckets': m0015,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).at(-1)!;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/**
 * Kysely's Migrator, looking at lightsout's schema only. Before anything else, each
 * run lists tables through `db.introspection` to see whether its own two exist, so
 * creating those tables ourselves first would not spare the listing; and Kysely's
 * PostgreSQL introspector lists every schema's tables, failing when another client
 * drops a schema meanwhile. So on PostgreSQL `connection.db` comes with a dialect
 * whose introspector reads lightsout's schema alone (introspector.ts): Kysely's
 * public Dialect interface, one Kysely and one pool, no wrapper around the Migrator.
 */
function migratorFor(connection: Connection): Migrator {
  return new Migrator({
    db: connection.db,
    ...(connection.schema === undefined ? {} : { migrationTableSchema: connection.schema }),
    provider: {
      getMigrations: () =>
        Promise.resolve(
          Object.fromEntries(
            Object.entries(MIGRATIONS).map(([name, step]): [string, Migration] => [
              name,
              { up: (db) => step.up(db, connection.dialect) },
            ]),
          ),
        ),
    },
  });
}

/** Runs pending migrations, up to `target` (default: the latest; tests stop earlier to migrate old stores forward). */
export async function migrate(
  connection: Connection,
  target: string = LATEST_MIGRATION,
): Promise<MigrationResultSet> {
  if (connection.schema !== undefined) await ensureSchema(connection, connection.schema);
  const migrator = migratorFor(connection);
  if (connection.dialect !== 'sqlite') return checked(await migrator.migrateTo(target));
  // On SQLite, one migration at a time with a checkpoint after each: migrations that
  // rebuild tables would otherwise pile up a write-ahead log several times the size of
  // the database before SQLite's own checkpoint (at 4 MB), and a new store on a small
  // disk would fill it while it is being made.
  const names = Object.keys(MIGRATIONS);
  const last = names.indexOf(target);
  const pending = (await migrator.getMigrations())
    .filter((m) => m.executedAt === undefined && names.indexOf(m.name) <= last)
    .map((m) => m.name);
  const results: NonNullable<MigrationResultSet['results']>[number][] = [];
  for (const name of pending) {
    const step = checked(await migrator.migrateTo(name));
    results.push(...(step.results ?? []));
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(connection.db);
  }
  return { results };
}

function checked(result: MigrationResultSet): MigrationResultSet {
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason =
      result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new MigrationError(`migration ${failed} failed: ${reason}`, { cause: result.error });
  }
  return result;
}

/**
 * CREATE SCHEMA IF NOT EXISTS can still fail when replicas run it at the same
 * instant (a unique violation in pg_namespace); the schema existing afterwards is
 * all that matters.
 */
async function ensureSchema(connection: Connection, schema: string): Promise<void> {
  try {
    await connection.db.schema.createSchema(schema).ifNotExists().execute();
  } catch (error) {
    const found = await sql<{
      found: number;
    }>`select 1 as found from information_schema.schemata where schema_name = ${schema}`.execute(
      connection.db,
    );
    if (found.rows.length === 0) throw error;
  }
}

/**
 * Whether every migration has run (for /readyz). Read from Kysely's migration
 * table itself, one query, where `Migrator.getMigrations()` introspects first.
 */
export async function isMigrated(connection: Connection): Promise<boolean> {
  const table = [connection.schema, DEFAULT_MIGRATION_TABLE].filter(Boolean).join('.');
  try {
    const ran = await sql<{ name: string }>`select name from ${sql.table(table)}`.execute(
      connection.db,
    );
    const names = new Set(ran.rows.map((r) => r.name));
    return Object.keys(MIGRATIONS).every((name) => names.has(name));
  } catch {
    return false; // no migration table yet
  }
}

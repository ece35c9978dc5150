/** Live forwarding: each destination's cursor (the last event sent to it) and the events after it. */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Event } from './events.js';
import { toEvent } from './events.js';

/**
 * The destination's cursor; a destination seen for the first time starts at the
 * last event recorded now (it gets what happens from now on, not the whole
 * history). Replicas racing to start it keep the first one stored.
 */
export async function forwardCursor(
  db: Kysely<Database>,
  destination: string,
  now: number,
): Promise<number> {
  const row = await db
    .selectFrom('forward_cursors')
    .select('last_event_id')
    .where('destination', '=', destination)
    .executeTakeFirst();
  if (row !== undefined) return row.last_event_id;
  const last = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  await db
    .insertInto('forward_cursors')
    .values({ destination, last_event_id: last?.id ?? 0, updated_at: now })
    .onConflict((oc) => oc.column('destination').doNothing())
    .execute();
  const stored = await db
    .selectFrom('forward_cursors')
    .select('last_event_id')
    .where('destination', '=', destination)
    .executeTakeFirstOrThrow();
  return stored.last_event_id;
}

/**
 * Moves the cursor from `expected` to `next`; true for the one replica that saw
 * `expected`. Never moves it backwards.
 */
export async function advanceForwardCursor(
  db: Kysely<Database>,
  destination: string,
  expected: number,
  next: number,
  now: number,
): Promise<boolean> {
  if (next <= expected) return false;
  const updated = await db
    .updateTable('forward_cursors')
    .set({ last_event_id: next, updated_at: now })
    .where('destination', '=', destination)
    .where('last_event_id', '=', expected)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/**
 * Takes or renews the lease on forwarding to `destination` (its cursor must
 * exist); false while another replica's lease runs. Leases read each replica's
 * own clock: a skewed clock only makes two replicas forward at once, which the
 * cursor's compare-and-set makes safe (duplicates, nothing passed over).
 */
export async function leaseForwarding(
  db: Kysely<Database>,
  destination: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const updated = await db
    .updateTable('forward_cursors')
    .set({ owner, lease_until: now + leaseMs })
    .where('destination', '=', destination)
    .where((eb) =>
      eb.or([eb('owner', '=', owner), eb('lease_until', 'is', null), eb('lease_until', '<=', now)]),
    )
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Gives the lease up (a stop), so another replica forwards at once. */
export async function releaseForwarding(
  db: Kysely<Database>,
  destination: string,
  owner: string,
): Promise<void> {
  await db
    .updateTable('forward_cursors')
    .set({ owner: null, lease_until: null })
    .where('destination', '=', destination)
    .where('owner', '=', owner)
    .execute();
}

/** Up to `limit` events recorded after event `after`, in id order. */
export async function eventsAfter(
  db: Kysely<Database>,
  after: number,
  limit: number,
): Promise<Event[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/** PostgreSQL's transaction horizon now: every transaction id below `xmin` has ended; `xmax` is the next to be given. */
export interface WriterHorizon {
  readonly xmin: number;
  readonly xmax: number;
}

/** The horizon of the current snapshot (https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-PG-SNAPSHOT). */
export async function writerHorizon(db: Kysely<Database>): Promise<WriterHorizon> {
  const { rows } = await sql<{ xmin: string; xmax: string }>`
    select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax
    from pg_current_snapshot() as s`.execute(db);
  const row = rows[0]!;
  return { xmin: Number(row.xmin), xmax: Number(row.xmax) };
}

/** The event log: append-only, read by environment, resource, kind, actor and time, with cursors. */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { slices } from './batches.js';
import type { Dialect } from '../db.js';
import type { Database, EventRow } from '../schema.js';

export interface EventInput {
  readonly at: number;
  readonly actor: string;
  readonly kind: string;
  readonly environment?: string | undefined;
  readonly resource?: string | undefined;
  readonly runId?: string | undefined;
  readonly payload?: Record<string, unknown>;
}

export interface Event {
  readonly id: number;
  readonly at: number;
  readonly actor: string;
  readonly kind: string;
  readonly environment: string | null;
  readonly resource: string | null;
  readonly runId: string | null;
  readonly payload: Record<string, unknown>;
}

/**
 * The version of an event as the API and the CLI show it: 2 since `at` is an ISO 8601
 * time like every other time they show (version 1, unmarked, had epoch milliseconds).
 */
export const EVENT_SCHEMA = 2;

/** An event as the API and the CLI show it. */
export function eventJson(event: Event) {
  return { schema: EVENT_SCHEMA, ...event, at: new Date(event.at).toISOString() };
}

export interface EventFilter {
  readonly environment?: string | undefined;
  /** Only events of these environments (a team-scoped reader). */
  readonly environments?: readonly string[] | undefined;
  readonly resource?: string | undefined;
  readonly kind?: string | undefined;
  /** Only events of one of these kinds (`run.created`) or families (`run`: every `run.…`). */
  readonly kinds?:
    { readonly exact: readonly string[]; readonly families: readonly string[] } | undefined;
  readonly actor?: string | undefined;
  readonly runId?: string | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /**
   * Only events holding this text, case-insensitive, in their environment, kind,
   * actor, resource, run id or payload (its JSON text). It reads every event of the
   * rest of the filter, so callers bound it with a time window (`from`).
   */
  readonly text?: string | undefined;
}

/** How a page walks the log: oldest first (the default), or newest first. */
export type EventOrder = 'asc' | 'desc';

export interface EventPage {
  readonly events: readonly Event[];
  /** Pass back as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

export async function appendEvents(
  db: Kysely<Database>,
  inputs: readonly EventInput[],
): Promise<void> {
  for (const slice of slices(inputs)) {
    await db
      .insertInto('events')
      .values(
        slice.map((e) => ({
          at: e.at,
          actor: e.actor,
          kind: e.kind,
          environment: e.environment ?? null,
          resource: e.resource ?? null,
          run_id: e.runId ?? null,
          payload: JSON.stringify(e.payload ?? {}),
        })),
      )
      .execute();
  }
}

/**
 * Events in the order they were recorded; `after` is a cursor from a previous page.
 * Each page is one short query that walks the log in id order from the cursor, so
 * reading a whole log, page after page, costs its size once.
 */
export async function queryEvents(
  db: Kysely<Database>,
  dialect: Dialect,
  filter: EventFilter,
  page: {
    after?: string | undefined;
    limit?: number | undefined;
    order?: EventOrder | undefined;
  } = {},
): Promise<EventPage> {
  const limit = Math.min(Math.max(page.limit ?? 100, 1), 1000);
  let query = db.selectFrom('events').selectAll();
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.environments !== undefined) {
    if (filter.environments.length === 0) return { events: [] };
    // A list of environments (a team's, or all of them) selects most of the log: SQLite,
    // without statistics, would look each one up by index and sort everything after the
    // cursor for every page. A unary + keeps this term off the indexes, so it walks the
    // primary key from the cursor (https://www.sqlite.org/lang_indexedby.html).
    const environment = dialect === 'sqlite' ? sql<string>`+environment` : sql<string>`environment`;
    query = query.where(environment, 'in', filter.environments);
  }
  if (filter.resource !== undefined) query = query.where('resource', '=', filter.resource);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  const { kinds } = filter;
  if (kinds !== undefined) {
    if (kinds.exact.length + kinds.families.length === 0) return { events: [] };
    // A family is a prefix compared as text (not LIKE, which is case-insensitive on
    // SQLite, nor a range, which the database's collation may order otherwise).
    query = query.where((eb) =>
      eb.or([
        ...(kinds.exact.length === 0 ? [] : [eb('kind', 'in', kinds.exact)]),
        ...kinds.families.map(
          (family) => sql<boolean>`substr(kind, 1, ${family.length + 1}) = ${`${family}.`}`,
        ),
      ]),
    );
  }
  if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
  if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
  if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('at', '<', filter.to);
  if (filter.text !== undefined) {
    // A substring, lowercased on both sides (SQLite's lower() folds ASCII letters
    // only; PostgreSQL's, every letter): instr/strpos need no escaping of % or _.
    const needle = filter.text.toLowerCase();
    const contains = (column: string) =>
      dialect === 'sqlite'
        ? sql<boolean>`instr(lower(${sql.ref(column)}), ${needle}) > 0`
        : sql<boolean>`strpos(lower(${sql.ref(column)}), ${needle}) > 0`;
    query = query.where((eb) =>
      eb.or(['payload', 'kind', 'actor', 'environment', 'resource', 'run_id'].map(contains)),
    );
  }
  const descending = page.order === 'desc';
  // A search reads its window. Neither database knows that ids and times grow
  // together: walking the primary key in order (SQLite's choice, and PostgreSQL's
  // with a LIMIT) reads the log beyond the window when few events match, all of it
  // when none does (12 s and 4.5 s on 10 million events). A unary + on id keeps the
  // cursor and the order off the primary key, so the window's index (at, or
  // environment and at) bounds what is read, and its rows are sorted.
  const windowed = filter.text !== undefined && filter.from !== undefined;
  const id = windowed ? sql<number>`+id` : sql<number>`id`;
  if (page.after !== undefined)
    query = query.where(id, descending ? '<' : '>', decodeCursor(page.after));
  const direction = descending ? 'desc' : 'asc';
  const ordered = windowed
    ? query.orderBy(sql`+id ${sql.raw(direction)}`)
    : query.orderBy('id', direction);
  const rows = await ordered.limit(limit + 1).execute();
  const events = rows.slice(0, limit).map(toEvent);
  const last = events.at(-1);
  return rows.length > limit && last !== undefined
    ? { events, next: encodeCursor(last.id) }
    : { events };
}

/**
 * Deletes up to `limit` events recorded before `before`, oldest first; answers how
 * many. Savings do not need them: the power ledger kept what they said about power.
 */
export async function pruneEvents(
  db: Kysely<Database>,
  before: number,
  limit: number,
): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('id', 'in', (eb) =>
      eb.selectFrom('events').select('id').where('at', '<', before).orderBy('id').limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

function encodeCursor(id: number): string {
  return Buffer.from(`e${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = /^e(\d+)$/.exec(text)?.[1];
  if (id === undefined)
    throw new CursorError(
      `"${cursor}" is not a cursor from a previous page; leave it out to start from the first event`,
    );
  return Number(id);
}

export function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    kind: row.kind,
    environment: row.environment,
    resource: row.resource,
    runId: row.run_id,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

/** Bounds of an export: events recorded at `[from, to)`. */
export interface EventRange {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/**
 * Up to `limit` stored rows after id `after`, in id order, as they are stored (the
 * payload left as its JSON text): what an export writes, a page at a time, without
 * parsing and re-serialising every payload. Walks the primary key from `after`.
 */
export async function readEventRows(
  db: Kysely<Database>,
  after: number,
  limit: number,
  range: EventRange = {},
): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll().where('id', '>', after);
  if (range.from !== undefined) query = query.where('at', '>=', range.from);
  if (range.to !== undefined) query = query.where('at', '<', range.to);
  return query.orderBy('id').limit(limit).execute();
}

/**
 * The id of the first event after `after` recorded at or after `since`, if any.
 * On PostgreSQL ids are handed out when a transaction inserts and become visible
 * when it commits, so a lower id can appear after a higher one: an export that
 * stops before the recent events does not step over one still being committed.
 */
export async function firstEventIdSince(
  db: Kysely<Database>,
  after: number,
  since: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('events')
    .select('id')
    .where('id', '>', after)
    .where('at', '>=', since)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

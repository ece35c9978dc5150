/**
 * The store read a page at a time as the export writes it: per UTC day of the page,
 * the events' lines (one JSON object and a newline each), already joined. On SQLite
 * the store builds them itself (`json_object`, `group_concat`), so JavaScript
 * handles one buffer per day of a page instead of eight values per event: reading
 * rows as objects and serialising them cost about 3 µs an event, more than the
 * whole export may take (issue #14: 300,000 events/s). Elsewhere (PostgreSQL) the
 * rows are read and serialised here, the same lines by another road.
 *
 * The SQL lives here, not in src/store/queries/, only while the store module is
 * being reworked elsewhere; it reads the store through the store's own connection.
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Dialect } from '../store/db.js';
import type { EventRange } from '../store/queries/events.js';
import type { Database, EventRow } from '../store/schema.js';
import { dayOf } from './layout.js';

/** One UTC day's events of a page, as the text its file takes. */
export interface DayLines {
  readonly day: number;
  readonly firstId: number;
  readonly lastId: number;
  readonly rows: number;
  /** Newline-terminated JSON lines in id order, as UTF-8 bytes or a string. */
  readonly text: Uint8Array | string;
}

export interface LinePage {
  /** In day order; empty when nothing is left. */
  readonly days: readonly DayLines[];
  readonly rows: number;
}

/**
 * How `at` is written: an ISO 8601 time with `Z` (the NDJSON files), or epoch
 * milliseconds (a scratch file DuckDB turns into a Parquet TIMESTAMP).
 */
export type AtFormat = 'iso' | 'epoch-ms';

/** The store as the page reader uses it. */
export interface PageSource {
  readonly dialect: Dialect;
  /** The store's own connection, for the SQLite road; without it every dialect takes the other. */
  readonly db?: Kysely<Database>;
  readEventRows(after: number, limit: number, range?: EventRange): Promise<EventRow[]>;
}

export interface PageQuery {
  readonly at: AtFormat;
  readonly range?: EventRange | undefined;
  /** No event after this id (an incremental export on PostgreSQL leaves the last minute out). */
  readonly upTo?: number | undefined;
}

/** Reads the page of up to `limit` events after id `after`. */
export type PageReader = (after: number, limit: number) => Promise<LinePage>;

export function pageReader(source: PageSource, query: PageQuery): PageReader {
  const db = source.db;
  if (source.dialect === 'sqlite' && db !== undefined)
    return (after, limit) => sqlitePage(db, query, after, limit);
  return async (after, limit) => {
    const page = await source.readEventRows(after, limit, query.range);
    const upTo = query.upTo;
    return linesOf(upTo === undefined ? page : page.filter((row) => row.id <= upTo), query.at);
  };
}

const DAY_MS = 86_400_000;

async function sqlitePage(
  db: Kysely<Database>,
  query: PageQuery,
  after: number,
  limit: number,
): Promise<LinePage> {
  // Inline, not bound: better-sqlite3 binds a JavaScript number as a REAL, and
  // integer division is what cuts the days.
  const DAY = sql.lit(DAY_MS);
  const conditions = [sql`id > ${after}`];
  if (query.upTo !== undefined) conditions.push(sql`id <= ${query.upTo}`);
  if (query.range?.from !== undefined) conditions.push(sql`at >= ${query.range.from}`);
  if (query.range?.to !== undefined) conditions.push(sql`at < ${query.range.to}`);
  const where = sql.join(conditions, sql` and `);
  // First the page's days and their ids, which needs the ids and times only: a
  // GROUP BY over the lines themselves would sort every line (0.7 µs an event).
  const { rows: days } = await sql<{ day: number; first_id: number; last_id: number; n: number }>`
    select day, min(id) as first_id, max(id) as last_id, count(*) as n
      from (select id, case when at >= 0 then at / ${DAY} else (at + 1) / ${DAY} - 1 end as day
              from events where ${where} order by id limit ${limit})
     group by day
     order by day`.execute(db);
  const result: DayLines[] = [];
  for (const day of days) {
    const at = query.at === 'iso' ? isoTimeOf(day.day) : sql`at`;
    // Every event of the page on that day has an id from its first to its last, and
    // every such event of that day is in the page (a page is all the matching ids up
    // to its last). The rows come in id order, the order of the primary key this walks.
    // The key order and the JSON types are those of `lineOf` below. A BLOB, not a
    // string: the bytes go to the file as they are, without a decoding into
    // JavaScript and an encoding back.
    const { rows } = await sql<{ text: Uint8Array | null }>`
      select cast(group_concat(
               json_object('id', id, 'at', ${at}, 'actor', actor, 'kind', kind,
                           'environment', environment, 'resource', resource,
                           'run_id', run_id, 'payload', payload) || char(10), '') as blob) as text
        from events
       where id >= ${day.first_id} and id <= ${day.last_id}
         and at >= ${day.day * DAY_MS} and at < ${(day.day + 1) * DAY_MS}
         and ${where}`.execute(db);
    result.push({
      day: day.day,
      firstId: day.first_id,
      lastId: day.last_id,
      rows: day.n,
      text: rows[0]?.text ?? new Uint8Array(),
    });
  }
  return { days: result, rows: result.reduce((sum, day) => sum + day.rows, 0) };
}

/**
 * `at` as ISO 8601 (`2026-06-01T07:30:00.000Z`) for events of one UTC day: the
 * date is the day's, the time integer arithmetic on the milliseconds since its
 * midnight. `strftime` gives the same text at half again the cost of the whole line.
 */
function isoTimeOf(day: number): RawBuilder<unknown> {
  const midnight = day * DAY_MS;
  const date = new Date(midnight).toISOString().slice(0, 11);
  const ms = sql`(at - ${sql.lit(midnight)})`;
  return sql`${sql.lit(date)} || printf('%02d:%02d:%02d.%03dZ', ${ms} / 3600000,
    ${ms} / 60000 % 60, ${ms} / 1000 % 60, ${ms} % 1000)`;
}

/** The same page from rows read by the store, serialised here. */
export function linesOf(rows: readonly EventRow[], at: AtFormat): LinePage {
  const days = new Map<number, { firstId: number; lastId: number; lines: string[] }>();
  for (const row of rows) {
    const day = dayOf(row.at);
    let entry = days.get(day);
    if (entry === undefined)
      days.set(day, (entry = { firstId: row.id, lastId: row.id, lines: [] }));
    entry.lastId = row.id;
    entry.lines.push(lineOf(row, at));
  }
  return {
    days: [...days.entries()]
      .sort(([a], [b]) => a - b)
      .map(([day, entry]) => ({
        day,
        firstId: entry.firstId,
        lastId: entry.lastId,
        rows: entry.lines.length,
        text: entry.lines.join(''),
      })),
    rows: rows.length,
  };
}

function lineOf(row: EventRow, at: AtFormat): string {
  return `${JSON.stringify({
    id: row.id,
    at: at === 'iso' ? new Date(row.at).toISOString() : row.at,
    actor: row.actor,
    kind: row.kind,
    environment: row.environment,
    resource: row.resource,
    run_id: row.run_id,
    payload: row.payload,
  })}\n`;
}

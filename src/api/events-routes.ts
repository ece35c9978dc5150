/**
 * `GET /api/v1/events`: the event log the caller may see, filtered (environment,
 * team, kinds or families, actor, resource, run, time window, text), as cursor
 * pages oldest or newest first, or the whole filter streamed as NDJSON or CSV
 * (`Accept`, or `format=` for a browser's download link).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { stringify } from 'csv-stringify';
import type { Event, EventFilter, EventPage } from '../store/queries/events.js';
import { CursorError, eventJson } from '../store/queries/events.js';
import { MAX_SEARCH_WINDOW, SEARCH_WINDOW } from '../core/limits.js';
import { canSee } from './auth.js';
import type { ApiContext } from './context.js';
import { iso, parseQuery, timeOf } from './context.js';
import { Problem } from './problems.js';
import { eventsQuery } from './queries.js';

/** Events read from the store per query of a stream. */
const STREAM_PAGE = 500;

/** The columns of a CSV export, in order: the envelope, the payload as a JSON column. */
export const CSV_COLUMNS = [
  'id',
  'at',
  'kind',
  'environment',
  'resource',
  'runId',
  'actor',
  'payload',
] as const;

type Format = 'json' | 'ndjson' | 'csv';

export function registerEvents(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/events',
    async (request, reply) => {
      const principal = await context.caller(request);
      const q = parseQuery(eventsQuery, request.query);
      // The environments the caller may see, narrowed by the filter. A named environment
      // or team the caller may not see does not exist for it (404), as on every route.
      let names = context.visibleNames(principal);
      if (q.environment !== undefined) names = [context.visible(principal, q.environment).name];
      if (q.team !== undefined) {
        const team = deps.environments.filter(
          (e) => e.team === q.team && canSee(principal, e.team),
        );
        if (team.length === 0)
          throw new Problem(
            404,
            'unknown-team',
            'Unknown team',
            `there is no team "${q.team}"`,
            'team',
          );
        names = names.filter((n) => team.some((e) => e.name === n));
      }
      const until = q.until === undefined ? undefined : timeOf(q.until, 'UTC', 'until');
      let since = q.since === undefined ? undefined : timeOf(q.since, 'UTC', 'since');
      // A text search reads every event of its window: the window is what bounds it.
      if (q.q !== undefined) {
        const end = until ?? deps.now();
        since ??= end - SEARCH_WINDOW.ms;
        if (end - since > MAX_SEARCH_WINDOW.ms)
          throw new Problem(
            422,
            'search-window-too-long',
            'Search window too long',
            `a text search reads at most ${MAX_SEARCH_WINDOW.text} of events, and since ${iso(since)} to ${iso(end)} is longer; give a later since or an earlier until`,
            'since',
          );
      }
      const filter: EventFilter = {
        // One environment is read through its own index; a list, by walking the log.
        ...(q.environment !== undefined && names.length === 1
          ? { environment: names[0] }
          : { environments: names }),
        resource: q.resource,
        kinds: q.kind === undefined ? undefined : kindsOf(q.kind),
        actor: q.actor,
        runId: q.run,
        from: since,
        to: until,
        text: q.q,
      };
      const order = q.order;
      const read = (after: string | undefined, size: number) =>
        deps.store.queryEvents(filter, { after, limit: size, order }).catch((error: unknown) => {
          // Only the store's word on the cursor is the caller's fault; anything else is ours (500, logged).
          if (!(error instanceof CursorError)) throw error;
          throw new Problem(400, 'invalid-cursor', 'Invalid cursor', error.message, 'after');
        });
      const format = formatOf(q.format, request.headers.accept);
      if (format === 'json') {
        const page = await read(q.after, q.limit);
        return {
          ...page,
          events: page.events.map(eventJson),
          ...(q.q === undefined
            ? {}
            : { searched: { since: iso(since!), until: until === undefined ? null : iso(until) } }),
        };
      }
      // The first page is read before answering, so a bad cursor is still a 400.
      const first = await read(q.after, STREAM_PAGE);
      const pages = allPages(first, (after) => read(after, STREAM_PAGE));
      return format === 'ndjson'
        ? sendNdjson(reply, pages, deps.now())
        : sendCsv(reply, pages, deps.now());
    },
  );
}

/** `run.created,hold.*` → exact kinds and families. */
function kindsOf(text: string): { exact: string[]; families: string[] } {
  const entries = text.split(',');
  return {
    exact: entries.filter((k) => !k.endsWith('.*')),
    families: entries.filter((k) => k.endsWith('.*')).map((k) => k.slice(0, -2)),
  };
}

/** `format=` wins; else the Accept header; else a JSON page. */
function formatOf(asked: Format | undefined, accept: string | undefined): Format {
  if (asked !== undefined) return asked;
  if ((accept ?? '').includes('application/x-ndjson')) return 'ndjson';
  if ((accept ?? '').includes('text/csv')) return 'csv';
  return 'json';
}

/** `lightsout-events-20260601T120000Z.csv`: the export's instant in its name. */
function attachment(reply: FastifyReply, now: number, extension: string): FastifyReply {
  const stamp = iso(now)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return reply.header(
    'content-disposition',
    `attachment; filename="lightsout-events-${stamp}.${extension}"`,
  );
}

function sendNdjson(reply: FastifyReply, pages: AsyncGenerator<readonly Event[]>, now: number) {
  async function* lines() {
    for await (const events of pages)
      if (events.length > 0)
        yield `${events.map((e) => JSON.stringify(eventJson(e))).join('\n')}\n`;
  }
  attachment(reply, now, 'ndjson').type('application/x-ndjson');
  // One page buffered at most: the next is read when the socket has taken this one.
  return reply.send(Readable.from(lines(), { highWaterMark: 1 }));
}

/**
 * RFC 4180 through csv-stringify (quoting of commas, quotes and line breaks is its
 * job, not a hand-written one), with its formula escaping: a cell that starts with
 * = + - @ or a tab or carriage return gets a leading ' (OWASP's CSV injection
 * advice), so a spreadsheet shows the text instead of running it.
 */
function sendCsv(reply: FastifyReply, pages: AsyncGenerator<readonly Event[]>, now: number) {
  async function* records() {
    for await (const events of pages)
      for (const e of events) {
        const json = eventJson(e);
        yield [
          json.id,
          json.at,
          json.kind,
          json.environment,
          json.resource,
          json.runId,
          json.actor,
          JSON.stringify(json.payload),
        ];
      }
  }
  const csv = stringify({
    header: true,
    columns: [...CSV_COLUMNS],
    escape_formulas: true,
    // RFC 4180's CRLF between records; a field holding a line break of any kind is
    // quoted (csv-stringify quotes only the record delimiter itself once one is set).
    record_delimiter: 'windows',
    quote_record_delimiter: true,
  });
  // The source is destroyed with the reply's stream when the client goes away (the
  // generator's finally runs: no more pages are read); an error ends the answer.
  pipeline(Readable.from(records(), { highWaterMark: 16 }), csv).catch(() => undefined);
  attachment(reply, now, 'csv').type('text/csv; charset=utf-8; header=present');
  return reply.send(csv);
}

/**
 * Every page from `first` on: the next is read only when the reply has taken this
 * one (the stream pulls the generator as the socket drains, and fastify destroys it
 * when the client goes away, which ends the generator), so memory stays flat
 * whatever the log's size. Between pages the event loop gets its turn, so /healthz
 * and the reconciler run during a long stream.
 */
async function* allPages(
  first: EventPage,
  next: (after: string) => Promise<EventPage>,
): AsyncGenerator<readonly Event[]> {
  let page = first;
  for (;;) {
    yield page.events;
    if (page.next === undefined) return;
    await setImmediate();
    page = await next(page.next);
  }
}

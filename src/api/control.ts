/**
 * Control: start, stop, extend and boost an environment (202 with the run), runs
 * and their cancellation, holds, and the event log (cursor pages, or an NDJSON
 * stream with `Accept: application/x-ndjson`).
 */
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { CommandError, HeldOff } from '../engine/engine.js';
import type { EventPage } from '../store/queries/events.js';
import { CursorError, eventJson } from '../store/queries/events.js';
import type { StoredHold } from '../store/queries/plans.js';
import type { Run } from '../store/queries/runs.js';
import { canSee, requireRole } from './auth.js';
import { boostBody, cancelBody, extendBody, holdBody, stopBody } from './bodies.js';
import type { ApiContext } from './context.js';
import { iso, notFurtherThan, parse, parseQuery, timeOf } from './context.js';
import { MAX_HOLD_AHEAD } from '../core/limits.js';
import { Problem } from './problems.js';
import { eventsQuery, holdsQuery, runsQuery } from './queries.js';

type Params = { Params: { name: string } };
type IdParams = { Params: { id: string } };

/** Events read from the store per query of an NDJSON stream. */
const STREAM_PAGE = 500;

export function registerControl(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  const actor = (name: string) => `api:${name}`;
  /** A hold's end (also an extend's and a cancel's) within the documented reach. */
  const ahead = (until: number) => notFurtherThan(until, deps.now(), MAX_HOLD_AHEAD, 'until');
  /** Engine refusals (an environment that is off, a stop already cancelled...) are 409s. */
  const engine = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HeldOff)
        throw new Problem(409, 'held-off', 'Held off', heldOffDetail(error.hold));
      if (error instanceof CommandError)
        throw new Problem(409, 'conflict', 'Not possible now', error.message);
      throw error;
    }
  };

  for (const direction of ['start', 'stop'] as const) {
    http.post<Params>(`/api/v1/environments/:name/${direction}`, async (request, reply) => {
      const principal = await context.caller(request);
      requireRole(principal, 'operator');
      const environment = context.visible(principal, request.params.name, 'name');
      const { grace } = direction === 'stop' ? parse(stopBody, request.body ?? {}) : {};
      const run = await engine(() =>
        deps.engine.command(environment.name, direction, actor(principal.name), grace),
      );
      return reply.code(202).send(runJson(run));
    });
  }

  http.post<Params>('/api/v1/environments/:name/extend', async (request, reply) => {
    const principal = await context.caller(request);
    requireRole(principal, 'operator');
    const environment = context.visible(principal, request.params.name, 'name');
    const body = parse(extendBody, request.body);
    const until = ahead(timeOf(body.until, environment.timezone, 'until'));
    endsAfter(until, deps.now());
    await engine(() => deps.engine.extend(environment.name, until, actor(principal.name)));
    return reply.code(202).send({ environment: environment.name, onUntil: iso(until) });
  });

  http.post<Params>('/api/v1/environments/:name/boost', async (request, reply) => {
    const principal = await context.caller(request);
    requireRole(principal, 'operator');
    const environment = context.visible(principal, request.params.name, 'name');
    const body = parse(boostBody, request.body);
    const run = await engine(() =>
      deps.engine.boost(environment.name, body.for, actor(principal.name)),
    );
    return reply.code(202).send(runJson(run));
  });

  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/runs',
    async (request) => {
      const principal = await context.caller(request);
      const { environment, limit } = parseQuery(runsQuery, request.query);
      // A team-scoped caller's environments are filtered in the query, before the limit,
      // so other teams' newer runs never push its own out of the page.
      const runs = await deps.store.listRuns({
        ...(environment !== undefined
          ? { environment: context.visible(principal, environment).name }
          : principal.team === null
            ? {}
            : { environments: context.visibleNames(principal) }),
        limit,
      });
      return { runs: runs.map(runJson) };
    },
  );

  const visibleRun = async (principal: Parameters<typeof canSee>[0], id: string) => {
    const run = await deps.store.getRun(id);
    if (run === undefined || !canSee(principal, context.byName.get(run.environment)?.team))
      throw new Problem(404, 'unknown-run', 'Unknown run', `there is no run "${id}"`);
    return run;
  };

  // GET /api/v1/runs/:id and its stream: run-routes.ts.

  http.post<IdParams>('/api/v1/runs/:id/cancel', async (request) => {
    const principal = await context.caller(request);
    requireRole(principal, 'operator');
    const run = await visibleRun(principal, request.params.id);
    const body = parse(cancelBody, request.body ?? {});
    const zone = context.byName.get(run.environment)?.timezone ?? 'UTC';
    const until = body.until === undefined ? undefined : ahead(timeOf(body.until, zone, 'until'));
    const result = await engine(() => deps.engine.cancel(run.id, actor(principal.name), until));
    return { ...runJson(result.run), onUntil: iso(result.holdUntil) };
  });

  http.post('/api/v1/holds', async (request, reply) => {
    const principal = await context.caller(request);
    requireRole(principal, 'operator');
    const body = parse(holdBody, request.body);
    const environment = context.visible(principal, body.environment);
    const now = deps.now();
    const from =
      body.from === undefined ? undefined : timeOf(body.from, environment.timezone, 'from');
    const until = ahead(timeOf(body.until, environment.timezone, 'until'));
    endsAfter(until, now, from);
    const hold = await engine(() =>
      deps.engine.hold(
        environment.name,
        { state: body.state, from, until, note: body.note },
        actor(principal.name),
      ),
    );
    return reply.code(201).send(holdJson(hold));
  });

  http.get('/api/v1/holds', async (request) => {
    const principal = await context.caller(request);
    const { environment } = parseQuery(holdsQuery, request.query);
    const names =
      environment === undefined
        ? context.visibleNames(principal)
        : [context.visible(principal, environment).name];
    return { holds: (await deps.store.listHolds(names, deps.now())).map(holdJson) };
  });

  http.delete<IdParams>('/api/v1/holds/:id', async (request, reply) => {
    const principal = await context.caller(request);
    requireRole(principal, 'operator');
    const hold = await deps.store.getHold(request.params.id);
    if (
      hold === undefined ||
      !canSee(principal, context.byName.get(hold.environment)?.team) ||
      !(await deps.engine.deleteHold(hold, actor(principal.name)))
    )
      throw new Problem(
        404,
        'unknown-hold',
        'Unknown hold',
        `there is no hold "${request.params.id}" made through the API or CLI`,
      );
    return reply.code(204).send();
  });

  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/events',
    async (request, reply) => {
      const principal = await context.caller(request);
      const q = parseQuery(eventsQuery, request.query);
      const filter = {
        ...(q.environment === undefined
          ? { environments: context.visibleNames(principal) }
          : { environment: context.visible(principal, q.environment).name }),
        resource: q.resource,
        kind: q.kind,
        actor: q.actor,
        from: q.since === undefined ? undefined : timeOf(q.since, 'UTC', 'since'),
        to: q.until === undefined ? undefined : timeOf(q.until, 'UTC', 'until'),
      };
      const { limit } = q;
      const read = (after: string | undefined, size: number) =>
        deps.store.queryEvents(filter, { after, limit: size }).catch((error: unknown) => {
          // Only the store's word on the cursor is the caller's fault; anything else is ours (500, logged).
          if (!(error instanceof CursorError)) throw error;
          throw new Problem(400, 'invalid-cursor', 'Invalid cursor', error.message, 'after');
        });
      if (!(request.headers.accept ?? '').includes('application/x-ndjson')) {
        const page = await read(q.after, limit);
        return { ...page, events: page.events.map(eventJson) };
      }
      // The first page is read before answering, so a bad cursor is still a 400.
      const first = await read(q.after, STREAM_PAGE);
      reply.type('application/x-ndjson');
      const lines = eventLines(first, (after) => read(after, STREAM_PAGE));
      // One page buffered at most: the next is read when the socket has taken this one.
      return reply.send(Readable.from(lines, { highWaterMark: 1 }));
    },
  );
}

/**
 * Every event from `first` on, one JSON line each, a page at a time: the next page is
 * read only when the reply has taken this one (Readable.from pulls the generator as
 * the socket drains, and fastify destroys it when the client goes away, which ends
 * the generator), so memory stays flat whatever the log's size. Between pages the
 * event loop gets its turn, so /healthz and the reconciler run during a long stream.
 */
async function* eventLines(
  first: EventPage,
  next: (after: string) => Promise<EventPage>,
): AsyncGenerator<string> {
  let page = first;
  for (;;) {
    if (page.events.length > 0)
      yield `${page.events.map((e) => JSON.stringify(eventJson(e))).join('\n')}\n`;
    if (page.next === undefined) return;
    await setImmediate();
    page = await next(page.next);
  }
}

/** A hold (or an extend, which is one) must end after now, and after its start. */
function endsAfter(until: number, now: number, from?: number): void {
  if (until <= Math.max(now, from ?? now))
    throw new Problem(
      422,
      'hold-ends-too-soon',
      'Hold ends too soon',
      `until ${iso(until)} is not after ${from === undefined ? '' : `from (${iso(from)}) and `}now (${iso(now)}); give a later until`,
      'until',
    );
}

/** Why a keep-on was refused, and how to lift the hold-off that wins, in the API's terms. */
function heldOffDetail(hold: StoredHold): string {
  const span = `${hold.from === undefined ? '' : `from ${iso(hold.from)} `}until ${iso(hold.until)}`;
  const lift =
    hold.source === 'config'
      ? 'it comes from the config file, so remove it there'
      : `lift it with DELETE /api/v1/holds/${hold.id}`;
  return `${hold.environment} is held off ${span} by ${hold.actor} (hold ${hold.id}), and a hold-off wins over keeping it on: ${lift}, or hold it on from ${iso(hold.until)} (POST /api/v1/holds with "from")`;
}

/** A run as the API answers it (lists, commands; run-routes.ts adds its steps). */
export function runJson(run: Run) {
  return {
    id: run.id,
    environment: run.environment,
    direction: run.direction,
    status: run.status,
    trigger: run.trigger,
    actor: run.actor,
    dueAt: iso(run.due_at),
    actAt: iso(run.act_at),
    ...(run.until_at === null ? {} : { until: iso(run.until_at) }),
    finishedAt: run.finished_at === null ? null : iso(run.finished_at),
  };
}

function holdJson(h: StoredHold) {
  return {
    id: h.id,
    environment: h.environment,
    state: h.state,
    ...(h.from === undefined ? {} : { from: iso(h.from) }),
    until: iso(h.until),
    actor: h.actor,
    source: h.source,
    ...(h.note === null ? {} : { note: h.note }),
  };
}

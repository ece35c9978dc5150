/**
 * Control: start, stop, extend and boost an environment (202 with the run), runs
 * and their cancellation, and holds. The event log is events-routes.ts's.
 */
import type { FastifyInstance } from 'fastify';
import { CommandError, HeldOff } from '../engine/engine.js';
import type { StoredHold } from '../store/queries/plans.js';
import type { Run } from '../store/queries/runs.js';
import { canSee, requireRole } from './auth.js';
import { boostBody, cancelBody, extendBody, holdBody, stopBody } from './bodies.js';
import type { ApiContext } from './context.js';
import { iso, notFurtherThan, parse, parseQuery, timeOf } from './context.js';
import { MAX_HOLD_AHEAD } from '../core/limits.js';
import { Problem } from './problems.js';
import { holdsQuery, runsQuery } from './queries.js';

type Params = { Params: { name: string } };
type IdParams = { Params: { id: string } };

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

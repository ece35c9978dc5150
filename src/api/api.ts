/**
 * The HTTP API under /api/v1, and `POST /provision` for the route people already
 * use. Routes are thin: they check the caller and the input, then call the engine
 * and the store. Everything but health answers only with a token.
 */
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Environment, Instant } from '../core/glossary.js';
import { describeSchedule } from '../core/describe.js';
import { planFleet } from '../core/planner.js';
import type { Selectable } from '../core/selection.js';
import { matches } from '../core/selection.js';
import { CommandError, graceOf } from '../engine/engine.js';
import type { StoredReservation } from '../store/queries/plans.js';
import type { Principal } from './auth.js';
import { canSee, requireRole } from './auth.js';
import type { ApiDeps } from './context.js';
import { ApiContext, DAY, iso, parse, parseQuery, timeOf, zoneOf } from './context.js';
import { provisionBody, reservationBody } from './bodies.js';
import { MAX_ANSWER_WINDOW, RESERVATION_START_IN_PAST } from '../core/limits.js';
import { reservationsQuery } from './queries.js';
import { registerControl } from './control.js';
import { registerSavings } from './savings-routes.js';
import { registerRunRoutes } from './run-routes.js';
import { registerSavingsProjection } from './savings-projection-routes.js';
import { registerTimeline } from './timeline-routes.js';
import { registerEvents } from './events-routes.js';
import { registerActionPages } from './action-pages.js';
import { registerHooks } from './hook-routes.js';
import { registerMetrics } from './metrics.js';
import { slackRoutes } from './slack-routes.js';
import { registerOpenApi } from './openapi.js';
import { registerSessions, registerWebFiles } from './web.js';
import { registerOidcSignIn } from './oidc-routes.js';
import { frameworkProblems, problemErrors } from './problems.js';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { Problem } from './problems.js';

export interface ApiOptions {
  /** Requests per minute per caller: a token, an OIDC subject, or an address without a valid one. */
  readonly rateLimitPerMinute?: number;
  /** Where unexpected errors go (the answer itself says only that it is logged). */
  readonly logError?: (error: unknown) => void;
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;

/**
 * Options of the fastify instance the API is served on: bodies up to 64 KiB, and
 * problem+json for the errors the framework answers before any route (see
 * `frameworkProblems`).
 */
export const API_SERVER_OPTIONS = {
  logger: false,
  bodyLimit: 64 * 1024,
  ...frameworkProblems,
} satisfies FastifyServerOptions;

/** Routes that answer without a token, and without a limit. */
const OPEN_ROUTES = ['/healthz', '/readyz', '/openapi.json', '/docs'];
const open = (request: FastifyRequest) => OPEN_ROUTES.includes(request.routeOptions.url ?? '');

/**
 * Everything the API serves, with its defenses: security headers (helmet), a rate
 * limit per caller, problem+json for every error. Health stays open and unlimited.
 */
export async function serveApi(
  http: FastifyInstance,
  deps: ApiDeps,
  options: ApiOptions = {},
): Promise<void> {
  const context = new ApiContext(deps);
  problemErrors(http, options.logError ?? (() => undefined));
  // Without upgrade-insecure-requests: the dashboard served over plain HTTP on a
  // private address (not localhost) would otherwise ask for its own scripts over
  // HTTPS and not load. Served over HTTPS, HSTS keeps it there.
  await http.register(helmet, {
    global: true,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  await http.register(rateLimit, {
    max: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    // Counted by who the caller is once authenticated, not by the header's text (made-up
    // tokens, or one token spelled with other spaces, would each get a bucket of their
    // own); without a valid token, by address. The route reuses this authentication
    // (ApiContext.caller keeps it for the request), so a request still costs one token
    // lookup, a refused one too: who it counts against is known only after it.
    keyGenerator: async (request) => {
      if (open(request)) return `ip:${request.ip}`;
      try {
        return (await context.caller(request)).id;
      } catch {
        return `ip:${request.ip}`;
      }
    },
    allowList: open,
    // Thrown to the error handler, which answers it as a problem.
    errorResponseBuilder: (_request, limit) => ({
      statusCode: 429,
      detail: `over ${limit.max} requests a minute for this caller; retry in ${limit.after}`,
    }),
  });
  registerApi(http, deps, context);
  // The dashboard: its sessions, and its built files at /.
  if (deps.sessions !== undefined) {
    registerSessions(http, context, deps.sessions);
    registerOidcSignIn(http, context, deps.sessions, options.logError);
    await registerWebFiles(http);
  }
  const { slack } = deps;
  if (slack !== undefined) await http.register(slackRoutes(deps, slack));
  await registerHooks(http, deps, context.byName);
  registerMetrics(http, deps.store, (request) => context.caller(request));
  registerOpenApi(http);
}

export function registerApi(
  http: FastifyInstance,
  deps: ApiDeps,
  context = new ApiContext(deps),
): void {
  const caller = (request: FastifyRequest) => context.caller(request);
  const visible = (principal: Principal, name: string) => context.visible(principal, name);
  const byName = context.byName;
  registerControl(http, context);
  registerSavings(http, context);
  registerRunRoutes(http, context, deps.runStreams);
  registerSavingsProjection(http, context);
  registerTimeline(http, context);
  registerEvents(http, context);
  if (deps.links !== undefined) registerActionPages(http, deps.links);
  // Any write that went through may change plans: cached views are recomputed.
  http.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'GET' && reply.statusCode < 400) context.changed();
  });

  http.get('/api/v1/environments', async (request) => {
    const principal = await caller(request);
    const now = deps.now();
    const mine = deps.environments.filter((e) => canSee(principal, e.team));
    const key = mine.map((e) => e.name).join(',');
    return {
      // The service's own time (a demo's runs faster): what countdowns count from.
      now: iso(now),
      environments: await context.cached(key, () => describeEnvironments(deps, mine, now)),
    };
  });

  http.get<{ Params: { name: string } }>('/api/v1/environments/:name', async (request) => {
    const principal = await caller(request);
    const environment = visible(principal, request.params.name);
    const now = deps.now();
    const resources = await deps.store.listResources(environment.name);
    const [summary] = await describeEnvironments(deps, [environment], now);
    const reservations = await deps.store.listReservations({
      environments: [environment.name],
      from: now,
    });
    const runs = await deps.store.listRuns({ environment: environment.name, limit: 5 });
    const holds = await deps.store.listHolds([environment.name], now);
    const schedule =
      environment.schedule === undefined ? undefined : deps.schedules.get(environment.schedule);
    return {
      ...summary,
      schedule:
        schedule === undefined ? null : { name: schedule.name, text: describeSchedule(schedule) },
      graceMs: graceOf(environment),
      tiers: (environment.tiers ?? []).map((t) => t.name),
      resources: resources.map((r) => ({
        id: r.id,
        kind: r.kind,
        name: r.name,
        state: r.lastState ?? 'unknown',
        tier: tierOf(environment, r),
      })),
      holds: holds.map((h) => ({
        id: h.id,
        state: h.state,
        ...(h.from === undefined ? {} : { from: iso(h.from) }),
        until: iso(h.until),
        actor: h.actor,
      })),
      reservations: reservations.map(reservationJson),
      runs: runs.map((r) => ({
        id: r.id,
        direction: r.direction,
        status: r.status,
        trigger: r.trigger,
        dueAt: iso(r.due_at),
      })),
    };
  });

  http.post('/api/v1/reservations', async (request, reply) => {
    const principal = await caller(request);
    requireRole(principal, 'operator');
    const body = parse(reservationBody, request.body);
    const environment = visible(principal, body.environment);
    const zone = zoneOf(body.timezone, environment.timezone);
    const from = timeOf(body.from, zone, 'from');
    const to = timeOf(body.to, zone, 'to');
    if (body.resource !== undefined) {
      const resource = await deps.store.getResource(body.resource);
      if (resource?.environment !== environment.name)
        throw new Problem(
          404,
          'unknown-resource',
          'Unknown resource',
          `${environment.name} manages no resource "${body.resource}" (give the id of one it has discovered, as GET /api/v1/environments/${environment.name} lists them)`,
          'resource',
        );
    }
    const reservation = await reserve(
      deps,
      environment,
      { from, to },
      principal,
      body.note,
      body.resource,
    );
    return reply.code(201).send(reservation);
  });

  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/reservations',
    async (request) => {
      const principal = await caller(request);
      const { environment, team, from, to } = parseQuery(reservationsQuery, request.query);
      // An environment named in the filter must exist for the caller, as on every other route.
      if (environment !== undefined) visible(principal, environment);
      const names = deps.environments
        .filter((e) => canSee(principal, e.team))
        .filter((e) => environment === undefined || e.name === environment)
        .filter((e) => team === undefined || e.team === team)
        .map((e) => e.name);
      const reservations = await deps.store.listReservations({
        environments: names,
        from: from === undefined ? deps.now() : timeOf(from, 'UTC', 'from'),
        to: to === undefined ? undefined : timeOf(to, 'UTC', 'to'),
      });
      return { reservations: reservations.map(reservationJson) };
    },
  );

  http.delete<{ Params: { id: string } }>('/api/v1/reservations/:id', async (request, reply) => {
    const principal = await caller(request);
    requireRole(principal, 'operator');
    const found = await deps.store.getReservation(request.params.id);
    const notFound = new Problem(
      404,
      'unknown-reservation',
      'Unknown reservation',
      `there is no reservation "${request.params.id}" made through the API or CLI`,
    );
    if (found === undefined || !canSee(principal, byName.get(found.environment)?.team))
      throw notFound;
    if (!(await deps.engine.deleteReservation(found, `api:${principal.name}`))) throw notFound;
    return reply.code(204).send();
  });

  // The route people already use. It reserves the one instance (its environment stays
  // as planned). Unlike the original, overlapping requests merge into the instance's
  // on-time, so a later one is never cut short by an earlier one.
  http.post('/provision', async (request, reply) => {
    const principal = await caller(request);
    requireRole(principal, 'operator');
    const body = parse(provisionBody, request.body);
    // The first instance with that id in an environment the caller may see.
    const managed = (await deps.store.findInstances(body.ec2_instances_id)).flatMap((r) => {
      const owner = byName.get(r.environment ?? '');
      return owner !== undefined && canSee(principal, owner.team)
        ? [{ resource: r, environment: owner }]
        : [];
    });
    const { resource, environment } = managed[0] ?? {};
    if (resource === undefined || environment === undefined)
      throw new Problem(
        404,
        'unknown-resource',
        'Unknown resource',
        `no environment manages an instance "${body.ec2_instances_id}" (lightsout knows the resources it has discovered)`,
        'ec2_instances_id',
      );
    const zone = zoneOf(body.timezone, environment.timezone);
    const from = timeOf(body.start_time, zone, 'start_time');
    const to = timeOf(body.end_time, zone, 'end_time');
    const reservation = await reserve(
      deps,
      environment,
      { from, to, fields: { from: 'start_time', to: 'end_time' } },
      principal,
      undefined,
      resource.id,
    );
    return reply.code(201).send(reservation);
  });
}

/** A window asked for, and the names its ends have in the request. */
interface Window {
  readonly from: Instant;
  readonly to: Instant;
  readonly fields?: { readonly from: string; readonly to: string };
}

async function reserve(
  deps: ApiDeps,
  environment: Environment,
  { from, to, fields = { from: 'from', to: 'to' } }: Window,
  principal: Principal,
  note?: string,
  resource?: string,
) {
  const now = deps.now();
  if (to <= from)
    throw new Problem(
      422,
      'end-before-start',
      'End before start',
      'the end must be after the start',
      fields.to,
    );
  if (to <= now)
    throw new Problem(
      422,
      'window-in-the-past',
      'Window in the past',
      'the window is over already; give one that is not',
      fields.to,
    );
  // What it would bring about starts now anyway; a start further back only made the
  // answer plan every window since (from 1970: seconds of a blocked event loop).
  if (from < now - RESERVATION_START_IN_PAST.ms)
    throw new Problem(
      422,
      'start-too-far-back',
      'Start too far in the past',
      `${fields.from}: ${iso(from)} is more than ${RESERVATION_START_IN_PAST.text} ago; start it now or later`,
      fields.from,
    );
  const longest = environment.maxReservationMs ?? 14 * DAY;
  if (to - Math.max(from, now) > longest)
    throw new Problem(
      422,
      'reservation-too-long',
      'Reservation too long',
      `${environment.name} takes reservations of at most ${Math.round(longest / DAY)} days`,
      fields.to,
    );
  let reservation: StoredReservation;
  try {
    reservation = await deps.engine.reserve(
      environment.name,
      from,
      to,
      `api:${principal.name}`,
      note,
      resource,
    );
  } catch (error) {
    if (error instanceof CommandError)
      throw new Problem(422, 'invalid-window', 'Invalid window', error.message, fields.to);
    throw error;
  }
  // The on-time around the reservation: a day either side (not before it began, if it
  // has), so the answer shows what it merged with without planning months ahead; at
  // most MAX_ANSWER_WINDOW, whatever `max_reservation` the config allows.
  const around = Math.max(Math.min(from, now), from - DAY);
  const until = Math.min(to + DAY, around + MAX_ANSWER_WINDOW.ms);
  const windows = await deps.engine.onWindows(environment.name, around, until, resource);
  return {
    ...reservationJson(reservation),
    onWindows: windows.map((w) => ({ from: iso(w.start), to: iso(w.end) })),
  };
}

async function describeEnvironments(
  deps: ApiDeps,
  environments: readonly Environment[],
  now: Instant,
) {
  const window = { start: now, end: now + 14 * DAY };
  const fleet = await deps.engine.fleetFor(environments, window.start, window.end);
  const timelines = planFleet(fleet, window);
  const counts = new Map<string, Record<string, number>>();
  for (const { environment, state, count } of await deps.store.countByState(
    environments.map((e) => e.name),
  ))
    counts.set(environment, { ...counts.get(environment), [state]: count });
  return environments.map((e) => {
    const timeline = timelines.get(e.name);
    const next = timeline?.plan().transitions[0];
    return {
      name: e.name,
      team: e.team ?? null,
      timezone: e.timezone,
      desired: timeline?.stateAt(now) ?? 'off',
      next: next === undefined ? null : { at: iso(next.at), state: next.state },
      resources: counts.get(e.name) ?? {},
    };
  });
}

function reservationJson(r: StoredReservation) {
  return {
    id: r.id,
    environment: r.environment,
    from: iso(r.from),
    to: iso(r.to),
    actor: r.actor,
    source: r.source,
    ...(r.resource === null ? {} : { resource: r.resource }),
    ...(r.note === null ? {} : { note: r.note }),
  };
}

/** The first of the environment's tiers that selects the resource (null: none does any longer). */
function tierOf(environment: Environment, resource: Selectable): string | null {
  return (
    (environment.tiers ?? []).find((t) => t.select.some((s) => matches(s, resource)))?.name ?? null
  );
}

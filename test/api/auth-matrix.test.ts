/**
 * The access matrix over real HTTP, on every database: every route of ROUTES ×
 * every kind of caller × whose environment it acts on. A route added to ROUTES
 * joins the matrix by itself, and fails until it has a fixture below.
 *
 * The expected answer of a cell comes from the rules in `expected()`, not from a
 * table of cells. Every cell also checks that a problem is problem+json with
 * type, title, status and detail; that no answer holds a token; that a refused
 * write changes nothing in the store (and an accepted one changes something);
 * that a team-scoped caller never reads the name of an environment it may not
 * see; and that lists hold what the caller may see, and only that.
 *
 * /healthz and /readyz are the service's (src/app/service.ts), so the open
 * endpoints are checked on a real service, started as `lightsout serve` does.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApi } from '../../src/api/api.js';
import { ROUTES } from '../../src/api/openapi.js';
import { PROBLEM_BASE } from '../../src/api/problems.js';
import { newToken } from '../../src/api/tokens.js';
import { createLogger } from '../../src/app/logger.js';
import { startService } from '../../src/app/service.js';
import { parseConfig } from '../../src/config/load.js';
import type { Environment } from '../../src/core/glossary.js';
import { SystemClock, VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { Role } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { periodSchedule } from '../core/build.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import type { TestDatabase } from '../store/databases.js';

type Route = (typeof ROUTES)[number];
type Json = Record<string, unknown>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------
// The fleet: an environment of the payments team, one of the search team, and
// one of no team. All are on now (Monday 14:00 in Paris) and can be boosted.

const PAYMENTS_ENV = 'pay-dev';
const SEARCH_ENV = 'search-qa';
const TEAMLESS_ENV = 'ops-lab';
const NO_SUCH_ENV = 'no-such-env';

const officeHours = {
  ...periodSchedule('Europe/Paris', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};
const schedules = new Map([['office-hours', officeHours]]);
const boostable = [{ name: 'apps', select: [{ provider: 'aws', kinds: ['ecs'] }] }];
const environments: Environment[] = [
  {
    name: PAYMENTS_ENV,
    timezone: 'Europe/Paris',
    schedule: 'office-hours',
    team: 'payments',
    tiers: boostable,
  },
  {
    name: SEARCH_ENV,
    timezone: 'Europe/Paris',
    schedule: 'office-hours',
    team: 'search',
    tiers: boostable,
  },
  { name: TEAMLESS_ENV, timezone: 'UTC', schedule: 'office-hours', tiers: boostable },
];
const teamOf = new Map(environments.map((e) => [e.name, e.team]));
/** The EC2 instance each environment manages, for `POST /provision`. */
const INSTANCE: Record<string, string> = {
  [PAYMENTS_ENV]: 'i-0aaa',
  [SEARCH_ENV]: 'i-0bbb',
  [TEAMLESS_ENV]: 'i-0ccc',
};
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

// ---------------------------------------------------------------------------
// Callers. The ones with bad credentials would be admins, were they accepted.

type Credential = 'none' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'valid';

interface Caller {
  readonly name: string;
  readonly credential: Credential;
  readonly role: Role;
  /** A team-scoped token sees its team's environments only. */
  readonly team?: string;
}

const CALLERS: readonly Caller[] = [
  { name: 'no Authorization header', credential: 'none', role: 'admin' },
  // `Authorization: Token <the admin's token>`: a good token, not sent as Bearer.
  { name: 'a malformed header', credential: 'malformed', role: 'admin' },
  { name: 'an unknown token', credential: 'unknown', role: 'admin' },
  { name: 'a revoked admin token', credential: 'revoked', role: 'admin' },
  { name: 'an expired admin token', credential: 'expired', role: 'admin' },
  { name: 'viewer', credential: 'valid', role: 'viewer' },
  { name: 'operator', credential: 'valid', role: 'operator' },
  { name: 'admin', credential: 'valid', role: 'admin' },
  { name: 'payments viewer', credential: 'valid', role: 'viewer', team: 'payments' },
  { name: 'payments operator', credential: 'valid', role: 'operator', team: 'payments' },
];
const VALID_CALLERS = CALLERS.filter((c) => c.credential === 'valid');

const REFUSED_CREDENTIAL: Record<Exclude<Credential, 'valid'>, string> = {
  none: 'unauthenticated',
  malformed: 'unauthenticated',
  unknown: 'invalid-token',
  revoked: 'invalid-token',
  expired: 'expired-token',
};
const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

function visibleTo(caller: Caller, environment: string): boolean {
  return caller.team === undefined || teamOf.get(environment) === caller.team;
}

// ---------------------------------------------------------------------------
// What a cell acts on: an environment (or a reservation, hold or run of it), or
// nothing in particular (a list, the metrics).

interface Target {
  readonly label: string;
  readonly environment?: string;
}

const ENVIRONMENT_TARGETS: readonly Target[] = [
  { label: "on payments' environment", environment: PAYMENTS_ENV },
  { label: "on search's environment", environment: SEARCH_ENV },
  { label: 'on a team-less environment', environment: TEAMLESS_ENV },
];
const NO_TARGET: Target = { label: 'on no environment in particular' };

interface Expected {
  readonly status: number;
  /** The problem type, for a refusal. */
  readonly type?: string;
}

/**
 * The rules, in the order the API applies them:
 * 1. no valid credentials: 401, and nothing else is looked at;
 * 2. a role below the route's: 403 forbidden. It is checked before the target is
 *    looked up, so it is the same for every target and tells nothing about it;
 * 3. a team-scoped caller acting on an environment it may not see (another team's
 *    or a team-less one), or on a reservation, hold or run of it: 404 with the
 *    problem type of an unknown one, so that names and ids do not leak;
 * 4. otherwise the route's success status.
 */
function expected(route: Route, caller: Caller, target: Target): Expected {
  if (caller.credential !== 'valid')
    return { status: 401, type: REFUSED_CREDENTIAL[caller.credential] };
  if (ROLES.indexOf(caller.role) < ROLES.indexOf(route.role))
    return { status: 403, type: 'forbidden' };
  if (target.environment !== undefined && !visibleTo(caller, target.environment))
    return { status: 404, type: (FIXTURES[keyOf(route)] as TargetedFixture).unknown };
  return { status: route.success };
}

// ---------------------------------------------------------------------------
// Fixtures: for every route, what one cell needs, made fresh for each cell (a
// success may consume it: a DELETE, a cancel), and the request to send.

interface World {
  readonly store: Store;
  readonly engine: Engine;
  readonly clock: VirtualClock;
}

interface Request {
  readonly path: string;
  readonly body?: unknown;
}

/** A route that acts on one environment, or on a reservation, hold or run of it. */
interface TargetedFixture {
  /** The problem type for one that does not exist, which is what a caller that may not see it gets. */
  readonly unknown: string;
  readonly prepare: (world: World, environment: string) => Promise<Request>;
}

/** A route that acts on no environment in particular. */
interface GlobalFixture {
  readonly path: string;
  /** A list: the environments of the items in its answer. */
  readonly listed?: (body: Json) => string[];
}

type Fixture = TargetedFixture | GlobalFixture;

const FIXTURE_ACTOR = 'test:fixture';
const isoIn = (world: World, ms: number) => new Date(world.clock.now() + ms).toISOString();
const environmentsOf =
  (list: string, field = 'environment') =>
  (body: Json): string[] =>
    (body[list] as Json[]).map((item) => String(item[field]));
/** An ad-hoc stop in its grace period (10 minutes), as `lightsout stop` makes one. */
const stopInGrace = (world: World, environment: string) =>
  world.engine.command(environment, 'stop', FIXTURE_ACTOR, 10 * MINUTE);

const keyOf = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

const FIXTURES: Readonly<Record<string, Fixture>> = {
  'get /api/v1/environments': {
    path: '/api/v1/environments',
    listed: environmentsOf('environments', 'name'),
  },
  'get /api/v1/environments/{name}': {
    unknown: 'unknown-environment',
    prepare: (_, env) => Promise.resolve({ path: `/api/v1/environments/${env}` }),
  },
  'get /api/v1/environments/{name}/timeline': {
    unknown: 'unknown-environment',
    prepare: (_, env) => Promise.resolve({ path: `/api/v1/environments/${env}/timeline` }),
  },
  'post /api/v1/environments/{name}/start': {
    unknown: 'unknown-environment',
    prepare: (_, env) => Promise.resolve({ path: `/api/v1/environments/${env}/start` }),
  },
  'post /api/v1/environments/{name}/stop': {
    unknown: 'unknown-environment',
    prepare: (_, env) =>
      Promise.resolve({ path: `/api/v1/environments/${env}/stop`, body: { grace: '10m' } }),
  },
  'post /api/v1/environments/{name}/extend': {
    unknown: 'unknown-environment',
    prepare: (world, env) =>
      Promise.resolve({
        path: `/api/v1/environments/${env}/extend`,
        body: { until: isoIn(world, 2 * HOUR) },
      }),
  },
  'post /api/v1/environments/{name}/boost': {
    unknown: 'unknown-environment',
    // A boost needs the environment on for its whole length, whatever earlier cells did.
    prepare: async (world, env) => {
      await world.engine.extend(env, world.clock.now() + 2 * HOUR, FIXTURE_ACTOR);
      return { path: `/api/v1/environments/${env}/boost`, body: { for: '30m' } };
    },
  },
  'post /api/v1/reservations': {
    unknown: 'unknown-environment',
    prepare: (world, env) =>
      Promise.resolve({
        path: '/api/v1/reservations',
        body: { environment: env, from: isoIn(world, DAY), to: isoIn(world, DAY + 3 * HOUR) },
      }),
  },
  'get /api/v1/reservations': {
    path: '/api/v1/reservations',
    listed: environmentsOf('reservations'),
  },
  'delete /api/v1/reservations/{id}': {
    unknown: 'unknown-reservation',
    prepare: async (world, env) => {
      const now = world.clock.now();
      const reservation = await world.engine.reserve(
        env,
        now + 2 * DAY,
        now + 2 * DAY + HOUR,
        FIXTURE_ACTOR,
      );
      return { path: `/api/v1/reservations/${reservation.id}` };
    },
  },
  'post /api/v1/holds': {
    unknown: 'unknown-environment',
    prepare: (world, env) =>
      Promise.resolve({
        path: '/api/v1/holds',
        body: { environment: env, state: 'on', until: isoIn(world, 3 * HOUR) },
      }),
  },
  'get /api/v1/holds': { path: '/api/v1/holds', listed: environmentsOf('holds') },
  'delete /api/v1/holds/{id}': {
    unknown: 'unknown-hold',
    prepare: async (world, env) => {
      const now = world.clock.now();
      const hold = await world.store.addHold(
        { environment: env, state: 'on', until: now + 4 * HOUR, actor: FIXTURE_ACTOR },
        now,
      );
      return { path: `/api/v1/holds/${hold.id}` };
    },
  },
  'get /api/v1/runs': { path: '/api/v1/runs?limit=500', listed: environmentsOf('runs') },
  'get /api/v1/savings': { path: '/api/v1/savings', listed: environmentsOf('environments') },
  'get /api/v1/savings/projection': {
    path: '/api/v1/savings/projection?schedule=office-hours',
    listed: environmentsOf('environments'),
  },
  'get /api/v1/runs/{id}': {
    unknown: 'unknown-run',
    prepare: async (world, env) => ({
      path: `/api/v1/runs/${(await stopInGrace(world, env)).id}`,
    }),
  },
  'get /api/v1/runs/{id}/stream': {
    unknown: 'unknown-run',
    // A run that is over: its stream says so in one `end` event and closes.
    prepare: async (world, env) => {
      const run = await stopInGrace(world, env);
      await world.engine.cancel(run.id, FIXTURE_ACTOR);
      return { path: `/api/v1/runs/${run.id}/stream` };
    },
  },
  'post /api/v1/runs/{id}/cancel': {
    unknown: 'unknown-run',
    // Only a stop in its grace period can be cancelled.
    prepare: async (world, env) => ({
      path: `/api/v1/runs/${(await stopInGrace(world, env)).id}/cancel`,
      body: {},
    }),
  },
  'get /api/v1/events': { path: '/api/v1/events?limit=1000', listed: environmentsOf('events') },
  'post /provision': {
    unknown: 'unknown-resource',
    prepare: (world, env) =>
      Promise.resolve({
        path: '/provision',
        body: {
          ec2_instances_id: INSTANCE[env],
          start_time: isoIn(world, DAY),
          end_time: isoIn(world, DAY + 2 * HOUR),
        },
      }),
  },
  'get /metrics': { path: '/metrics' },
};

/** Lists that take `?environment=`. */
const FILTERED_LISTS = [
  'get /api/v1/reservations',
  'get /api/v1/savings',
  'get /api/v1/savings/projection',
  'get /api/v1/holds',
  'get /api/v1/runs',
  'get /api/v1/events',
];

/** Open to anyone: health, and the API's description. */
const OPEN_PATHS = ['/healthz', '/readyz', '/openapi.json', '/docs'];

// ---------------------------------------------------------------------------
// The cells.

interface Cell {
  readonly route: Route;
  readonly caller: Caller;
  readonly target: Target;
  readonly label: string;
}

const CELLS: readonly Cell[] = ROUTES.flatMap((route) => {
  const fixture = FIXTURES[keyOf(route)];
  const targets = fixture !== undefined && 'unknown' in fixture ? ENVIRONMENT_TARGETS : [NO_TARGET];
  return CALLERS.flatMap((caller) =>
    targets.map((target) => {
      const want = expected(route, caller, target);
      const label = `${route.method.toUpperCase()} ${route.path} by ${caller.name} ${target.label}: ${want.status}${want.type === undefined ? '' : ` ${want.type}`}`;
      return { route, caller, target, label };
    }),
  );
});

interface FilterCell {
  readonly key: string;
  readonly caller: Caller;
  readonly environment: string;
  readonly label: string;
}

const FILTER_CELLS: readonly FilterCell[] = FILTERED_LISTS.flatMap((key) =>
  VALID_CALLERS.flatMap((caller) =>
    ENVIRONMENT_TARGETS.map(({ environment }) => ({
      key,
      caller,
      environment: environment!,
      label: `${key.replace(/^get /, 'GET ')}?environment=${environment!} by ${caller.name}: ${visibleTo(caller, environment!) ? "that environment's items only" : 'as for an environment that does not exist'}`,
    })),
  ),
);

// ---------------------------------------------------------------------------
// The harness: a real server on a fresh store, tokens for every caller.

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly json: Json | undefined;
}

async function fetchAnswer(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    contentType,
    text,
    json: contentType.includes('json') && text !== '' ? (JSON.parse(text) as Json) : undefined,
  };
}

const jsonBody = (body: unknown): RequestInit =>
  body === undefined
    ? {}
    : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };

async function startWorld(database: TestDatabase) {
  const store = await database.open();
  // Monday 1 June 2026, 14:00 in Paris.
  const clock = new VirtualClock(at('2026-06-01T12:00Z'));
  const engine = new Engine({
    store,
    providers: new Map(),
    clock,
    notifier: { send: () => Promise.resolve() },
    log: quiet,
    schedules,
    environments,
  });
  const world: World = { store, engine, clock };
  const now = clock.now();

  // Something of every kind in every environment, so that lists have items to show or hide.
  for (const env of environments.map((e) => e.name)) {
    await store.upsertResources(
      env,
      [
        {
          id: `aws:ec2:eu-west-3:1:${INSTANCE[env]!}`,
          provider: 'aws',
          kind: 'ec2',
          name: `${env}-box`,
          tags: {},
        },
      ],
      now,
    );
    await engine.reserve(env, now + 5 * DAY, now + 5 * DAY + HOUR, FIXTURE_ACTOR);
    await store.addHold(
      { environment: env, state: 'on', from: now + 6 * DAY, until: now + 7 * DAY, actor: 'seed' },
      now,
    );
    await engine.command(env, 'start', FIXTURE_ACTOR);
  }

  // Every token value made or sent, to check that none comes back in an answer.
  const secrets: string[] = [];
  const headers = new Map<string, string>();
  const issue = async (caller: Caller, expiresAt?: number) => {
    const { token, hash } = newToken();
    const id = randomUUID();
    await store.addToken(
      { id, name: caller.name, role: caller.role, team: caller.team, hash, expiresAt },
      now - DAY,
    );
    secrets.push(token);
    return { id, token };
  };
  for (const caller of CALLERS) {
    if (caller.credential === 'valid')
      headers.set(caller.name, `Bearer ${(await issue(caller)).token}`);
    if (caller.credential === 'expired')
      headers.set(caller.name, `Bearer ${(await issue(caller, now - HOUR)).token}`);
    if (caller.credential === 'revoked') {
      const { id, token } = await issue(caller);
      await store.revokeToken(id, now - HOUR);
      headers.set(caller.name, `Bearer ${token}`);
    }
    if (caller.credential === 'unknown') {
      const { token } = newToken();
      secrets.push(token);
      headers.set(caller.name, `Bearer ${token}`);
    }
  }
  const admin = headers.get('admin')!.slice('Bearer '.length);
  for (const caller of CALLERS)
    if (caller.credential === 'malformed') headers.set(caller.name, `Token ${admin}`);

  const http: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const served: string[] = [];
  http.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD')
        served.push(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  await serveApi(
    http,
    { store, engine, environments, schedules, now: () => clock.now() },
    { rateLimitPerMinute: 100_000 },
  );
  await http.listen({ port: 0, host: '127.0.0.1' });
  const address = http.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

  const call = (caller: Caller, method: string, path: string, body?: unknown) => {
    const authorization = headers.get(caller.name);
    const init = jsonBody(body);
    return fetchAnswer(`${base}${path}`, {
      ...init,
      method: method.toUpperCase(),
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        ...(authorization === undefined ? {} : { authorization }),
      },
    });
  };
  const close = async () => {
    await http.close();
    await store.close();
  };
  return { world, call, secrets, served, close };
}

/** Everything a request could change, row by row. */
async function snapshot(store: Store): Promise<string> {
  const tables = ['reservations', 'holds', 'runs', 'run_steps', 'events'] as const;
  const rows = await Promise.all(
    tables.map((table) => store.db.selectFrom(table).selectAll().orderBy('id').execute()),
  );
  return JSON.stringify(rows, (_, value: unknown) =>
    typeof value === 'bigint' ? String(value) : value,
  );
}

/** An RFC 9457 problem with the status and type, every member present. */
function expectProblem(answer: Answer, status: number, type: string | undefined, where: string) {
  expect(answer.contentType, `${where}: content type`).toContain('application/problem+json');
  const problem = answer.json ?? {};
  expect(problem.status, `${where}: status member`).toBe(status);
  if (type !== undefined) expect(problem.type, `${where}: type`).toBe(`${PROBLEM_BASE}${type}`);
  for (const member of ['type', 'title', 'detail'])
    expect(problem[member], `${where}: ${member} member`).toEqual(
      expect.stringMatching(/\S/) as unknown,
    );
}

// ---------------------------------------------------------------------------

describe.each(DATABASES)('the access matrix on $name', (database) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startWorld(database);
  }, 60_000);
  afterAll(async () => {
    await harness.close();
  });

  it('has a fixture for every route of ROUTES, and ROUTES is every route served', () => {
    const routes = ROUTES.map(keyOf).sort();
    expect(Object.keys(FIXTURES).sort(), 'FIXTURES against ROUTES').toEqual(routes);
    const open = OPEN_PATHS.map((p) => `get ${p}`);
    expect(
      harness.served.filter((r) => !open.includes(r)).sort(),
      'routes served by serveApi, but for the open ones, against ROUTES',
    ).toEqual(routes);
    for (const key of FILTERED_LISTS) expect(routes, 'FILTERED_LISTS').toContain(key);
  });

  for (const cell of CELLS) it(cell.label, () => checkCell(harness, cell));
  for (const cell of FILTER_CELLS) it(cell.label, () => checkFilter(harness, cell));
});

type Harness = Awaited<ReturnType<typeof startWorld>>;

/** One cell of the matrix: the answer is the one `expected()` says, and nothing is given away. */
async function checkCell(harness: Harness, { route, caller, target }: Cell): Promise<void> {
  const { world, call, secrets } = harness;
  const fixture = FIXTURES[keyOf(route)];
  if (fixture === undefined)
    expect.fail(`${keyOf(route)} has no fixture: add one to FIXTURES in this file`);
  // A new instant for every cell: runs are one per environment, direction and instant.
  world.clock.advance(1_000);
  const request: Request =
    'unknown' in fixture
      ? await fixture.prepare(world, target.environment!)
      : { path: fixture.path };
  const where = `${route.method.toUpperCase()} ${request.path} by ${caller.name} ${target.label}`;
  const writes = route.method !== 'get';
  const before = writes ? await snapshot(world.store) : '';

  const answer = await call(caller, route.method, request.path, request.body);

  const want = expected(route, caller, target);
  expect(answer.status, `${where}: status, answered ${answer.text.slice(0, 300)}`).toBe(
    want.status,
  );
  if (answer.status >= 400) expectProblem(answer, want.status, want.type, where);
  for (const secret of secrets)
    expect(answer.text.includes(secret), `${where}: the answer holds a token`).toBe(false);

  // Names of environments the caller may not see never appear, unless it sent them itself.
  const sent = `${request.path} ${JSON.stringify(request.body ?? null)}`;
  for (const env of environments.map((e) => e.name))
    if (!visibleTo(caller, env) && !sent.includes(env))
      expect(answer.text.includes(env), `${where}: the answer names ${env}`).toBe(false);

  if (writes) {
    const after = await snapshot(world.store);
    if (want.status >= 400)
      expect(after === before, `${where}: a refused request changed the store`).toBe(true);
    else expect(after === before, `${where}: an accepted request changed nothing`).toBe(false);
  }

  // A list shows every environment the caller may see (each has items), and nothing else.
  if (!('unknown' in fixture) && fixture.listed !== undefined && answer.status === 200) {
    const listed = new Set(fixture.listed(answer.json ?? {}));
    for (const env of environments.map((e) => e.name))
      expect(listed.has(env), `${where}: lists ${env}`).toBe(visibleTo(caller, env));
  }
  // An answer about one environment is about that one.
  if (target.environment !== undefined && answer.status < 300 && answer.json !== undefined)
    expect(answer.json.environment ?? answer.json.name, `${where}: environment`).toBe(
      target.environment,
    );
}

/** A list filtered by an environment the caller may not see answers as for one that does not exist. */
async function checkFilter(
  harness: Harness,
  { key, caller, environment }: FilterCell,
): Promise<void> {
  const { call, world } = harness;
  world.clock.advance(1_000);
  const fixture = FIXTURES[key] as GlobalFixture;
  const path = `${key.replace(/^get /, '')}?environment=${environment}`;
  const where = `GET ${path} by ${caller.name}`;
  const answer = await call(caller, 'get', path);
  if (visibleTo(caller, environment)) {
    expect(answer.status, `${where}: status, answered ${answer.text.slice(0, 300)}`).toBe(200);
    expect(new Set(fixture.listed!(answer.json ?? {})), `${where}: listed`).toEqual(
      new Set([environment]),
    );
  } else {
    const unknown = await call(caller, 'get', path.replace(environment, NO_SUCH_ENV));
    const against = `${where}, against ?environment=${NO_SUCH_ENV}`;
    expect(answer.status, `${against}: status`).toBe(unknown.status);
    expect(answer.contentType, `${against}: content type`).toBe(unknown.contentType);
    expect(answer.text.replaceAll(environment, NO_SUCH_ENV), `${against}: body`).toBe(unknown.text);
  }
}

describe.each(DATABASES)('the open endpoints of the service on $name', (database) => {
  let service: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    const loaded = parseConfig(
      `timezone: UTC\nenvironments:\n  ${PAYMENTS_ENV}: { team: payments }\n`,
      'lightsout.yaml',
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    service = await startService({
      config: loaded.config,
      db: database.url(),
      clock: new SystemClock(),
      log: createLogger(undefined, 'silent'),
      port: 0,
      host: '127.0.0.1',
    });
  }, 60_000);
  afterAll(async () => {
    await service.stop();
  });

  const base = () => `http://127.0.0.1:${service.port}`;

  for (const path of OPEN_PATHS)
    it(`answers GET ${path} with 200 without a token`, async () => {
      const answer = await fetchAnswer(`${base()}${path}`, {});
      expect(answer.status, `GET ${path} without a token: ${answer.text.slice(0, 300)}`).toBe(200);
    });

  it('answers every route of ROUTES without a token with 401', async () => {
    for (const route of ROUTES) {
      const path = route.path.replace(/\{\w+\}/g, 'x');
      const answer = await fetchAnswer(`${base()}${path}`, {
        method: route.method.toUpperCase(),
        ...jsonBody(route.method === 'post' ? {} : undefined),
      });
      const where = `${route.method.toUpperCase()} ${path} without a token`;
      expect(answer.status, `${where}: ${answer.text.slice(0, 300)}`).toBe(401);
      expectProblem(answer, 401, 'unauthenticated', where);
    }
  });
});

/**
 * The HTTP API over real HTTP, on SQLite and PostgreSQL: tokens and roles, team
 * scoping (another team's environment is 404, not 403), reservations, the
 * `POST /provision` route people already use, and problem+json for bad input
 * that changes nothing.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import { WebSessions } from '../../src/api/session.js';
import { CLIENT_ROUTES } from '../../src/api/web.js';
import { oidcVerifier } from '../../src/api/oidc.js';
import type { OidcVerifier } from '../../src/api/oidc.js';
import { newToken } from '../../src/api/tokens.js';
import type { Environment } from '../../src/core/glossary.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { Role } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { periodSchedule } from '../core/build.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';

const officeHours = {
  ...periodSchedule('Europe/Paris', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};
const environments: Environment[] = [
  { name: 'dev', timezone: 'Europe/Paris', schedule: 'office-hours', team: 'payments' },
  { name: 'lab', timezone: 'Europe/Paris', team: 'payments', maxReservationMs: 2 * 86_400_000 },
  { name: 'qa', timezone: 'Europe/Paris', schedule: 'office-hours', team: 'search' },
];
const schedules = new Map([['office-hours', officeHours]]);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.each(DATABASES)('the API on $name', (database) => {
  let store: Store | undefined;
  let http: FastifyInstance | undefined;
  afterEach(async () => {
    await http?.close();
    await store?.close();
    store = undefined;
    http = undefined;
  });

  // Monday 1 June 2026, 14:00 in Paris.
  async function setup(
    rateLimitPerMinute = 100_000,
    oidc?: OidcVerifier,
    /** Runs on the server before the API's routes are added (hooks that see every route). */
    prepare?: (http: FastifyInstance) => void,
  ) {
    store = await database.open();
    const clock = new VirtualClock(at('2026-06-01T12:00Z'));
    const engine = new Engine({
      store,
      providers: new Map(),
      clock,
      notifier: { send: () => Promise.resolve() },
      log: quiet,
      schedules: new Map([['office-hours', officeHours]]),
      environments,
    });
    await store.upsertResources(
      'lab',
      [
        {
          id: 'aws:ec2:eu-west-3:1:i-0abc',
          provider: 'aws',
          kind: 'ec2',
          name: 'lab-box',
          tags: {},
        },
      ],
      clock.now(),
    );
    http = Fastify(API_SERVER_OPTIONS);
    prepare?.(http);
    await serveApi(
      http,
      {
        store,
        engine,
        environments,
        schedules,
        now: () => clock.now(),
        ...(oidc === undefined ? {} : { oidc }),
        sessions: new WebSessions(),
      },
      { rateLimitPerMinute },
    );
    await http.listen({ port: 0, host: '127.0.0.1' });
    const address = http.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const tokens = new Map<string, string>();
    const token = async (name: string, role: Role, team?: string, expiresAt?: number) => {
      const { token: value, hash } = newToken();
      await store!.addToken({ id: name, name, role, team, hash, expiresAt }, clock.now());
      tokens.set(name, value);
      return value;
    };
    await token('admin', 'admin');
    await token('payments-op', 'operator', 'payments');
    await token('viewer', 'viewer');
    await token('old', 'operator', undefined, at('2026-05-01T00:00Z'));
    const call = async (who: string | undefined, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(who === undefined ? {} : { authorization: `Bearer ${tokens.get(who) ?? who}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown>,
      };
    };
    currentBase = base;
    currentTokens = tokens;
    return { call, clock };
  }
  let currentBase = '';
  let currentTokens = new Map<string, string>();
  const baseOf = () => Promise.resolve(currentBase);
  const tokenOf = (name: string) => currentTokens.get(name) ?? '';

  describe('access', () => {
    it.each([
      [undefined, 'unauthenticated'],
      ['lo_not-a-token', 'invalid-token'],
      ['old', 'expired-token'],
    ])('refuses token %s with 401 %s, as problem+json', async (who, type) => {
      const { call } = await setup();
      const answer = await call(who, 'GET', '/api/v1/environments');
      expect(answer.status).toBe(401);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body).toMatchObject({
        type: `https://lightsout.dev/problems/${type}`,
        status: 401,
      });
    });

    it("shows a team-scoped token its team's environments only; another team's is 404", async () => {
      const { call } = await setup();
      const all = await call('admin', 'GET', '/api/v1/environments');
      expect((all.body.environments as { name: string }[]).map((e) => e.name)).toEqual([
        'dev',
        'lab',
        'qa',
      ]);
      const mine = await call('payments-op', 'GET', '/api/v1/environments');
      expect((mine.body.environments as { name: string }[]).map((e) => e.name)).toEqual([
        'dev',
        'lab',
      ]);
      expect((await call('payments-op', 'GET', '/api/v1/environments/qa')).status).toBe(404);
      expect((await call('payments-op', 'GET', '/api/v1/environments/nosuch')).status).toBe(404);
      expect((await call('admin', 'GET', '/api/v1/environments/qa')).status).toBe(200);
    });

    it('shows one environment with its schedule in English, resources, holds and runs', async () => {
      const { call, clock } = await setup();
      const stopped = 'aws:ec2:eu-west-3:1:i-0def';
      await store!.upsertResources(
        'lab',
        [{ id: stopped, provider: 'aws', kind: 'ec2', name: 'lab-2', tags: {} }],
        clock.now(),
      );
      await store!.setLastState([stopped], 'off', clock.now());
      const all = await call('admin', 'GET', '/api/v1/environments');
      expect(
        (all.body.environments as { name: string; resources: unknown }[]).map((e) => [
          e.name,
          e.resources,
        ]),
      ).toEqual([
        ['dev', {}],
        ['lab', { unknown: 1, off: 1 }],
        ['qa', {}],
      ]);
      const lab = await call('admin', 'GET', '/api/v1/environments/lab');
      expect(lab.body.resources).toContainEqual({
        id: stopped,
        kind: 'ec2',
        name: 'lab-2',
        state: 'off',
        tier: null,
      });
      const dev = await call('admin', 'GET', '/api/v1/environments/dev');
      expect(dev.body).toMatchObject({
        name: 'dev',
        desired: 'on',
        next: { at: '2026-06-01T16:00:00.000Z', state: 'off' },
        schedule: { name: 'office-hours' },
        graceMs: 15 * 60_000,
        tiers: [],
        resources: [],
        holds: [],
        runs: [],
      });
      expect((dev.body.schedule as { text: string }).text).toMatch(/08:00/);
    });

    it('lets a viewer read but not reserve (403, with the role it needs)', async () => {
      const { call } = await setup();
      expect((await call('viewer', 'GET', '/api/v1/reservations')).status).toBe(200);
      const answer = await call('viewer', 'POST', '/api/v1/reservations', {
        environment: 'dev',
        from: '2026-06-06T09:00',
        to: '2026-06-06T12:00',
      });
      expect(answer.status).toBe(403);
      expect(answer.body.detail).toBe('this needs the operator role; the token "viewer" is viewer');
    });
  });

  describe('defenses', () => {
    it('sends security headers, refuses a body over 64 KiB with 413, and never a stack trace', async () => {
      const { call } = await setup();
      const response = await fetch(`${currentBase}/api/v1/environments`, {
        headers: { authorization: `Bearer ${tokenOf('admin')}` },
      });
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).not.toBeNull();
      const big = await call('admin', 'POST', '/api/v1/reservations', { note: 'x'.repeat(70_000) });
      expect(big.status).toBe(413);
      expect(big.type).toContain('application/problem+json');
    });

    it('limits requests per token with 429 problem+json; another token is not limited', async () => {
      const { call } = await setup(3);
      for (let i = 0; i < 3; i++)
        expect((await call('viewer', 'GET', '/api/v1/environments')).status).toBe(200);
      const limited = await call('viewer', 'GET', '/api/v1/environments');
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ type: 'https://lightsout.dev/problems/rate-limited' });
      expect((await call('admin', 'GET', '/api/v1/environments')).status).toBe(200);
    });

    it('limits made-up tokens and no token from one address as one caller', async () => {
      const { call } = await setup(3);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++)
        statuses.push((await call(`lo_${randomUUID()}`, 'GET', '/api/v1/environments')).status);
      statuses.push((await call(undefined, 'GET', '/api/v1/environments')).status);
      expect(statuses).toEqual([401, 401, 401, ...Array<number>(8).fill(429)]);
      // A real token is its own caller, whatever its address spent on guesses.
      expect((await call('viewer', 'GET', '/api/v1/environments')).status).toBe(200);
    });

    it('limits one token as one caller however its header is spelled', async () => {
      await setup(3);
      const token = tokenOf('viewer');
      const statuses: number[] = [];
      for (const header of [
        `Bearer ${token}`,
        `Bearer   ${token}`,
        `bearer\t${token}`,
        `BEARER ${token}`,
      ])
        statuses.push(
          (
            await fetch(`${currentBase}/api/v1/environments`, {
              headers: { authorization: header },
            })
          ).status,
        );
      expect(statuses).toEqual([200, 200, 200, 429]);
    });

    it('limits two tokens apart, and looks each token up once a request', async () => {
      const { call } = await setup(2);
      const lookups = vi.spyOn(store!, 'tokenByHash');
      expect((await call('viewer', 'GET', '/api/v1/environments')).status).toBe(200);
      const metrics = await fetch(`${currentBase}/metrics`, {
        headers: { authorization: `Bearer ${tokenOf('viewer')}` },
      });
      expect(metrics.status).toBe(200);
      expect((await call('viewer', 'GET', '/api/v1/environments')).status).toBe(429);
      expect((await call('admin', 'GET', '/api/v1/environments')).status).toBe(200);
      expect((await call('admin', 'GET', '/api/v1/environments/dev')).status).toBe(200);
      expect((await call('admin', 'GET', '/api/v1/environments')).status).toBe(429);
      expect(lookups).toHaveBeenCalledTimes(6);
    });

    it('serves Prometheus metrics to a token, from the store', async () => {
      const { call } = await setup();
      await call('payments-op', 'POST', '/api/v1/environments/dev/stop', { grace: '10m' });
      expect((await call(undefined, 'GET', '/metrics')).status).toBe(401);
      const response = await fetch(`${currentBase}/metrics`, {
        headers: { authorization: `Bearer ${tokenOf('viewer')}` },
      });
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toContain('lightsout_runs_total{direction="stop",status="grace"} 1');
      expect(text).toContain('lightsout_resources{kind="ec2",state="unknown"} 1');
      expect(text).toContain('# TYPE lightsout_transition_lag_seconds histogram');
    });
  });

  it('publishes a valid OpenAPI 3.1 document naming every route, and a reference page', async () => {
    store = await database.open();
    const routes: string[] = [];
    http = Fastify({ logger: false });
    http.addHook('onRoute', (route) => {
      for (const method of [route.method].flat())
        if (method !== 'HEAD')
          routes.push(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    });
    const clock = new VirtualClock(0);
    const engine = new Engine({
      store,
      providers: new Map(),
      clock,
      notifier: { send: () => Promise.resolve() },
      log: quiet,
      schedules: new Map(),
      environments,
    });
    await serveApi(http, {
      store,
      engine,
      environments,
      schedules,
      now: () => clock.now(),
      sessions: new WebSessions(),
    });
    const document = (await http.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    // The dashboard's page and built files are no API (the files are there once built).
    const page = (r: string) =>
      CLIENT_ROUTES.some((c) => r === `get ${c.replace(/:(\w+)/g, '{$1}')}`) ||
      /^(get|head) \/[^{]*\.\w+$/.test(r);
    const served = routes.filter(
      (r) => !['get /openapi.json', 'get /docs'].includes(r) && !page(r),
    );
    expect(documented.sort()).toEqual(served.sort());
    const reference = await http.inject({ url: '/docs' });
    expect(reference.headers['content-type']).toContain('text/html');
    expect(reference.body).toContain('/api/v1/reservations');
  });

  it('declares in /openapi.json every query parameter a route reads', async () => {
    // Every query a route touches, recorded by route: a handler reading a parameter
    // that its schema (and so the document) lacks shows here.
    const reads = new Map<string, Set<string>>();
    const { call } = await setup(undefined, undefined, (server) =>
      server.addHook('preHandler', (request, _reply, done) => {
        const route = `${request.method.toLowerCase()} ${(request.routeOptions.url ?? '').replace(/:(\w+)/g, '{$1}')}`;
        const read = reads.get(route) ?? new Set<string>();
        reads.set(route, read);
        request.query = new Proxy(request.query as object, {
          get(target, key, receiver) {
            if (typeof key === 'string') read.add(key);
            return Reflect.get(target, key, receiver) as unknown;
          },
        });
        done();
      }),
    );
    const document = (await call(undefined, 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    reads.clear();
    // Bodies that get past validation, so each handler runs as far as it goes.
    const bodies: Record<string, unknown> = {
      'post /api/v1/reservations': {
        environment: 'dev',
        from: '2026-06-06T09:00',
        to: '2026-06-06T12:00',
      },
      'post /api/v1/holds': { environment: 'dev', state: 'on', until: '2026-06-01T20:00' },
      'post /api/v1/environments/{name}/extend': { until: '2026-06-01T20:00' },
      'post /api/v1/environments/{name}/boost': { for: '30m' },
      'post /provision': {
        ec2_instances_id: 'i-0abc',
        start_time: '2026-06-02T15:00:00',
        end_time: '2026-06-02T18:00:00',
      },
    };
    const declared = new Map<string, string[]>();
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(methods)) {
        const route = `${method} ${path}`;
        declared.set(
          route,
          (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        );
        const url = path.replace('{name}', 'dev').replace('{id}', randomUUID());
        const body = bodies[route] ?? (method === 'post' ? {} : undefined);
        await fetch(`${await baseOf()}${url}`, {
          method: method.toUpperCase(),
          headers: {
            authorization: `Bearer ${tokenOf('admin')}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }).then((response) => response.arrayBuffer());
      }
    expect(new Set(reads.keys())).toEqual(new Set(declared.keys()));
    for (const [route, names] of reads)
      expect([route, [...names].sort()]).toEqual([
        route,
        [...names].filter((n) => declared.get(route)?.includes(n)).sort(),
      ]);
    // The schemas the routes validate with read what the document declares, and the
    // events route (the one with the most) reads them all.
    expect([...(reads.get('get /api/v1/events') ?? [])].sort()).toEqual(
      [...(declared.get('get /api/v1/events') ?? [])].sort(),
    );
  });

  describe('OpenID Connect', () => {
    async function identityProvider() {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
      const jwks = createServer((_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      const port = (jwks.address() as AddressInfo).port;
      const sign = (
        claims: Record<string, unknown>,
        options: {
          audience?: string;
          expires?: number | null;
          key?: Parameters<SignJWT['sign']>[0];
        } = {},
      ) => {
        const jwt = new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer('https://login.example.com')
          .setAudience(options.audience ?? 'lightsout')
          .setIssuedAt(at('2026-06-01T11:00Z') / 1000);
        if (options.expires !== null)
          jwt.setExpirationTime(options.expires ?? at('2026-06-01T13:00Z') / 1000);
        return jwt.sign(options.key ?? privateKey);
      };
      const verifier = oidcVerifier({
        issuer: 'https://login.example.com',
        audience: 'lightsout',
        jwks_url: `http://127.0.0.1:${port}/jwks.json`,
        clock_skew: 60_000,
        rules: [
          { claim: 'groups', value: 'platform', role: 'admin' },
          { claim: 'groups', value: 'payments-devs', role: 'operator', team: 'payments' },
        ],
      });
      return { sign, verifier, close: () => new Promise((resolve) => jwks.close(resolve)) };
    }

    it('maps verified claims to a role and a team, and refuses bad tokens', async () => {
      const idp = await identityProvider();
      try {
        const { call } = await setup(100_000, idp.verifier);
        const dev = await idp.sign({
          sub: 'u1',
          email: 'dana@example.com',
          groups: ['payments-devs'],
        });
        const reserved = await call(dev, 'POST', '/api/v1/reservations', {
          environment: 'dev',
          from: '2026-06-06T09:00',
          to: '2026-06-06T12:00',
        });
        expect(reserved.status).toBe(201);
        expect(reserved.body.actor).toBe('api:dana@example.com');
        expect((await call(dev, 'GET', '/api/v1/environments/qa')).status).toBe(404);
        const cases: [string, number, string][] = [
          [
            await idp.sign({ sub: 'u2', groups: ['platform'] }, { audience: 'other' }),
            401,
            'invalid-token',
          ],
          [
            await idp.sign(
              { sub: 'u2', groups: ['platform'] },
              { expires: at('2026-06-01T11:30Z') / 1000 },
            ),
            401,
            'expired-token',
          ],
          [await idp.sign({ sub: 'u3', groups: ['marketing'] }), 403, 'no-role'],
          [
            await idp.sign(
              { sub: 'u4', groups: ['platform'] },
              { key: (await generateKeyPair('RS256')).privateKey },
            ),
            401,
            'invalid-token',
          ],
        ];
        for (const [token, status, type] of cases) {
          const answer = await call(token, 'GET', '/api/v1/environments');
          expect([answer.status, answer.body.type]).toEqual([
            status,
            `https://lightsout.dev/problems/${type}`,
          ]);
        }
        const forever = await call(
          await idp.sign({ sub: 'u5', groups: ['platform'] }, { expires: null }),
          'GET',
          '/api/v1/environments',
        );
        expect(forever.status).toBe(401);
        expect(forever.type).toContain('application/problem+json');
        expect(forever.body).toMatchObject({
          type: 'https://lightsout.dev/problems/invalid-token',
          detail: expect.stringContaining('"exp" claim') as unknown,
        });
        expect((await call('admin', 'GET', '/api/v1/environments')).status).toBe(200);
      } finally {
        await idp.close();
      }
    });
  });

  describe('reservations', () => {
    it('are created in the environment zone, answered with the on-windows, listed and deleted', async () => {
      const { call } = await setup();
      const created = await call('payments-op', 'POST', '/api/v1/reservations', {
        environment: 'dev',
        from: '2026-06-06T09:00',
        to: '2026-06-06T12:00',
        note: 'demo',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        environment: 'dev',
        from: '2026-06-06T07:00:00.000Z',
        to: '2026-06-06T10:00:00.000Z',
        actor: 'api:payments-op',
      });
      expect(created.body.onWindows).toContainEqual({
        from: '2026-06-06T07:00:00.000Z',
        to: '2026-06-06T10:00:00.000Z',
      });
      const listed = await call('viewer', 'GET', '/api/v1/reservations?environment=dev');
      expect((listed.body.reservations as { id: string }[]).map((r) => r.id)).toEqual([
        created.body.id,
      ]);
      expect(
        (await call('payments-op', 'DELETE', `/api/v1/reservations/${String(created.body.id)}`))
          .status,
      ).toBe(204);
      expect((await call('viewer', 'GET', '/api/v1/reservations')).body.reservations).toEqual([]);
      expect(
        (await call('payments-op', 'DELETE', `/api/v1/reservations/${String(created.body.id)}`))
          .status,
      ).toBe(404);
    });

    it('can be for one resource alone, answered with its own on-windows', async () => {
      const { call } = await setup();
      const created = await call('payments-op', 'POST', '/api/v1/reservations', {
        environment: 'lab',
        from: '2026-06-02T20:00',
        to: '2026-06-02T22:00',
        resource: 'aws:ec2:eu-west-3:1:i-0abc',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        resource: 'aws:ec2:eu-west-3:1:i-0abc',
        onWindows: [{ from: '2026-06-02T18:00:00.000Z', to: '2026-06-02T20:00:00.000Z' }],
      });
      const lab = await call('viewer', 'GET', '/api/v1/environments/lab');
      expect(lab.body).toMatchObject({ desired: 'off', next: null });
    });

    it.each([
      [
        { environment: 'qa', from: '2026-06-06T09:00', to: '2026-06-06T12:00' },
        404,
        'unknown-environment',
        'environment',
      ],
      [
        { environment: 'dev', from: '2026-06-06T12:00', to: '2026-06-06T09:00' },
        422,
        'end-before-start',
        'to',
      ],
      [
        { environment: 'dev', from: '2026-05-06T09:00', to: '2026-05-06T12:00' },
        422,
        'window-in-the-past',
        'to',
      ],
      [{ environment: 'dev', from: 'noon', to: '2026-06-06T12:00' }, 400, 'invalid-time', 'from'],
      [
        {
          environment: 'dev',
          from: '2026-06-06T09:00',
          to: '2026-06-06T12:00',
          timezone: 'Mars/Olympus',
        },
        400,
        'unknown-timezone',
        'timezone',
      ],
      [
        { environment: 'lab', from: '2026-06-02T09:00', to: '2026-06-09T09:00' },
        422,
        'reservation-too-long',
        'to',
      ],
      [
        { environment: 'dev', from: '2026-06-06T09:00', to: '2026-06-06T12:00', colour: 'red' },
        400,
        'invalid-body',
        undefined,
      ],
      ['{"environment": "dev",', 400, 'bad-request', undefined],
      [
        { environment: 'dev', from: '2026-06-06T09:00', to: '2026-06-06T12:00', resource: 'vm-9' },
        404,
        'unknown-resource',
        'resource',
      ],
      [
        // A resource of another environment (lab's instance, reserved through dev).
        {
          environment: 'dev',
          from: '2026-06-06T09:00',
          to: '2026-06-06T12:00',
          resource: 'aws:ec2:eu-west-3:1:i-0abc',
        },
        404,
        'unknown-resource',
        'resource',
      ],
    ])('refuses %j with %i %s, and stores nothing', async (body, status, type, field) => {
      const { call } = await setup();
      const answer = await call('payments-op', 'POST', '/api/v1/reservations', body);
      expect(answer.status).toBe(status);
      expect(answer.body.type).toBe(`https://lightsout.dev/problems/${type}`);
      expect(answer.body.field).toBe(field);
      expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
      expect((await call('admin', 'GET', '/api/v1/reservations')).body.reservations).toEqual([]);
    });
  });

  it('records the caller as the actor of every change it makes', async () => {
    const { call } = await setup();
    const asOperator = (method: string, path: string, body?: unknown) =>
      call('payments-op', method, path, body);
    const reservation = await asOperator('POST', '/api/v1/reservations', {
      environment: 'dev',
      from: '2026-06-06T09:00',
      to: '2026-06-06T12:00',
    });
    await asOperator('DELETE', `/api/v1/reservations/${String(reservation.body.id)}`);
    await asOperator('POST', '/provision', {
      ec2_instances_id: 'i-0abc',
      start_time: '2026-06-02T15:00:00',
      end_time: '2026-06-02T18:00:00',
    });
    const hold = await asOperator('POST', '/api/v1/holds', {
      environment: 'lab',
      state: 'on',
      until: '2026-06-01T20:00',
    });
    await asOperator('DELETE', `/api/v1/holds/${String(hold.body.id)}`);
    await asOperator('POST', '/api/v1/environments/dev/extend', { until: '2026-06-01T20:00' });
    await asOperator('POST', '/api/v1/environments/lab/start');
    const stop = await asOperator('POST', '/api/v1/environments/dev/stop', { grace: '10m' });
    await asOperator('POST', `/api/v1/runs/${String(stop.body.id)}/cancel`, {});
    const { events } = (await call('admin', 'GET', '/api/v1/events?limit=1000')).body as {
      events: { kind: string; actor: string }[];
    };
    const changes = events.filter((e) => !e.kind.startsWith('notice.'));
    expect(changes.map((e) => e.kind).sort()).toEqual(
      [
        'reservation.created',
        'reservation.deleted',
        'reservation.created',
        'hold.created',
        'hold.deleted',
        'hold.created',
        // start and stop hold the environment in their state: each records its hold.
        'hold.created',
        'hold.created',
        'run.created',
        'run.created',
        'run.cancelled',
      ].sort(),
    );
    expect(new Set(changes.map((e) => e.actor))).toEqual(new Set(['api:payments-op']));
  });

  describe('control', () => {
    it('stop answers 202 with a run in grace; the run shows its steps; cancel keeps it on', async () => {
      const { call } = await setup();
      const stop = await call('payments-op', 'POST', '/api/v1/environments/dev/stop', {
        grace: '10m',
      });
      expect(stop.status).toBe(202);
      expect(stop.body).toMatchObject({
        environment: 'dev',
        direction: 'stop',
        status: 'grace',
        actor: 'api:payments-op',
        actAt: '2026-06-01T12:10:00.000Z',
      });
      const run = await call('viewer', 'GET', `/api/v1/runs/${String(stop.body.id)}`);
      expect(run.body).toMatchObject({ id: stop.body.id, steps: [] });
      const cancelled = await call(
        'payments-op',
        'POST',
        `/api/v1/runs/${String(stop.body.id)}/cancel`,
      );
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled' });
      const again = await call(
        'payments-op',
        'POST',
        `/api/v1/runs/${String(stop.body.id)}/cancel`,
      );
      expect(again.status).toBe(409);
      const runs = await call('payments-op', 'GET', '/api/v1/runs');
      expect((runs.body.runs as { id: string }[]).map((r) => r.id)).toContain(stop.body.id);
    });

    it("a team's runs are listed when another team has more than 1,000 newer ones", async () => {
      const { call, clock } = await setup();
      const start = clock.now() - 86_400_000;
      const run = (id: string, environment: string, createdAt: number) => ({
        id,
        environment,
        direction: 'stop' as const,
        dueAt: createdAt,
        actAt: createdAt,
        trigger: 'schedule' as const,
        actor: 'engine',
      });
      await store!.atomically(async (tx) => {
        await tx.createRun(run('payments-run', 'dev', start), start);
        for (let i = 1; i <= 1_001; i++)
          await tx.createRun(
            run(`search-run-${String(i).padStart(4, '0')}`, 'qa', start + i),
            start + i,
          );
      });
      const mine = await call('payments-op', 'GET', '/api/v1/runs?limit=5');
      expect((mine.body.runs as { id: string }[]).map((r) => r.id)).toEqual(['payments-run']);
      const all = await call('admin', 'GET', '/api/v1/runs?limit=2');
      expect((all.body.runs as { id: string }[]).map((r) => r.id)).toEqual([
        'search-run-1001',
        'search-run-1000',
      ]);
    });

    it.each([
      ['viewer', 'POST', '/api/v1/environments/dev/start', undefined, 403],
      ['payments-op', 'POST', '/api/v1/environments/qa/start', undefined, 404],
      ['payments-op', 'POST', '/api/v1/environments/dev/stop', { grace: 'soon' }, 400],
      ['payments-op', 'POST', '/api/v1/environments/dev/extend', { until: 'later' }, 400],
      ['payments-op', 'POST', '/api/v1/environments/dev/boost', { for: '30m' }, 409],
      ['payments-op', 'GET', '/api/v1/runs/nosuch', undefined, 404],
    ])('%s %s %s %j answers %i', async (who, method, path, body, status) => {
      const { call } = await setup();
      const answer = await call(who, method, path, body);
      expect(answer.status).toBe(status);
      expect(answer.type).toContain('application/problem+json');
    });

    it('holds are created, listed and deleted', async () => {
      const { call } = await setup();
      const hold = await call('payments-op', 'POST', '/api/v1/holds', {
        environment: 'dev',
        state: 'off',
        until: '2026-06-03T08:00',
        note: 'freeze',
      });
      expect(hold.status).toBe(201);
      expect(hold.body).toMatchObject({ state: 'off', until: '2026-06-03T06:00:00.000Z' });
      const listed = await call('viewer', 'GET', '/api/v1/holds?environment=dev');
      expect((listed.body.holds as { id: string }[]).map((h) => h.id)).toEqual([hold.body.id]);
      expect(
        (await call('payments-op', 'DELETE', `/api/v1/holds/${String(hold.body.id)}`)).status,
      ).toBe(204);
      expect((await call('viewer', 'GET', '/api/v1/holds')).body.holds).toEqual([]);
      const theirs = await call('admin', 'POST', '/api/v1/holds', {
        environment: 'qa',
        state: 'on',
        until: '2026-06-03T08:00',
      });
      expect(
        (await call('payments-op', 'DELETE', `/api/v1/holds/${String(theirs.body.id)}`)).status,
      ).toBe(404);
      expect((await call('admin', 'GET', '/api/v1/holds?environment=qa')).body.holds).toHaveLength(
        1,
      );
    });

    it('refuses an extend that ends in the past with 422, naming the field until', async () => {
      const { call } = await setup();
      const answer = await call('payments-op', 'POST', '/api/v1/environments/dev/extend', {
        until: '2026-06-01T10:00',
      });
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({
        type: 'https://lightsout.dev/problems/hold-ends-too-soon',
        field: 'until',
        detail:
          'until 2026-06-01T08:00:00.000Z is not after now (2026-06-01T12:00:00.000Z); give a later until',
      });
    });

    it('refuses a hold-on while a hold-off is in force with 409, saying which wins and how to lift it', async () => {
      const { call } = await setup();
      const off = await call('payments-op', 'POST', '/api/v1/holds', {
        environment: 'dev',
        state: 'off',
        until: '2026-06-03T08:00',
        note: 'freeze',
      });
      const on = await call('payments-op', 'POST', '/api/v1/holds', {
        environment: 'dev',
        state: 'on',
        from: '2026-06-02T20:00',
        until: '2026-06-03T10:00',
      });
      expect(on.status).toBe(409);
      expect(on.type).toContain('application/problem+json');
      expect(on.body).toMatchObject({
        type: 'https://lightsout.dev/problems/held-off',
        detail: `dev is held off until 2026-06-03T06:00:00.000Z by api:payments-op (hold ${String(off.body.id)}), and a hold-off wins over keeping it on: lift it with DELETE /api/v1/holds/${String(off.body.id)}, or hold it on from 2026-06-03T06:00:00.000Z (POST /api/v1/holds with "from")`,
      });
      expect((await call('viewer', 'GET', '/api/v1/holds')).body.holds).toEqual([
        expect.objectContaining({ id: off.body.id }),
      ]);
      // Once the hold-off ends, the hold-on is what the environment does.
      const after = await call('payments-op', 'POST', '/api/v1/holds', {
        environment: 'dev',
        state: 'on',
        from: '2026-06-03T08:00',
        until: '2026-06-03T10:00',
      });
      expect(after.status).toBe(201);
      // And lifted, the hold-off no longer stands in the way.
      await call('payments-op', 'DELETE', `/api/v1/holds/${String(off.body.id)}`);
      expect(
        (
          await call('payments-op', 'POST', '/api/v1/holds', {
            environment: 'dev',
            state: 'on',
            until: '2026-06-03T10:00',
          })
        ).status,
      ).toBe(201);
    });

    it("events are paged with a cursor, streamed as NDJSON, and another team's stay hidden", async () => {
      const { call } = await setup();
      for (const env of ['dev', 'qa', 'dev'])
        await call('admin', 'POST', '/api/v1/reservations', {
          environment: env,
          from: '2026-06-06T09:00',
          to: '2026-06-06T12:00',
        });
      const first = await call(
        'payments-op',
        'GET',
        '/api/v1/events?kind=reservation.created&limit=1',
      );
      expect((first.body.events as { environment: string }[]).map((e) => e.environment)).toEqual([
        'dev',
      ]);
      const second = await call(
        'payments-op',
        'GET',
        `/api/v1/events?kind=reservation.created&limit=1&after=${String(first.body.next)}`,
      );
      expect((second.body.events as { environment: string }[]).map((e) => e.environment)).toEqual([
        'dev',
      ]);
      expect(second.body.next).toBeUndefined();
      const stream = await fetch(
        `${await baseOf()}/api/v1/events?kind=reservation.created&limit=1`,
        {
          headers: { authorization: `Bearer ${tokenOf('admin')}`, accept: 'application/x-ndjson' },
        },
      );
      expect(stream.headers.get('content-type')).toContain('application/x-ndjson');
      const lines = (await stream.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { environment: string; at: string });
      expect(lines.map((e) => e.environment)).toEqual(['dev', 'qa', 'dev']);
      // Schema 2: the time is ISO 8601, as everywhere else in the API.
      expect(lines[0]).toMatchObject({
        schema: 2,
        at: '2026-06-01T12:00:00.000Z',
        kind: 'reservation.created',
        actor: 'api:admin',
      });
      expect(first.body.events).toEqual([expect.objectContaining({ schema: 2, at: lines[0]!.at })]);
      expect((await call('admin', 'GET', '/api/v1/events?after=garbage')).status).toBe(400);
    });
  });

  it('stops reading the event log when the client of a stream goes away', async () => {
    await setup();
    await store!.appendEvents(
      Array.from({ length: 1_200 }, (_, i) => ({
        at: at('2026-06-01T00:00Z') + i,
        actor: 'engine',
        kind: 'resource.state',
        environment: 'dev',
      })),
    );
    // Pages after the first are read only once the server has seen the client leave.
    const gone = new Promise<void>((resolve) => {
      http!.server.on('request', (request: { url?: string }, response: NodeJS.EventEmitter) => {
        if (request.url?.startsWith('/api/v1/events') === true) response.on('close', resolve);
      });
    });
    const read = store!.queryEvents;
    const pages = vi.spyOn(store!, 'queryEvents').mockImplementation(async (filter, page) => {
      if (pages.mock.calls.length > 1) await gone;
      return read(filter, page);
    });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${currentBase}/api/v1/events`, {
        headers: { authorization: `Bearer ${tokenOf('admin')}`, accept: 'application/x-ndjson' },
      })
        .on('response', resolve)
        .on('error', reject)
        .end();
    });
    const [first] = (await once(response, 'data')) as [Buffer];
    expect(first.toString().split('\n')[0]).toContain('"resource.state"');
    response.destroy();
    await gone;
    // A few turns of the event loop: a stream still reading would have asked for page 3.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(pages).toHaveBeenCalledTimes(2);
  });

  it('never answers 5xx to any JSON body on any write route (property-based)', async () => {
    const { call } = await setup();
    const routes = [
      '/api/v1/reservations',
      '/provision',
      '/api/v1/holds',
      '/api/v1/environments/dev/stop',
      '/api/v1/environments/dev/extend',
      '/api/v1/environments/dev/boost',
    ];
    const field = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '2026-06-06T09:00',
        '2026-06-06T12:00Z',
        'dev',
        'qa',
        'i-0abc',
        'on',
        '30m',
        'Europe/Paris',
      ),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const body = fc.dictionary(
      fc.constantFrom(
        'environment',
        'from',
        'to',
        'until',
        'state',
        'grace',
        'for',
        'timezone',
        'note',
        'ec2_instances_id',
        'start_time',
        'end_time',
        'x',
      ),
      field,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(body, fc.jsonValue()),
        async (route, value) => {
          const answer = await call('admin', 'POST', route, value);
          expect(answer.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('POST /provision', () => {
    it('merges overlapping requests into one on-window instead of cutting the earlier one short', async () => {
      const { call } = await setup();
      const first = await call('payments-op', 'POST', '/provision', {
        ec2_instances_id: 'i-0abc',
        start_time: '2026-06-02T15:00:00',
        end_time: '2026-06-02T18:00:00',
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        environment: 'lab',
        resource: 'aws:ec2:eu-west-3:1:i-0abc',
      });
      const second = await call('payments-op', 'POST', '/provision', {
        ec2_instances_id: 'i-0abc',
        start_time: '2026-06-02T17:00:00',
        end_time: '2026-06-02T20:00:00',
      });
      expect(second.body.onWindows).toEqual([
        { from: '2026-06-02T13:00:00.000Z', to: '2026-06-02T18:00:00.000Z' },
      ]);
      // The instance is reserved, not its environment.
      const lab = await call('viewer', 'GET', '/api/v1/environments/lab');
      expect(lab.body).toMatchObject({ desired: 'off', next: null });
      expect(lab.body.reservations).toEqual([
        expect.objectContaining({ resource: 'aws:ec2:eu-west-3:1:i-0abc' }),
        expect.objectContaining({ resource: 'aws:ec2:eu-west-3:1:i-0abc' }),
      ]);
    });

    it("finds the instance in an environment the caller may see, when another team's has the same id", async () => {
      const { call } = await setup();
      const instance = (account: string) => ({
        id: `aws:ec2:eu-west-3:${account}:i-0abc`,
        provider: 'aws',
        kind: 'ec2',
        name: 'box',
        tags: {},
      });
      // Search's instance first in the table, so a first-match lookup would find it.
      await store!.db.deleteFrom('resources').execute();
      await store!.upsertResources('qa', [instance('2')], at('2026-06-01T12:00Z'));
      await store!.upsertResources('lab', [instance('1')], at('2026-06-01T12:00Z'));
      const answer = await call('payments-op', 'POST', '/provision', {
        ec2_instances_id: 'i-0abc',
        start_time: '2026-06-02T15:00:00',
        end_time: '2026-06-02T18:00:00',
      });
      expect(answer.body).toMatchObject({
        environment: 'lab',
        resource: 'aws:ec2:eu-west-3:1:i-0abc',
      });
    });

    it.each(['i-0nope', 'i-0ABC', 'i-0%', '%', '0abc', 'i_0abc'])(
      'refuses an instance no environment manages (%s), naming the field',
      async (instance) => {
        const { call } = await setup();
        const answer = await call('payments-op', 'POST', '/provision', {
          ec2_instances_id: instance,
          start_time: '2026-06-02T15:00:00',
          end_time: '2026-06-02T18:00:00',
        });
        expect(answer.status).toBe(404);
        expect(answer.body).toMatchObject({ field: 'ec2_instances_id' });
      },
    );
  });
});

/**
 * GET /api/v1/environments/:name/timeline on SQLite and PostgreSQL: whole days in
 * the environment's zone (23 hours on the day Paris moves to summer time), the
 * schedule, reservations and holds with the desired state they make together,
 * what really happened from the power ledger, the runs; team scoping and bad input.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import { WebSessions } from '../../src/api/session.js';
import { localDays } from '../../src/api/timeline-routes.js';
import { newToken } from '../../src/api/tokens.js';
import type { Environment } from '../../src/core/glossary.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { Store } from '../../src/store/store.js';
import { periodSchedule } from '../core/build.js';
import { at, fortnight } from '../support/fortnight.js';
import { DATABASES } from '../store/databases.js';

const officeHours = {
  ...periodSchedule('Europe/Paris', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};
const environments: Environment[] = [
  { name: 'dev', timezone: 'Europe/Paris', schedule: 'office-hours', team: 'payments' },
  { name: 'qa', timezone: 'Europe/Paris', schedule: 'office-hours', team: 'search' },
];
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Span {
  from: string;
  to: string;
}
interface Timeline {
  timezone: string;
  days: { date: string; from: string; to: string }[];
  planned: {
    on: Span[];
    schedule: Span[];
    reservations: (Span & { id: string; actor: string })[];
    holds: { state: string; until: string }[];
  };
  actual: (Span & { state: string })[];
  runs: { id: string; direction: string; status: string; trigger: string }[];
}

describe.each(DATABASES)('the environment timeline on $name', (database) => {
  let store: Store | undefined;
  let http: FastifyInstance | undefined;
  afterEach(async () => {
    await http?.close();
    await store?.close();
  });

  // Wednesday 1 April 2026, 12:00 UTC: the fortnight's last stop was on Tuesday 31 March at 17:00 UTC.
  async function setup() {
    store = await database.open();
    const clock = new VirtualClock(at('2026-04-01T12:00Z'));
    const engine = new Engine({
      store,
      providers: new Map(),
      clock,
      notifier: { send: () => Promise.resolve() },
      log: quiet,
      schedules: new Map([['office-hours', officeHours]]),
      environments,
    });
    await store.appendEvents(
      fortnight.map((e) => ({ ...e, actor: 'lightsout', environment: 'dev' })),
    );
    http = Fastify(API_SERVER_OPTIONS);
    await serveApi(http, {
      store,
      engine,
      environments,
      schedules: new Map([['office-hours', officeHours]]),
      now: () => clock.now(),
      sessions: new WebSessions(),
    });
    const tokens = new Map<string, string>();
    for (const [name, role, team] of [
      ['admin', 'admin', undefined],
      ['search', 'operator', 'search'],
    ] as const) {
      const { token, hash } = newToken();
      await store.addToken({ id: name, name, role, team, hash }, clock.now());
      tokens.set(name, token);
    }
    const get = async (who: string, url: string) => {
      const response = await http!.inject({
        url,
        headers: { authorization: `Bearer ${tokens.get(who)!}` },
      });
      return { status: response.statusCode, body: response.json<Timeline & { detail: string }>() };
    };
    const post = (url: string, payload: unknown) =>
      http!.inject({
        method: 'POST',
        url,
        payload: payload as object,
        headers: { authorization: `Bearer ${tokens.get('admin')!}` },
      });
    return { get, post };
  }

  it('answers whole days in its zone: 23 hours on the day the clocks go forward', async () => {
    const { get } = await setup();
    const { status, body } = await get(
      'admin',
      '/api/v1/environments/dev/timeline?from=2026-03-28&days=3',
    );
    expect(status).toBe(200);
    expect(body.timezone).toBe('Europe/Paris');
    expect(body.days).toEqual([
      { date: '2026-03-28', from: '2026-03-27T23:00:00.000Z', to: '2026-03-28T23:00:00.000Z' },
      { date: '2026-03-29', from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' },
      { date: '2026-03-30', from: '2026-03-29T22:00:00.000Z', to: '2026-03-30T22:00:00.000Z' },
    ]);
    // Monday's office hours, 08:00 to 18:00 in Paris (summer time now).
    expect(body.planned.schedule).toEqual([
      { from: '2026-03-30T06:00:00.000Z', to: '2026-03-30T16:00:00.000Z' },
    ]);
    expect(body.planned.on).toEqual(body.planned.schedule);
  });

  it('draws what really happened from the ledger: off, partly on while one machine ran', async () => {
    const { get } = await setup();
    const { body } = await get('admin', '/api/v1/environments/dev/timeline?from=2026-03-28&days=3');
    // Off since Friday 18:00 UTC; the web server started by hand Saturday 10:00; all on Monday 06:00.
    expect(body.actual).toEqual([
      { from: '2026-03-27T23:00:00.000Z', to: '2026-03-28T10:00:00.000Z', state: 'off' },
      { from: '2026-03-28T10:00:00.000Z', to: '2026-03-30T06:00:00.000Z', state: 'partial' },
      { from: '2026-03-30T06:00:00.000Z', to: '2026-03-30T17:00:00.000Z', state: 'on' },
      { from: '2026-03-30T17:00:00.000Z', to: '2026-03-30T22:00:00.000Z', state: 'off' },
    ]);
  });

  it('stops what really happened at now; shows runs, reservations and holds with the plan they make', async () => {
    const { get, post } = await setup();
    const reserved = await post('/api/v1/reservations', {
      environment: 'dev',
      from: '2026-04-01T20:00',
      to: '2026-04-01T22:00',
      timezone: 'Europe/Paris',
    });
    expect(reserved.statusCode).toBe(201);
    const held = await post('/api/v1/holds', {
      environment: 'dev',
      state: 'off',
      from: '2026-04-02T00:00Z',
      until: '2026-04-03T00:00Z',
    });
    expect(held.statusCode).toBe(201);
    const { body } = await get('admin', '/api/v1/environments/dev/timeline?from=2026-04-01&days=3');
    expect(body.actual.at(-1)!.to).toBe('2026-04-01T12:00:00.000Z');
    expect(body.planned.reservations).toMatchObject([
      { from: '2026-04-01T18:00:00.000Z', to: '2026-04-01T20:00:00.000Z' },
    ]);
    expect(body.planned.holds).toMatchObject([{ state: 'off', until: '2026-04-03T00:00:00.000Z' }]);
    // Wednesday: office hours and the evening reservation; Thursday held off; Friday office hours.
    expect(body.planned.on).toEqual([
      { from: '2026-04-01T06:00:00.000Z', to: '2026-04-01T16:00:00.000Z' },
      { from: '2026-04-01T18:00:00.000Z', to: '2026-04-01T20:00:00.000Z' },
      { from: '2026-04-03T06:00:00.000Z', to: '2026-04-03T16:00:00.000Z' },
    ]);
    expect(body.runs).toEqual([]);
    expect((await post('/api/v1/environments/qa/stop', { grace: '1h' })).statusCode).toBe(202);
    const qa = await get('admin', '/api/v1/environments/qa/timeline');
    expect(qa.body.runs).toMatchObject([{ direction: 'stop', status: 'grace', trigger: 'adhoc' }]);
  });

  it("never shows another team's environment, and names the field of bad input", async () => {
    const { get } = await setup();
    expect((await get('search', '/api/v1/environments/dev/timeline')).status).toBe(404);
    expect((await get('search', '/api/v1/environments/qa/timeline')).status).toBe(200);
    const bad = await get('admin', '/api/v1/environments/dev/timeline?from=2026-02-30');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/from/);
    expect((await get('admin', '/api/v1/environments/dev/timeline?days=32')).status).toBe(400);
    expect((await get('admin', '/api/v1/environments/dev/timeline?from=tuesday')).status).toBe(400);
  });
});

describe('the days of a timeline', () => {
  it("begin at each day's own start where midnight does not exist (Santiago, 6 September 2026)", () => {
    const first = DateTime.fromISO('2026-09-05', { zone: 'America/Santiago' }).startOf('day');
    const days = localDays(first, 3).map((d) => ({
      date: d.date,
      from: new Date(d.start).toISOString(),
      hours: (d.end - d.start) / 3_600_000,
    }));
    expect(days).toEqual([
      { date: '2026-09-05', from: '2026-09-05T04:00:00.000Z', hours: 24 },
      // Midnight is skipped: the day begins at 01:00 (-03) and lasts 23 hours.
      { date: '2026-09-06', from: '2026-09-06T04:00:00.000Z', hours: 23 },
      { date: '2026-09-07', from: '2026-09-07T03:00:00.000Z', hours: 24 },
    ]);
  });
});

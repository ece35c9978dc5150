/**
 * GET /api/v1/savings/projection on every database: what the plan would save
 * over a week to come, now and with a proposed schedule (a schedule of the config,
 * office hours, or cron expressions), team-scoped like every route, and its
 * refusals naming the query parameter at fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '../../src/api/tokens.js';
import { DATABASES } from '../store/databases.js';
import type { ServedApi } from './server.js';
import { serveOn } from './server.js';

/** Monday 1 June 2026 to the next Monday, midnight in Paris: 168 hours. */
const WEEK = 'from=2026-05-31T22:00Z&to=2026-06-07T22:00Z';
const DEV_BOX = 'aws:ec2:us-east-1:123456789012:i-0dev';

interface Figures {
  hoursOff: number;
  resourceHoursSaved: number;
  money: number;
  kwh: number;
  kgCo2e: number;
  resources: number;
  unpriced: number;
}
interface Line {
  environment: string;
  team: string | null;
  timezone: string;
  schedule: { name: string; text: string } | null;
  current: Figures;
  proposed: Figures | null;
}
interface Projection {
  from: string;
  to: string;
  currency: string;
  proposed: { name: string | null; text: string } | null;
  environments: Line[];
  totals: { current: Figures; proposed: Figures | null };
  schedules: { name: string; text: string }[];
}

describe.each(DATABASES)('GET /api/v1/savings/projection on $name', (database) => {
  let api: ServedApi;
  let paymentsViewer: string;
  const get = async (who: string | undefined, query: string) =>
    api.call(who, 'GET', `/api/v1/savings/projection?${query}`);
  const projection = async (who: string, query: string): Promise<Projection> => {
    const answer = await get(who, query);
    expect(answer.status, answer.text).toBe(200);
    return answer.body as unknown as Projection;
  };
  const dev = (p: Projection) => p.environments.find((e) => e.environment === 'dev')!;

  beforeAll(async () => {
    api = await serveOn(database);
    // dev (office hours 08:00-18:00 Paris, Monday to Friday) manages one priced instance.
    await api.store.upsertResources(
      'dev',
      [
        {
          id: DEV_BOX,
          provider: 'aws',
          kind: 'ec2',
          name: 'dev-box',
          tags: {},
          size: { type: 't3.medium' },
        },
      ],
      api.clock.now(),
    );
    const { token, hash } = newToken();
    await api.store.addToken(
      { id: 'payments-viewer', name: 'payments viewer', role: 'viewer', team: 'payments', hash },
      api.clock.now(),
    );
    paymentsViewer = token;
  }, 60_000);
  afterAll(async () => {
    await api.close();
  });

  it("answers the plan's savings now, with the schedules one may propose, and no proposal", async () => {
    const p = await projection('viewer', WEEK);
    expect(p).toMatchObject({
      from: '2026-05-31T22:00:00.000Z',
      to: '2026-06-07T22:00:00.000Z',
      currency: 'USD',
      proposed: null,
      totals: { proposed: null },
    });
    expect(p.environments.map((e) => e.environment)).toEqual(['dev', 'lab', 'long']);
    // On 5 x 10 hours of 168: off 118 hours, and so its one instance.
    expect(dev(p)).toMatchObject({
      team: 'payments',
      timezone: 'Europe/Paris',
      schedule: { name: 'office-hours' },
      current: { hoursOff: 118, resourceHoursSaved: 118, resources: 1, unpriced: 0 },
      proposed: null,
    });
    expect(dev(p).current.money).toBeGreaterThan(0);
    expect(p.schedules.map((s) => s.name)).toEqual(['office-hours', 'business-days']);
    expect(p.schedules[0]!.text).toMatch(/08:00–18:00.*\(Europe\/Paris\)/);
  });

  it('projects a schedule of the config by name: 6:00 to 20:00 on weekdays saves less', async () => {
    const p = await projection('viewer', `${WEEK}&environment=dev&schedule=business-days`);
    expect(p.proposed).toMatchObject({ name: 'business-days' });
    expect(p.environments).toHaveLength(1);
    const line = dev(p);
    expect(line.current.hoursOff).toBe(118);
    expect(line.proposed).toMatchObject({ hoursOff: 98, resourceHoursSaved: 98 });
    // Money follows the hours: the same price per hour.
    expect(line.proposed!.money / line.current.money).toBeCloseTo(98 / 118, 10);
    expect(p.totals.proposed!.money).toBeCloseTo(line.proposed!.money, 10);
  });

  it("projects office hours read as the config reads them, in each environment's zone", async () => {
    const p = await projection(
      'viewer',
      `${WEEK}&environment=dev&days=mon-fri&start=07:00&stop=19:00`,
    );
    expect(p.proposed).toEqual({
      name: null,
      text: "on 07:00–19:00, Monday through Friday (each environment's zone)",
    });
    expect(dev(p).proposed!.hoursOff).toBe(108);
    // A zone of its own: weekend afternoons in UTC, 16 hours on.
    const utc = await projection(
      'viewer',
      `${WEEK}&environment=dev&days=sat,sun&start=10:00&stop=14:00&timezone=UTC`,
    );
    expect(utc.proposed!.text).toMatch(/^on 10:00–14:00, only on .*Saturday.* \(UTC\)$/);
    expect(dev(utc).proposed!.hoursOff).toBe(160);
  });

  it('projects start and stop expressions', async () => {
    const start = encodeURIComponent('cron(0 9 ? * MON-FRI *)');
    const stop = encodeURIComponent('0 17 * * 1-5');
    const p = await projection('viewer', `${WEEK}&environment=dev&start=${start}&stop=${stop}`);
    expect(dev(p).proposed!.hoursOff).toBe(168 - 40);
  });

  it("shows a team's token its team's environments only, and the others as unknown", async () => {
    const p = await projection(paymentsViewer, `${WEEK}&schedule=office-hours`);
    expect(p.environments.map((e) => e.environment)).toEqual(['dev', 'lab']);
    expect(JSON.stringify(p)).not.toContain('"long"');
    const other = await get(paymentsViewer, `${WEEK}&environment=long`);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ field: 'environment' });
    expect(String(other.body!.type)).toMatch(/unknown-environment$/);
    const team = await get(paymentsViewer, 'team=search');
    expect(team.status).toBe(404);
    expect(String(team.body!.type)).toMatch(/unknown-team$/);
  });

  it('refuses a request without a token', async () => {
    expect((await get(undefined, WEEK)).status).toBe(401);
  });

  const refusals: [string, string, number, string, string, RegExp][] = [
    ['an unknown schedule', 'schedule=nope', 404, 'unknown-schedule', 'schedule', /"office-hours"/],
    [
      'a schedule and office hours both',
      'schedule=office-hours&days=mon-fri&start=07:00&stop=19:00',
      400,
      'invalid-query',
      'schedule',
      /not both/,
    ],
    [
      'a time of day that is not one',
      'days=mon-fri&start=25:00&stop=19:00',
      400,
      'invalid-query',
      'start',
      /25:00/,
    ],
    [
      'office hours without their stop',
      'days=mon-fri&start=07:00',
      400,
      'invalid-query',
      'stop',
      /missing/,
    ],
    [
      'days that are not days',
      'days=someday&start=07:00&stop=19:00',
      400,
      'invalid-query',
      'days',
      /someday/,
    ],
    [
      'times without days, which are no expressions',
      'start=07:00&stop=19:00',
      400,
      'invalid-query',
      'start',
      /07:00/,
    ],
    [
      'an unknown zone',
      'days=mon-fri&start=07:00&stop=19:00&timezone=Mars/Olympus',
      400,
      'invalid-query',
      'timezone',
      /IANA/,
    ],
    [
      'a zone for a schedule of the config',
      'schedule=office-hours&timezone=UTC',
      400,
      'invalid-query',
      'timezone',
      /own zone/,
    ],
    [
      'a window that ends before it starts',
      'from=2026-06-08T00:00Z&to=2026-06-01T00:00Z',
      422,
      'invalid-window',
      'to',
      /not after/,
    ],
    [
      'a window over 400 days',
      'from=2026-06-01T00:00Z&to=2027-07-07T00:00Z',
      422,
      'window-too-long',
      'to',
      /400d/,
    ],
    [
      'a window at the end of time (year 9999 took 14 s to plan)',
      'from=9999-12-31T23:59:59.999Z',
      422,
      'window-too-far',
      'from',
      /more than 5 years from now/,
    ],
    [
      'a window decades back',
      'from=1990-01-01T00:00Z&to=1990-01-31T00:00Z',
      422,
      'window-too-far',
      'from',
      /more than 5 years from now/,
    ],
    ['an unknown parameter', 'by=week', 400, 'invalid-query', 'by', /unknown parameter/],
    [
      'a start that fires every minute (the planner would compute half a million firings a year)',
      `start=${encodeURIComponent('* * * * *')}&stop=${encodeURIComponent('0 19 * * *')}&from=2026-06-01T00:00Z&to=2027-06-01T00:00Z`,
      400,
      'invalid-query',
      'start',
      /fires more than 96 times a day/,
    ],
    [
      'a stop that fires every minute of the first of the month',
      `start=${encodeURIComponent('0 7 * * *')}&stop=${encodeURIComponent('cron(* * 1 * ? *)')}`,
      400,
      'invalid-query',
      'stop',
      /fires more than 96 times a day/,
    ],
  ];
  for (const [what, query, status, type, field, detail] of refusals)
    it(`refuses ${what}, naming ${field}`, async () => {
      const answer = await get('viewer', query);
      expect(answer.status, answer.text).toBe(status);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ status, field });
      expect(String(answer.body!.type)).toMatch(new RegExp(`/${type}$`));
      expect(String(answer.body!.detail)).toMatch(detail);
    });
});

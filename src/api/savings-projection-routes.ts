/**
 * `GET /api/v1/savings/projection`: what the plan would save over a window to
 * come (hours off, resource hours, money, energy and carbon), per environment the
 * caller may see, now and with a proposed schedule: a schedule of the config by
 * name, office hours (`days`, `start`, `stop`) or start and stop expressions,
 * read by the config's own schedule schema. The API's face of `lightsout plan
 * --savings --proposed`, through the same projection (src/savings/projection.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Environment, Schedule } from '../core/glossary.js';
import { describeSchedule } from '../core/describe.js';
import { firesMoreThan } from '../core/expressions.js';
import type { Fleet } from '../core/planner.js';
import { schedule as scheduleDocument } from '../config/schema.js';
import type { ProjectedSavings } from '../savings/projection.js';
import { projectSavings } from '../savings/projection.js';
import type { PricedResource } from '../savings/rates.js';
import type { ApiContext } from './context.js';
import { DAY, iso, parseQuery, timeOf } from './context.js';
import { Problem } from './problems.js';
import { checkSavingsWindow, environmentsAsked } from './savings-scope.js';
import { savingsProjectionQuery } from './queries.js';

/** How far from now a projection may lie: beyond, prices and schedules mean nothing. */
const NEAR_NOW_MS = 5 * 366 * DAY;

/**
 * A projection within 5 years of now, either side: the planner takes seconds on
 * the far past and future (a window in year 9999 took 14 s, found by the fuzzer).
 */
function checkNearNow(from: number, to: number, now: number): void {
  if (from >= now - NEAR_NOW_MS && to <= now + NEAR_NOW_MS) return;
  throw new Problem(
    422,
    'window-too-far',
    'Window too far from now',
    `from ${iso(from)} to ${iso(to)} lies more than 5 years from now; project a window closer to now`,
    'from',
  );
}

/** Every 15 minutes, at most: more is no schedule anyone would run an environment on. */
const MAX_PROPOSED_FIRINGS_A_DAY = 96;

/** The CLI's default window too (`lightsout plan --savings`). */
const DEFAULT_SPAN = 30 * DAY;

type Query = ReturnType<typeof savingsProjectionQuery.parse>;

/** A projection without its environment's name and team, which the answer gives once. */
type Figures = Omit<ProjectedSavings, 'environment' | 'team'>;

export function registerSavingsProjection(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/savings/projection',
    async (request) => {
      const principal = await context.caller(request);
      const query = parseQuery(savingsProjectionQuery, request.query);
      const environments = environmentsAsked(context, principal, query);
      const from = query.from === undefined ? deps.now() : timeOf(query.from, 'UTC', 'from');
      const to = query.to === undefined ? from + DEFAULT_SPAN : timeOf(query.to, 'UTC', 'to');
      checkSavingsWindow(from, to, 'to');
      checkNearNow(from, to, deps.now());
      const proposal = proposalOf(query, deps.schedules);
      const window = { start: from, end: to };
      const fleet = await deps.engine.fleetFor(environments, from, to);
      const inventory = new Map<string, PricedResource[]>();
      for (const r of await deps.store.listResources(query.environment))
        if (r.environment !== null)
          inventory.set(r.environment, [...(inventory.get(r.environment) ?? []), r]);
      const current = projectSavings(fleet, window, environments, inventory);
      const proposed =
        proposal === undefined
          ? undefined
          : projectSavings(
              proposedFleet(fleet, environments, proposal),
              window,
              environments.map((e) => ({ ...e, schedule: proposal.scheduleFor(e).name })),
              inventory,
            );
      const described = (name: string | undefined) => {
        const schedule = name === undefined ? undefined : deps.schedules.get(name);
        return schedule === undefined
          ? null
          : { name: schedule.name, text: describeSchedule(schedule) };
      };
      return {
        from: iso(from),
        to: iso(to),
        currency: 'USD',
        proposed: proposal === undefined ? null : { name: proposal.name, text: proposal.text },
        environments: environments.map((e, k) => ({
          environment: e.name,
          team: e.team ?? null,
          timezone: e.timezone,
          schedule: described(e.schedule),
          current: figuresOf(current[k]!),
          proposed: proposed === undefined ? null : figuresOf(proposed[k]!),
        })),
        totals: {
          current: total(current),
          proposed: proposed === undefined ? null : total(proposed),
        },
        // What may be proposed by name.
        schedules: [...deps.schedules.values()].map((s) => ({
          name: s.name,
          text: describeSchedule(s),
        })),
        notes: [
          'Projected from the plan (schedules, reservations and holds), not measured; resource hours, money and carbon count the resources lightsout has discovered.',
          'Money is list price x resource hours saved, for priced resources only (USD); energy and carbon are estimates.',
        ],
      };
    },
  );
}

interface Proposal {
  /** The config's schedule's name; null for one given in the query. */
  readonly name: string | null;
  readonly text: string;
  readonly scheduleFor: (environment: Environment) => Schedule;
}

/** The proposed schedule of the query, if it proposes one; 4xx naming the field otherwise. */
function proposalOf(query: Query, schedules: ReadonlyMap<string, Schedule>): Proposal | undefined {
  const custom = query.days !== undefined || query.start !== undefined || query.stop !== undefined;
  if (query.schedule !== undefined) {
    if (custom)
      throw new Problem(
        400,
        'invalid-query',
        'Invalid query parameter',
        `schedule: give a schedule of the config by name, or days, start and stop, not both`,
        'schedule',
      );
    if (query.timezone !== undefined)
      throw new Problem(
        400,
        'invalid-query',
        'Invalid query parameter',
        `timezone: a schedule of the config has its own zone; give timezone with days, start and stop`,
        'timezone',
      );
    const named = schedules.get(query.schedule);
    if (named === undefined)
      throw new Problem(
        404,
        'unknown-schedule',
        'Unknown schedule',
        `there is no schedule "${query.schedule}"; the config has ${[...schedules.keys()].map((s) => `"${s}"`).join(', ') || 'none'}`,
        'schedule',
      );
    return { name: named.name, text: describeSchedule(named), scheduleFor: () => named };
  }
  if (!custom) {
    if (query.timezone !== undefined)
      throw new Problem(
        400,
        'invalid-query',
        'Invalid query parameter',
        `timezone: it is the zone of a proposed schedule; give days, start and stop with it`,
        'timezone',
      );
    return undefined;
  }
  // Read as the config reads a schedule: office hours are one period, else start
  // and stop are expressions (cron, EventBridge cron()/rate()/at()).
  const document =
    query.days !== undefined
      ? { periods: [{ days: query.days, start: query.start, stop: query.stop }] }
      : { start: query.start, stop: query.stop };
  const parsed = scheduleDocument.safeParse({
    ...document,
    ...(query.timezone === undefined ? {} : { timezone: query.timezone }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // periods.0.start → start: the query's own name for the field.
    const field = String(issue.path.at(-1) ?? (query.start === undefined ? 'start' : 'stop'));
    const missing = query[field as keyof Query] === undefined;
    throw new Problem(
      400,
      'invalid-query',
      'Invalid query parameter',
      missing
        ? `${field}: missing; give days, start and stop (e.g. days=mon-fri&start=07:00&stop=19:00), or start and stop expressions`
        : `${field}: ${issue.message}`,
      field,
    );
  }
  const s = parsed.data;
  // A proposal comes from any viewer: one that fires every minute would have the
  // planner compute half a million firings a year, on the event loop.
  for (const field of ['start', 'stop'] as const) {
    const expression = s[field];
    if (expression !== undefined && firesMoreThan(expression, MAX_PROPOSED_FIRINGS_A_DAY))
      throw new Problem(
        400,
        'invalid-query',
        'Invalid query parameter',
        `${field}: ${expression.source} fires more than ${MAX_PROPOSED_FIRINGS_A_DAY} times a day; a proposed schedule's ${field} fires at most every 15 minutes`,
        field,
      );
  }
  const rule =
    s.periods !== undefined
      ? { kind: 'periods' as const, periods: s.periods }
      : { kind: 'expressions' as const, start: s.start!, stop: s.stop! };
  // Without a zone, in each environment's own: "07:00" where the environment is.
  const byZone = new Map<string, Schedule>();
  const scheduleFor = (environment: Environment): Schedule => {
    const timezone = s.timezone ?? environment.timezone;
    let schedule = byZone.get(timezone);
    if (schedule === undefined) {
      schedule = {
        name: `proposed (${timezone})`,
        timezone,
        rule,
        except: s.except ?? { dates: [], holidays: [] },
      };
      byZone.set(timezone, schedule);
    }
    return schedule;
  };
  const sample = scheduleFor({ name: '', timezone: s.timezone ?? 'UTC' });
  const text =
    s.timezone === undefined
      ? describeSchedule(sample).replace(/\(UTC\)$/, "(each environment's zone)")
      : describeSchedule(sample);
  return { name: null, text, scheduleFor };
}

/** The fleet with every environment on the proposed schedule (reservations and holds kept). */
function proposedFleet(
  fleet: Fleet,
  environments: readonly Environment[],
  proposal: Proposal,
): Fleet {
  const schedules = new Map(fleet.schedules);
  for (const e of environments) {
    const schedule = proposal.scheduleFor(e);
    schedules.set(schedule.name, schedule);
  }
  return {
    ...fleet,
    schedules,
    environments: fleet.environments.map((e) => ({ ...e, schedule: proposal.scheduleFor(e).name })),
  };
}

function figuresOf(p: ProjectedSavings): Figures {
  return {
    hoursOff: p.hoursOff,
    resourceHoursSaved: p.resourceHoursSaved,
    money: p.money,
    kwh: p.kwh,
    kgCo2e: p.kgCo2e,
    resources: p.resources,
    unpriced: p.unpriced,
  };
}

function total(projections: readonly ProjectedSavings[]): Figures {
  const sum = {
    hoursOff: 0,
    resourceHoursSaved: 0,
    money: 0,
    kwh: 0,
    kgCo2e: 0,
    resources: 0,
    unpriced: 0,
  };
  for (const p of projections)
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += p[key];
  return sum;
}

/**
 * `GET /api/v1/environments/:name/timeline`: one environment's days, for the
 * dashboard's week view. What was and is planned (the schedule, reservations,
 * holds and the desired state they make together), what really happened (on,
 * off or partly on, from the power ledger), and the runs, over whole days in
 * the environment's zone (a day may be 23 or 25 hours long).
 */
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import type { Interval } from '../core/glossary.js';
import { powerBands } from '../core/power-bands.js';
import { planFleet } from '../core/planner.js';
import { scheduleOnIntervals } from '../core/schedule.js';
import type { ApiContext } from './context.js';
import { iso, parseQuery } from './context.js';
import { Problem } from './problems.js';
import { timelineQuery } from './queries.js';

/** Runs answered per window: a week of a busy environment is a few dozen. */
const MAX_RUNS = 500;

export function registerTimeline(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  http.get<{
    Params: { name: string };
    Querystring: Record<string, string | string[] | undefined>;
  }>('/api/v1/environments/:name/timeline', async (request) => {
    const principal = await context.caller(request);
    const environment = context.visible(principal, request.params.name);
    const query = parseQuery(timelineQuery, request.query);
    const now = deps.now();
    const zone = environment.timezone;
    const first = firstDay(query.from, now, zone);
    const days = localDays(first, query.days);
    const window = { start: days[0]!.start, end: days.at(-1)!.end };
    const names = [environment.name];
    const [fleet, reservations, holds, runs, inventory, off] = await Promise.all([
      deps.engine.fleetFor([environment], window.start, window.end),
      deps.store.listReservations({ environments: names, from: window.start, to: window.end }),
      deps.store.listHolds(names, window.start),
      deps.store.listRuns({
        environment: environment.name,
        createdFrom: window.start,
        createdTo: window.end,
        limit: MAX_RUNS,
      }),
      deps.store.listResources(environment.name),
      deps.store.offIntervalsIn(names, window),
    ]);
    const timeline = planFleet(fleet, window).get(environment.name)!;
    const schedule =
      environment.schedule === undefined ? undefined : deps.schedules.get(environment.schedule);
    const resources = new Set([...inventory.map((r) => r.id), ...off.map((u) => u.resource)]);
    const span = (i: Interval) => ({ from: iso(i.start), to: iso(i.end) });
    return {
      environment: environment.name,
      timezone: zone,
      now: iso(now),
      days: days.map((d) => ({ date: d.date, from: iso(d.start), to: iso(d.end) })),
      planned: {
        on: timeline.on.map(span),
        schedule: schedule === undefined ? [] : scheduleOnIntervals(schedule, window).map(span),
        reservations: reservations.map((r) => ({
          id: r.id,
          from: iso(r.from),
          to: iso(r.to),
          actor: r.actor,
          source: r.source,
          ...(r.resource === null ? {} : { resource: r.resource }),
          ...(r.note === null ? {} : { note: r.note }),
        })),
        holds: holds
          .filter((h) => (h.from ?? Number.NEGATIVE_INFINITY) < window.end)
          .map((h) => ({
            id: h.id,
            state: h.state,
            ...(h.from === undefined ? {} : { from: iso(h.from) }),
            until: iso(h.until),
            actor: h.actor,
          })),
      },
      actual: powerBands(
        resources.size,
        off.map((u) => u.off),
        { start: window.start, end: Math.min(window.end, now) },
      ).map((b) => ({ ...span(b), state: b.state })),
      runs: runs.map((r) => ({
        id: r.id,
        direction: r.direction,
        trigger: r.trigger,
        status: r.status,
        actor: r.actor,
        createdAt: iso(r.created_at),
        actAt: iso(r.act_at),
        ...(r.finished_at === null ? {} : { finishedAt: iso(r.finished_at) }),
      })),
    };
  });
}

/** The first day shown: the given date, or yesterday, at midnight in the environment's zone. */
function firstDay(date: string | undefined, now: number, zone: string): DateTime {
  if (date === undefined)
    return DateTime.fromMillis(now, { zone }).startOf('day').minus({ days: 1 });
  const day = DateTime.fromISO(date, { zone });
  if (!day.isValid)
    throw new Problem(
      400,
      'invalid-time',
      'Invalid time',
      `from: "${date}" is not a date such as 2026-12-01`,
      'from',
    );
  return day.startOf('day');
}

/**
 * `count` days from `first`, each from its own start to the next day's, in the
 * zone of `first`. Each start is found again: where a day's midnight does not
 * exist (America/Santiago moves to summer time at midnight), it begins at 01:00,
 * and the next day must still begin at its own midnight.
 */
export function localDays(
  first: DateTime,
  count: number,
): { date: string; start: number; end: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const day = first.plus({ days: i }).startOf('day');
    return {
      date: day.toISODate()!,
      start: day.toMillis(),
      end: day.plus({ days: 1 }).startOf('day').toMillis(),
    };
  });
}

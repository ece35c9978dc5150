/**
 * Reading the plan: the fleet (config plus the store's reservations and holds
 * touching a window) and the timelines the pure planner makes of it.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { Fleet, Timeline } from '../core/planner.js';
import { planFleet } from '../core/planner.js';
import type { Store } from '../store/store.js';
import type { EngineContext } from './context.js';
import { CommandError, HOUR } from './context.js';

/**
 * The fleet for planning `environments` (default: all) over [from, until): only
 * the reservations and holds that touch that window.
 */
export async function fleetFor(
  ctx: EngineContext,
  from: Instant,
  until: Instant,
  environments?: readonly Environment[],
  store: Store = ctx.store,
): Promise<Fleet> {
  const { reservations, holds } = await store.activePlans(from, {
    until,
    ...(environments === undefined ? {} : { environments: environments.map((e) => e.name) }),
  });
  return {
    schedules: ctx.schedules,
    environments: environments ?? [...ctx.environments.values()],
    reservations,
    holds,
  };
}

/** One environment's timeline over [from, until). */
export async function timelineOf(
  ctx: EngineContext,
  environment: Environment,
  from: Instant,
  until: Instant,
  /** A hold not stored yet (a command's), planned as if it were. */
  extraHold?: { state: 'on' | 'off'; from: Instant; until: Instant },
): Promise<Timeline> {
  const fleet = await fleetFor(ctx, from, until, [environment]);
  const holds =
    extraHold === undefined
      ? fleet.holds
      : [...fleet.holds, { environment: environment.name, ...extraHold }];
  return planFleet({ ...fleet, holds }, { start: from, end: until }).get(environment.name)!;
}

/** The next change of an environment's plan after `from`, within 14 days. */
export async function nextTransition(
  ctx: EngineContext,
  environment: Environment,
  from: Instant,
): Promise<Instant | undefined> {
  const window = { start: from, end: from + 14 * 24 * HOUR };
  const fleet = await fleetFor(ctx, window.start, window.end, [environment]);
  return planFleet(fleet, window).get(environment.name)!.plan().transitions[0]?.at;
}

/**
 * Until when cancelling a stop keeps its environment on, unless the canceller
 * says: the schedule's next stop after the cancelled one, so a daytime stop
 * called off still ends the day as the schedule says, and a cancelled evening
 * stop keeps it on until tomorrow evening's (the schedule wants it on in between
 * anyway); an hour past the cancelled stop when the schedule has none within
 * 14 days. The schedule alone: pure, so a stop warning can say it too.
 */
export function cancelKeepsOnUntil(
  ctx: Pick<EngineContext, 'schedules'>,
  environment: Environment,
  stopAt: Instant,
): Instant {
  return scheduledAfter(ctx, environment, stopAt, 'off') ?? stopAt + HOUR;
}

/** The schedule's next start after `at` (within 14 days): where "keep running until the next start" ends. */
export function nextScheduledStart(
  ctx: Pick<EngineContext, 'schedules'>,
  environment: Environment,
  at: Instant,
): Instant | undefined {
  return scheduledAfter(ctx, environment, at, 'on');
}

/** The schedule alone (no reservations, no holds): its first transition to `state` after `at`. */
function scheduledAfter(
  ctx: Pick<EngineContext, 'schedules'>,
  environment: Environment,
  at: Instant,
  state: 'on' | 'off',
): Instant | undefined {
  const window = { start: at, end: at + 14 * 24 * HOUR };
  const schedule = {
    schedules: ctx.schedules,
    environments: [environment],
    reservations: [],
    holds: [],
  };
  const plan = planFleet(schedule, window).get(environment.name)!.plan();
  return plan.transitions.find((t) => t.state === state && t.at > at)?.at;
}

export function environmentNamed(ctx: EngineContext, name: string): Environment {
  const environment = ctx.environments.get(name);
  if (environment === undefined) {
    throw new CommandError(
      `there is no environment "${name}"; known: ${[...ctx.environments.keys()].join(', ')}`,
    );
  }
  return environment;
}

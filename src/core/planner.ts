/**
 * Desired state and transitions of environments.
 *
 * Desired state at t: hold-off wins; otherwise on if a hold-on, a reservation or
 * the schedule says on; otherwise off. The planner computes it as intervals for a
 * whole window at once: each schedule is evaluated once however many environments
 * share it, and a {@link Timeline} answers "state at t" by binary search.
 */
import type {
  Environment,
  Hold,
  Instant,
  Interval,
  Plan,
  PowerState,
  Reservation,
  Schedule,
  Transition,
} from './glossary.js';
import { clip, covers, subtract, union, unionWith } from './intervals.js';
import { scheduleOnIntervals } from './schedule.js';

/** Everything the planner reads: the fleet's schedules, environments, reservations and holds. */
export interface Fleet {
  readonly schedules: ReadonlyMap<string, Schedule>;
  readonly environments: readonly Environment[];
  readonly reservations: readonly Reservation[];
  readonly holds: readonly Hold[];
}

/** A change of the desired state of some resources reserved alone, where the environment's does not change. */
export interface ResourceTransition extends Transition {
  readonly resources: readonly string[];
}

/**
 * The desired state of one environment across a window, and of the resources
 * reserved on their own: such a resource is on when the environment is, and
 * during its own reservations too (unless a hold keeps the environment off).
 */
export class Timeline {
  constructor(
    readonly window: Interval,
    /** Normalized on-intervals, clipped to the window. */
    readonly on: readonly Interval[],
    /** On-intervals of each resource reserved alone, normalized and clipped. */
    readonly resourceOn: ReadonlyMap<string, readonly Interval[]> = new Map(),
    /** Where a hold keeps the environment off, clipped: no early start begins inside one. */
    readonly heldOff: readonly Interval[] = [],
  ) {}

  /** Whether a hold keeps the environment off at `t`. */
  heldOffAt(t: Instant): boolean {
    return covers(this.heldOff, t);
  }

  /** The on-intervals of one resource: the environment's, unless it is reserved alone. */
  onOf(resource: string | undefined): readonly Interval[] {
    return (resource === undefined ? undefined : this.resourceOn.get(resource)) ?? this.on;
  }

  /** Resources reserved alone that should be on at `t` while the environment should be off. */
  keptOnAt(t: Instant): string[] {
    if (this.stateAt(t) === 'on') return [];
    return [...this.resourceOn].filter(([, on]) => covers(on, t)).map(([id]) => id);
  }

  /**
   * The changes of resources reserved alone that the environment does not make
   * itself, by instant and direction, in time order. A resource whose reservation
   * ends as the environment stops goes with the environment's stop.
   */
  resourceTransitions(): ResourceTransition[] {
    if (this.resourceOn.size === 0) return [];
    const own = new Set(this.plan().transitions.map((t) => `${t.at}:${t.state}`));
    const grouped = new Map<string, ResourceTransition>();
    for (const [resource, on] of this.resourceOn) {
      for (const t of new Timeline(this.window, on).plan().transitions) {
        const key = `${t.at}:${t.state}`;
        if (own.has(key)) continue;
        const group = grouped.get(key);
        grouped.set(key, { ...t, resources: [...(group?.resources ?? []), resource] });
      }
    }
    return [...grouped.values()].sort((a, b) => a.at - b.at || a.state.localeCompare(b.state));
  }

  /** Desired state at `t`, which must lie inside the window. */
  stateAt(t: Instant): PowerState {
    if (t < this.window.start || t >= this.window.end) {
      throw new RangeError(`instant ${new Date(t).toISOString()} is outside the planned window`);
    }
    return covers(this.on, t) ? 'on' : 'off';
  }

  plan(): Plan {
    const transitions: Transition[] = [];
    for (const { start, end } of this.on) {
      if (start > this.window.start) transitions.push({ at: start, state: 'on' });
      if (end < this.window.end) transitions.push({ at: end, state: 'off' });
    }
    return { window: this.window, initial: this.stateAt(this.window.start), transitions };
  }
}

/**
 * Timelines of the fleet's environments over `window` (all of them, or those named).
 * Schedules are evaluated once each.
 */
export function planFleet(
  fleet: Fleet,
  window: Interval,
  only?: ReadonlySet<string>,
): Map<string, Timeline> {
  const environments = fleet.environments.filter((e) => only === undefined || only.has(e.name));
  const scheduleOn = new Map<string, readonly Interval[]>();
  const reservations = groupByEnvironment(fleet.reservations);
  const holds = groupByEnvironment(fleet.holds);
  const timelines = new Map<string, Timeline>();
  for (const environment of environments) {
    let fromSchedule: readonly Interval[] = [];
    const scheduleName = environment.schedule;
    if (scheduleName !== undefined) {
      const schedule = fleet.schedules.get(scheduleName);
      if (schedule === undefined)
        throw new Error(
          `environment "${environment.name}" names unknown schedule "${scheduleName}"`,
        );
      fromSchedule = scheduleOn.get(scheduleName) ?? scheduleOnIntervals(schedule, window);
      scheduleOn.set(scheduleName, fromSchedule);
    }
    timelines.set(
      environment.name,
      environmentTimeline(
        window,
        fromSchedule,
        reservations.get(environment.name),
        holds.get(environment.name),
      ),
    );
  }
  return timelines;
}

/** Combines schedule, reservations and holds by the desired-state rule. */
export function environmentTimeline(
  window: Interval,
  scheduleOn: readonly Interval[],
  reservations: readonly Reservation[] = [],
  holds: readonly Hold[] = [],
): Timeline {
  const asInterval = (start: Instant, end: Instant): Interval => ({ start, end });
  const holdInterval = (h: Hold) => asInterval(h.from ?? Number.NEGATIVE_INFINITY, h.until);
  const whole = reservations.filter((r) => r.resource === undefined || r.resource === null);
  const on = unionWith(scheduleOn, [
    ...whole.map((r) => asInterval(r.from, r.to)),
    ...holds.filter((h) => h.state === 'on').map(holdInterval),
  ]);
  const off = union(holds.filter((h) => h.state === 'off').map(holdInterval));
  const alone = new Map<string, Interval[]>();
  for (const r of reservations) {
    if (r.resource === undefined || r.resource === null) continue;
    alone.set(r.resource, [...(alone.get(r.resource) ?? []), asInterval(r.from, r.to)]);
  }
  const resourceOn = new Map<string, readonly Interval[]>();
  for (const [resource, extra] of alone)
    resourceOn.set(resource, clip(subtract(unionWith(on, extra), off), window));
  return new Timeline(window, clip(subtract(on, off), window), resourceOn, clip(off, window));
}

/** Desired state of one environment at one instant. */
export function desiredStateAt(fleet: Fleet, environment: string, t: Instant): PowerState {
  const timeline = planFleet(fleet, { start: t, end: t + 1 }, new Set([environment])).get(
    environment,
  );
  if (timeline === undefined) throw new Error(`unknown environment "${environment}"`);
  return timeline.stateAt(t);
}

/** Items by their environment's name. */
export function groupByEnvironment<T extends { readonly environment: string }>(
  items: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.environment);
    if (group === undefined) groups.set(item.environment, [item]);
    else group.push(item);
  }
  return groups;
}

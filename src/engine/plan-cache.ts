/**
 * The reconciler's timelines, kept from pass to pass (issue 16: a pass plans only
 * what changed). An environment is planned PLAN_AHEAD_MS past the pass's window
 * and planned again only when its inputs changed (its schedule or definition, the
 * reservations and holds that touch the planned window) or the pass's window left
 * the planned one; otherwise its timeline is cut to the pass's window. Cutting is
 * exact: the planner clips to its window last (core/planner.ts), and a resource
 * counts as reserved alone only when its reservation touches the window, as when
 * planned for that window alone.
 */
import type { Environment, Hold, Interval, Reservation, Schedule } from '../core/glossary.js';
import { clip } from '../core/intervals.js';
import type { Fleet } from '../core/planner.js';
import { groupByEnvironment, planFleet, Timeline } from '../core/planner.js';

/** How far past the pass's window an environment is planned, so later passes reuse it. */
export const PLAN_AHEAD_MS = 60 * 60_000;

interface Entry {
  readonly environment: Environment;
  readonly schedule: Schedule | undefined;
  /** The reservations and holds it was planned with, as text (see inputsOf). */
  readonly inputs: string;
  readonly timeline: Timeline;
}

export class PlanCache {
  private readonly entries = new Map<string, Entry>();

  /** The window whose reservations and holds `timelines` needs: the pass's, PLAN_AHEAD_MS longer. */
  readWindow(window: Interval): Interval {
    return { start: window.start, end: window.end + PLAN_AHEAD_MS };
  }

  /**
   * Timelines of the fleet's environments over `window`, as planFleet makes them;
   * `fleet` holds the reservations and holds touching readWindow(window).
   */
  timelines(fleet: Fleet, window: Interval): Map<string, Timeline> {
    const reservations = groupByEnvironment(fleet.reservations);
    const holds = groupByEnvironment(fleet.holds);
    const timelines = new Map<string, Timeline>();
    const stale: Omit<Entry, 'timeline'>[] = [];
    for (const environment of fleet.environments) {
      const own = reservations.get(environment.name);
      const schedule =
        environment.schedule === undefined ? undefined : fleet.schedules.get(environment.schedule);
      const inputs = inputsOf(own, holds.get(environment.name));
      const cached = this.entries.get(environment.name);
      if (
        cached?.environment === environment &&
        cached.schedule === schedule &&
        cached.inputs === inputs &&
        contains(cached.timeline.window, window)
      )
        timelines.set(environment.name, cut(cached.timeline, window, own));
      else stale.push({ environment, schedule, inputs });
    }
    if (stale.length === 0) return timelines;
    const planned = planFleet(
      { ...fleet, environments: stale.map((s) => s.environment) },
      this.readWindow(window),
    );
    for (const entry of stale) {
      const { name } = entry.environment;
      const timeline = planned.get(name)!;
      this.entries.set(name, { ...entry, timeline });
      timelines.set(name, cut(timeline, window, reservations.get(name)));
    }
    // In the fleet's order, as planFleet gives them.
    return new Map(fleet.environments.map((e) => [e.name, timelines.get(e.name)!]));
  }
}

function contains(outer: Interval, inner: Interval): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** The timeline over `window` only: its intervals clipped, and only resources reserved alone within it. */
function cut(
  timeline: Timeline,
  window: Interval,
  reservations: readonly Reservation[] = [],
): Timeline {
  if (timeline.resourceOn.size === 0)
    return new Timeline(
      window,
      clip(timeline.on, window),
      timeline.resourceOn,
      clip(timeline.heldOff, window),
    );
  const alone = new Set(
    reservations
      .filter((r) => r.resource != null && r.to > window.start && r.from < window.end)
      .map((r) => r.resource!),
  );
  const resourceOn = new Map(
    [...timeline.resourceOn]
      .filter(([resource]) => alone.has(resource))
      .map(([resource, on]) => [resource, clip(on, window)] as const),
  );
  return new Timeline(
    window,
    clip(timeline.on, window),
    resourceOn,
    clip(timeline.heldOff, window),
  );
}

/** Everything of an environment's reservations and holds the planner reads, in a stable order. */
function inputsOf(reservations: readonly Reservation[] = [], holds: readonly Hold[] = []): string {
  if (reservations.length === 0 && holds.length === 0) return '';
  const lines = [
    ...reservations.map((r) => `r ${r.from} ${r.to} ${r.resource ?? ''}`),
    ...holds.map((h) => `h ${h.state} ${h.from ?? ''} ${h.until}`),
  ];
  return lines.sort().join('\n');
}

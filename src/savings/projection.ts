/**
 * Savings, projected: what a config would save over a window on the current
 * inventory, from its plan (schedules, reservations and holds), against each
 * environment's baseline: always on, or its `savings.baseline` schedule. Used by
 * `lightsout plan --savings`, for the running config and a proposed one.
 */
import type { Environment, Interval } from '../core/glossary.js';
import type { Fleet } from '../core/planner.js';
import { planFleet } from '../core/planner.js';
import { hoursOf, intersect } from '../core/savings.js';
import { subtract } from '../core/intervals.js';
import type { PricedResource } from './rates.js';
import { ratesOf } from './rates.js';

export interface ProjectedSavings {
  readonly environment: string;
  readonly team: string | null;
  /** Hours the environment itself is planned off in the window. */
  readonly hoursOff: number;
  /** Resources in the inventory: their planned hours saved, summed. */
  readonly resourceHoursSaved: number;
  /** USD, over the priced resources. */
  readonly money: number;
  readonly kwh: number;
  readonly kgCo2e: number;
  readonly resources: number;
  readonly unpriced: number;
}

export function projectSavings(
  fleet: Fleet,
  window: Interval,
  environments: readonly Environment[],
  inventory: ReadonlyMap<string, readonly PricedResource[]>,
): ProjectedSavings[] {
  const names = new Set(environments.map((e) => e.name));
  const timelines = planFleet(fleet, window, names);
  const baselines = baselinesOf(fleet, window, environments);
  return environments.map((environment) => {
    const timeline = timelines.get(environment.name)!;
    const baseline = baselines.get(environment.name);
    const savedOf = (on: readonly Interval[]) => {
      const off = subtract([window], on);
      return baseline === undefined ? off : intersect(off, baseline);
    };
    const resources = inventory.get(environment.name) ?? [];
    let resourceHoursSaved = 0;
    let money = 0;
    let kwh = 0;
    let kgCo2e = 0;
    let unpriced = 0;
    for (const resource of resources) {
      const hours = hoursOf(savedOf(timeline.onOf(resource.id)));
      const rates = ratesOf(resource, environment.name, environment.savings);
      resourceHoursSaved += hours;
      if (rates.hourly === undefined) unpriced++;
      else money += hours * rates.hourly;
      const energy = rates.kwhPerHour === undefined ? 0 : hours * rates.kwhPerHour;
      kwh += energy;
      kgCo2e += rates.kgPerKwh === undefined ? 0 : energy * rates.kgPerKwh;
    }
    return {
      environment: environment.name,
      team: environment.team ?? null,
      hoursOff: hoursOf(subtract([window], timeline.onOf(undefined))),
      resourceHoursSaved,
      money,
      kwh,
      kgCo2e,
      resources: resources.length,
      unpriced,
    };
  });
}

/** Each environment's baseline on-time, for those that name a baseline schedule. */
function baselinesOf(
  fleet: Fleet,
  window: Interval,
  environments: readonly Environment[],
): Map<string, readonly Interval[]> {
  const withBaseline = environments.flatMap((e) =>
    e.savings?.baseline === undefined ? [] : [{ ...e, schedule: e.savings.baseline }],
  );
  const planned = planFleet(
    { schedules: fleet.schedules, environments: withBaseline, reservations: [], holds: [] },
    window,
  );
  return new Map(withBaseline.map((e) => [e.name, planned.get(e.name)!.onOf(undefined)]));
}

/** Each environment's baseline on-time over a window, for those whose `savings.baseline` names a schedule. */
import type { Environment, Interval } from '../core/glossary.js';
import type { Fleet } from '../core/planner.js';
import { planFleet } from '../core/planner.js';

export function baselinesOf(
  schedules: Fleet['schedules'],
  window: Interval,
  environments: readonly Environment[],
): Map<string, readonly Interval[]> {
  const withBaseline = environments.flatMap((e) =>
    e.savings?.baseline === undefined ? [] : [{ ...e, schedule: e.savings.baseline }],
  );
  const planned = planFleet(
    { schedules, environments: withBaseline, reservations: [], holds: [] },
    window,
  );
  return new Map(withBaseline.map((e) => [e.name, planned.get(e.name)!.onOf(undefined)]));
}

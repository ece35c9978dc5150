/**
 * Savings, measured: what really happened, read from the event log, not from the
 * plan. A resource is off from the moment a run reached off for it (its step done,
 * or already off) until a run reached on for it, or it was found running by itself
 * (`resource.restarted-by-itself`, or `drift.detected` while it should be off). A
 * stop that failed for a resource never turns it off. Hours saved are its off hours
 * that the baseline would have run: always on by default, or a baseline schedule's
 * on-time for teams that already switched things off by hand.
 *
 * Pure: the caller reads the events, the prices and the baselines.
 */
import type { Instant, Interval } from './glossary.js';
import { clip, subtract, union } from './intervals.js';
import { DateTime } from 'luxon';

/** The events savings read, as the store returns them. */
export interface SavingsEvent {
  readonly at: Instant;
  readonly kind: string;
  readonly environment: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A resource's hourly cost and footprint while on; `undefined` parts are unknown. */
export interface ResourceRates {
  /** USD per hour while running. */
  readonly hourly?: number | undefined;
  /** Where the price comes from ("price table 2026-02-09", "config: environments.dev.prices"). */
  readonly priceSource?: string | undefined;
  /** kWh per hour while running. */
  readonly kwhPerHour?: number | undefined;
  /** kg CO2e per kWh of the resource's region. */
  readonly kgPerKwh?: number | undefined;
}

export interface ResourceSavings {
  readonly resource: string;
  readonly environment: string;
  readonly hoursOff: number;
  /** Off hours the baseline would have run. */
  readonly hoursSaved: number;
  /** undefined: no known price (listed, never valued at 0). */
  readonly money?: number | undefined;
  readonly kwh?: number | undefined;
  readonly kgCo2e?: number | undefined;
  readonly priceSource?: string | undefined;
}

const HOUR = 3_600_000;
const REACHED = new Set(['done', 'already']);

/** Per resource (and its environment), when it was off within `window`. */
export function offIntervals(
  events: readonly SavingsEvent[],
  window: Interval,
): Map<string, { environment: string; off: Interval[] }> {
  const offSince = new Map<string, Instant>();
  const result = new Map<string, { environment: string; off: Interval[] }>();
  const entry = (resource: string, environment: string) => {
    let found = result.get(resource);
    if (found === undefined) {
      found = { environment, off: [] };
      result.set(resource, found);
    }
    return found;
  };
  const turnedOn = (resource: string, environment: string, at: Instant) => {
    const since = offSince.get(resource);
    if (since === undefined) return;
    offSince.delete(resource);
    entry(resource, environment).off.push({ start: since, end: at });
  };
  const sorted = [...events].sort((a, b) => a.at - b.at);
  for (const event of sorted) {
    const environment = event.environment ?? '';
    for (const { resource, state } of powerChangesOf(event)) {
      if (state === 'off') {
        if (!offSince.has(resource)) offSince.set(resource, event.at);
        entry(resource, environment);
      } else turnedOn(resource, environment, event.at);
    }
  }
  // Still off at the end of the log: off until the window's end.
  for (const [resource, since] of offSince)
    result.get(resource)!.off.push({ start: since, end: window.end });
  for (const value of result.values()) value.off = [...clip(union(value.off), window)];
  return result;
}

/** The event kinds that can say a resource reached on or off. */
export const POWER_KINDS: ReadonlySet<string> = new Set([
  'run.finished',
  'drift.detected',
  'resource.restarted-by-itself',
]);

/** What an event says about resources' power: reached on or off. */
export function powerChangesOf(
  event: Pick<SavingsEvent, 'kind' | 'payload'>,
): { resource: string; state: 'on' | 'off' }[] {
  const p = event.payload;
  if (event.kind === 'run.finished' && (p['direction'] === 'stop' || p['direction'] === 'start')) {
    const state = p['direction'] === 'stop' ? 'off' : 'on';
    const resources = Array.isArray(p['resources']) ? (p['resources'] as unknown[]) : [];
    return resources.flatMap((r) => {
      const step = r as { resource?: unknown; status?: unknown };
      return typeof step.resource === 'string' && REACHED.has(String(step.status))
        ? [{ resource: step.resource, state }]
        : [];
    });
  }
  const foundOn =
    event.kind === 'resource.restarted-by-itself' ||
    (event.kind === 'drift.detected' && p['desired'] === 'off');
  if (foundOn && Array.isArray(p['resources']))
    return (p['resources'] as unknown[])
      .filter((r): r is string => typeof r === 'string')
      .map((resource) => ({ resource, state: 'on' as const }));
  return [];
}

/** Total length of intervals, in hours. */
export function hoursOf(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, i) => sum + (i.end - i.start), 0) / HOUR;
}

/** The part of `a` inside `b`. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const from = union(a);
  return [...subtract(from, subtract(from, union(b)))];
}

/**
 * Each resource's savings over its off intervals: hours, money (when priced),
 * energy and carbon (when its footprint is known). `baselineOn` gives an
 * environment's baseline on-time; absent, the baseline is always on.
 */
export function savingsOf(
  off: ReadonlyMap<string, { environment: string; off: readonly Interval[] }>,
  ratesOf: (resource: string, environment: string) => ResourceRates,
  baselineOn?: (environment: string) => readonly Interval[] | undefined,
): ResourceSavings[] {
  return [...off].map(([resource, { environment, off: intervals }]) => {
    const baseline = baselineOn?.(environment);
    const saved = baseline === undefined ? intervals : intersect(intervals, baseline);
    const hoursSaved = hoursOf(saved);
    const rates = ratesOf(resource, environment);
    const kwh = rates.kwhPerHour === undefined ? undefined : hoursSaved * rates.kwhPerHour;
    return {
      resource,
      environment,
      hoursOff: hoursOf(intervals),
      hoursSaved,
      money: rates.hourly === undefined ? undefined : hoursSaved * rates.hourly,
      kwh,
      kgCo2e: kwh === undefined || rates.kgPerKwh === undefined ? undefined : kwh * rates.kgPerKwh,
      priceSource: rates.priceSource,
    };
  });
}

/**
 * Splits intervals at `boundaries` (day, week or month starts, ascending), for
 * savings by period. One pass over both: a year by day of a resource switched
 * twice a day is hundreds of steps, not the product of the two.
 */
export function splitAt(
  intervals: readonly Interval[],
  boundaries: readonly Instant[],
): Map<Instant, Interval[]> {
  const byPeriod = new Map<Instant, Interval[]>();
  let p = 0;
  for (const interval of union(intervals)) {
    while (p < boundaries.length - 1 && boundaries[p + 1]! <= interval.start) p++;
    for (let k = p; k < boundaries.length - 1 && boundaries[k]! < interval.end; k++) {
      const start = Math.max(interval.start, boundaries[k]!);
      const end = Math.min(interval.end, boundaries[k + 1]!);
      if (start >= end) continue;
      const parts = byPeriod.get(boundaries[k]!) ?? [];
      parts.push({ start, end });
      byPeriod.set(boundaries[k]!, parts);
    }
  }
  return byPeriod;
}

export type SavingsPeriod = 'day' | 'week' | 'month';

/** The starts of each day, ISO week or month in `zone` that meet `window`, and the window's end. */
export function periodStarts(window: Interval, zone: string, by: SavingsPeriod): Instant[] {
  const unit = by === 'day' ? 'day' : by === 'week' ? 'week' : 'month';
  const starts: Instant[] = [];
  let t = DateTime.fromMillis(window.start, { zone }).startOf(unit);
  while (t.toMillis() < window.end) {
    starts.push(Math.max(t.toMillis(), window.start));
    t = t.plus({ [`${unit}s`]: 1 }).startOf(unit);
  }
  starts.push(window.end);
  return starts;
}

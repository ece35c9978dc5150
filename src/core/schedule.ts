/**
 * When a schedule says on, as a normalized list of intervals inside a window.
 *
 * Weekly periods: each period is on from its start to its stop on every matching
 * local day (the day filters match the day it starts; `stop <= start` ends the next
 * day). Start/stop expressions: the state at t is set by the most recent firing at
 * or before t, and when a start and a stop fire at the same instant, on wins.
 * Exception days then take out whole local days, midnight to midnight.
 */
import type { Exceptions, Instant, Interval, Period, Schedule } from './glossary.js';
import { clip, subtract, union } from './intervals.js';
import { cronFirings, firingsOf } from './expressions.js';
import type { Firings } from './expressions.js';
import { publicHolidays } from './holidays.js';
import { DAY, isoDateOf, toInstant, toWallTime, wallTimeOfDate } from './zone.js';
import type { WallTime } from './zone.js';

const MINUTE = 60_000;

/** The on-intervals of `schedule` inside `window`. */
export function scheduleOnIntervals(schedule: Schedule, window: Interval): readonly Interval[] {
  // Wall-time bounds a day wider than the window on each side cover every offset,
  // and a period that started the day before and crosses midnight.
  const wallFrom = toWallTime(schedule.timezone, window.start) - 2 * DAY;
  const wallTo = toWallTime(schedule.timezone, window.end) + DAY;
  const rule = schedule.rule;
  const exceptions = exceptionDates(schedule.except, wallFrom, wallTo);
  const on =
    rule.kind === 'periods'
      ? periodIntervals(schedule.timezone, rule.periods, wallFrom, wallTo, exceptions)
      : expressionIntervals(
          schedule.timezone,
          firingsOf(rule.start),
          firingsOf(rule.stop),
          wallFrom,
          wallTo,
        );
  const off = exceptionIntervals(schedule.timezone, exceptions);
  return clip(subtract(on, off), window);
}

/** A croner pattern firing at the period's start on every matching day. */
function periodStarts(period: Period): Firings {
  const startTime = `${period.start % 60} ${Math.floor(period.start / 60)}`;
  return cronFirings(
    `0 ${startTime} ${period.monthdays} ${period.months} ${period.days}`,
    'period',
  );
}

/** Periods that start on an exception day do not run; one that crosses into it stops at midnight. */
function periodIntervals(
  zone: string,
  periods: readonly Period[],
  wallFrom: WallTime,
  wallTo: WallTime,
  exceptions: ReadonlySet<string>,
): Interval[] {
  const intervals: Interval[] = [];
  for (const period of periods) {
    const lengthMinutes =
      period.stop > period.start ? period.stop - period.start : period.stop + 1440 - period.start;
    for (const startWall of periodStarts(period).between(wallFrom, wallTo)) {
      if (exceptions.has(isoDateOf(startWall))) continue;
      intervals.push({
        start: toInstant(zone, startWall),
        end: toInstant(zone, startWall + lengthMinutes * MINUTE),
      });
    }
  }
  return union(intervals);
}

interface Firing {
  readonly at: Instant;
  readonly on: boolean;
}

function expressionIntervals(
  zone: string,
  start: Firings,
  stop: Firings,
  wallFrom: WallTime,
  wallTo: WallTime,
): Interval[] {
  const place = (on: boolean) => (wall: WallTime) => ({ at: toInstant(zone, wall), on });
  const seeds = [start.lastBefore(wallFrom), stop.lastBefore(wallFrom)];
  const firings: Firing[] = [
    ...start.between(wallFrom, wallTo).map(place(true)),
    ...stop.between(wallFrom, wallTo).map(place(false)),
  ];
  if (seeds[0] !== undefined) firings.push(place(true)(seeds[0]));
  if (seeds[1] !== undefined) firings.push(place(false)(seeds[1]));
  // Same instant: the stop sorts first, so the start that follows wins.
  firings.sort((a, b) => a.at - b.at || Number(a.on) - Number(b.on));
  const intervals: Interval[] = [];
  let onSince: Instant | undefined;
  for (const firing of firings) {
    if (firing.on && onSince === undefined) onSince = firing.at;
    if (!firing.on && onSince !== undefined) {
      intervals.push({ start: onSince, end: firing.at });
      onSince = undefined;
    }
  }
  if (onSince !== undefined) intervals.push({ start: onSince, end: toInstant(zone, wallTo) });
  return union(intervals);
}

/** Exception days (dates and public holidays) between two wall times. */
function exceptionDates(except: Exceptions, wallFrom: WallTime, wallTo: WallTime): Set<string> {
  const fromDate = isoDateOf(wallFrom);
  const toDate = isoDateOf(wallTo);
  const dates = new Set(except.dates.filter((d) => d >= fromDate && d <= toDate));
  const firstYear = new Date(wallFrom).getUTCFullYear();
  const lastYear = new Date(wallTo).getUTCFullYear();
  for (const region of except.holidays) {
    for (let year = firstYear; year <= lastYear; year++) {
      for (const date of publicHolidays(region, year)) dates.add(date);
    }
  }
  return dates;
}

/** Whole local days off, as instants from local midnight to the next local midnight. */
function exceptionIntervals(zone: string, dates: ReadonlySet<string>): Interval[] {
  return union(
    [...dates].map((date) => {
      const midnight = wallTimeOfDate(date);
      return { start: toInstant(zone, midnight), end: toInstant(zone, midnight + DAY) };
    }),
  );
}

/** The instants an expression fires inside `window`, in the schedule's zone. */
export function expressionFiringInstants(
  zone: string,
  firings: Firings,
  window: Interval,
): Instant[] {
  const wallFrom = toWallTime(zone, window.start) - DAY;
  const wallTo = toWallTime(zone, window.end) + DAY;
  return firings
    .between(wallFrom, wallTo)
    .map((wall) => toInstant(zone, wall))
    .filter((t) => t >= window.start && t < window.end);
}

/**
 * Wall-clock times in IANA time zones, and the one daylight-saving rule of lightsout:
 *
 * - a local time that does not exist (spring forward) takes effect at the first
 *   instant after the gap (02:30 on a day Paris jumps from 02:00 to 03:00 is 03:00);
 * - a local time that occurs twice (fall back) takes effect at its first occurrence.
 *
 * Zone data comes from luxon (the runtime's Intl tz database). We do not do tz
 * arithmetic by hand; we only memoize luxon's answers: one Intl lookup costs about
 * 4.5 µs, and planning a year for a fleet makes millions of them. So per zone and
 * UTC year we sample luxon's offset every 6 hours, find each change to the second
 * by bisection, and answer later lookups from that table.
 */
import { IANAZone } from 'luxon';
import type { Instant, LocalDateTime } from './glossary.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** No zone has changed its offset twice within this span, so sampling at it misses nothing. */
const SAMPLE_STEP = 6 * HOUR;

/** Whether `name` is an IANA zone name the runtime knows (`Europe/Paris`, `UTC`). */
export function isValidTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

interface OffsetChange {
  readonly at: Instant;
  /** Offset in milliseconds from `at` on. */
  readonly offset: number;
}

class ZoneTable {
  private readonly zone: IANAZone;
  private readonly years = new Map<number, { start: number; changes: OffsetChange[] }>();

  constructor(name: string) {
    this.zone = IANAZone.create(name);
  }

  /** Offset (local minus UTC) in milliseconds at instant `t`. */
  offset(t: Instant): number {
    const year = new Date(t).getUTCFullYear();
    const table = this.years.get(year) ?? this.build(year);
    const changes = table.changes;
    let lo = 0;
    let hi = changes.length - 1;
    let offset = table.start;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const change = changes[mid]!;
      if (change.at <= t) {
        offset = change.offset;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return offset;
  }

  private lookup(t: Instant): number {
    return this.zone.offset(t) * MINUTE;
  }

  private build(year: number): { start: number; changes: OffsetChange[] } {
    const from = Date.UTC(year, 0, 1);
    const to = Date.UTC(year + 1, 0, 1);
    const start = this.lookup(from);
    const changes: OffsetChange[] = [];
    let previous = start;
    for (let t = from; t < to; t += SAMPLE_STEP) {
      const next = Math.min(t + SAMPLE_STEP, to);
      const offset = this.lookup(next);
      if (offset !== previous) {
        changes.push({ at: this.firstInstantWithOffset(t, next, previous), offset });
        previous = offset;
      }
    }
    const table = { start, changes };
    this.years.set(year, table);
    return table;
  }

  /** The first instant in `(lo, hi]` whose offset is no longer `before`, to the second. */
  private firstInstantWithOffset(lo: Instant, hi: Instant, before: number): Instant {
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
      if (this.lookup(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}

const tables = new Map<string, ZoneTable>();

function table(zone: string): ZoneTable {
  let found = tables.get(zone);
  if (found === undefined) {
    if (!isValidTimeZone(zone)) throw new RangeError(`unknown time zone "${zone}"`);
    found = new ZoneTable(zone);
    tables.set(zone, found);
  }
  return found;
}

/** Offset (local minus UTC) in milliseconds at instant `t` in `zone`. */
export function offsetAt(zone: string, t: Instant): number {
  return table(zone).offset(t);
}

/**
 * A wall-clock time written as milliseconds "as if UTC". Calendar arithmetic on
 * it (add a day, read the weekday) needs no zone, which is why cron matching runs
 * on wall times and only the final answer is placed in a zone.
 */
export type WallTime = number;

export function wallTimeOf(local: LocalDateTime): WallTime {
  return Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour,
    local.minute,
    local.second ?? 0,
  );
}

/** The wall-clock time in `zone` at instant `t`. */
export function toWallTime(zone: string, t: Instant): WallTime {
  return t + offsetAt(zone, t);
}

/** The instant a wall-clock time takes effect in `zone`, by the rule at the top of this file. */
export function toInstant(zone: string, wall: WallTime): Instant {
  const zoneTable = table(zone);
  // Offsets a day either side bound every offset that can apply to this wall time.
  const offsetBefore = zoneTable.offset(wall - DAY);
  const offsetAfter = zoneTable.offset(wall + DAY);
  const first = wall - Math.max(offsetBefore, offsetAfter);
  if (zoneTable.offset(first) === wall - first) return first;
  const second = wall - Math.min(offsetBefore, offsetAfter);
  if (zoneTable.offset(second) === wall - second) return second;
  // In a gap: between `second` and `first` lies the change of offset; it is the
  // first instant after the gap.
  let lo = Math.min(first, second);
  let hi = Math.max(first, second);
  const before = zoneTable.offset(lo);
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
    if (zoneTable.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instant a local date and time takes effect in `zone`. */
export function localToInstant(zone: string, local: LocalDateTime): Instant {
  return toInstant(zone, wallTimeOf(local));
}

/** `YYYY-MM-DD` of a wall time. */
export function isoDateOf(wall: WallTime): string {
  return new Date(wall).toISOString().slice(0, 10);
}

/** Wall time of local midnight at the start of an ISO date `YYYY-MM-DD`. */
export function wallTimeOfDate(isoDate: string): WallTime {
  return Date.parse(`${isoDate}T00:00:00Z`);
}

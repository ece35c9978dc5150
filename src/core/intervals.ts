/**
 * Interval algebra over half-open `[start, end)` spans of instants.
 *
 * A "normalized" list is sorted by start, with no empty, overlapping or touching
 * members; every function here returns one.
 */
import type { Instant, Interval } from './glossary.js';

/** Union of any intervals: order-independent, overlapping and touching ones merge. */
export function union(intervals: Iterable<Interval>): Interval[] {
  const sorted = [...intervals].filter((i) => i.start < i.end).sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const next of sorted) appendMerged(merged, next);
  return merged;
}

/** Appends an interval that starts no earlier than the last one, merging when they overlap or touch. */
function appendMerged(merged: Interval[], next: Interval): void {
  const last = merged[merged.length - 1];
  if (last !== undefined && next.start <= last.end) {
    if (next.end > last.end) merged[merged.length - 1] = { start: last.start, end: next.end };
  } else {
    merged.push(next);
  }
}

/**
 * Union of a normalized list with a few more intervals, in linear time: the
 * planner's common case of a long schedule list plus a handful of reservations.
 */
export function unionWith(
  normalized: readonly Interval[],
  extra: readonly Interval[],
): readonly Interval[] {
  if (extra.length === 0) return normalized;
  const others = union(extra);
  const merged: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < normalized.length || j < others.length) {
    const a = normalized[i];
    const b = others[j];
    const next = b === undefined || (a !== undefined && a.start <= b.start) ? (i++, a!) : (j++, b);
    appendMerged(merged, next);
  }
  return merged;
}

/** The parts of `from` not covered by `remove`; both must be normalized. */
export function subtract(
  from: readonly Interval[],
  remove: readonly Interval[],
): readonly Interval[] {
  if (remove.length === 0) return from;
  const result: Interval[] = [];
  let r = 0;
  for (const interval of from) {
    let start = interval.start;
    while (r < remove.length && remove[r]!.end <= start) r++;
    if (r === remove.length || remove[r]!.start >= interval.end) {
      result.push(interval); // untouched: share it rather than copy it
      continue;
    }
    let k = r;
    while (k < remove.length && remove[k]!.start < interval.end) {
      const cut = remove[k]!;
      if (cut.start > start) result.push({ start, end: cut.start });
      start = Math.max(start, cut.end);
      k++;
    }
    if (start < interval.end) result.push({ start, end: interval.end });
  }
  return result;
}

/** The parts of a normalized list inside `window`. */
export function clip(intervals: readonly Interval[], window: Interval): readonly Interval[] {
  const first = intervals[0];
  const last = intervals[intervals.length - 1];
  if (first === undefined || (first.start >= window.start && last!.end <= window.end))
    return intervals;
  const result: Interval[] = [];
  for (const i of intervals) {
    const start = Math.max(i.start, window.start);
    const end = Math.min(i.end, window.end);
    if (start < end) result.push({ start, end });
  }
  return result;
}

/** Whether `t` lies in one of a normalized list of intervals, by binary search. */
export function covers(intervals: readonly Interval[], t: Instant): boolean {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const i = intervals[mid]!;
    if (t < i.start) hi = mid - 1;
    else if (t >= i.end) lo = mid + 1;
    else return true;
  }
  return false;
}

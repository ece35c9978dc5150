import type { Interval } from '../src/core/glossary.js';

/** An instant from an ISO string with an explicit offset or Z. */
export function at(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad ISO instant in test: ${iso}`);
  return t;
}

export function window(from: string, to: string): Interval {
  return { start: at(from), end: at(to) };
}

export function isoIntervals(intervals: readonly Interval[]): [string, string][] {
  return intervals.map((i) => [new Date(i.start).toISOString(), new Date(i.end).toISOString()]);
}

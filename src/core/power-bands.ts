/**
 * What really happened to an environment, as bands across a window: off while
 * every resource was off, on while none was, partly on in between. Drawn from
 * each resource's off intervals (the power ledger), in one sweep over their ends.
 */
import type { Interval } from './glossary.js';

export type BandState = 'on' | 'off' | 'partial';

export interface PowerBand extends Interval {
  readonly state: BandState;
}

/**
 * Bands covering `window` with no gaps, neighbours of one state merged.
 * `resources` counts the environment's resources; each list in `off` is one
 * resource's off intervals (normalized). With no resource, there is nothing to say: [].
 */
export function powerBands(
  resources: number,
  off: readonly (readonly Interval[])[],
  window: Interval,
): PowerBand[] {
  if (resources === 0 || window.end <= window.start) return [];
  const changes = new Map<number, number>();
  const add = (at: number, delta: number) => changes.set(at, (changes.get(at) ?? 0) + delta);
  for (const intervals of off)
    for (const i of intervals) {
      const start = Math.max(i.start, window.start);
      const end = Math.min(i.end, window.end);
      if (start >= end) continue;
      add(start, 1);
      add(end, -1);
    }
  const stateOf = (count: number): BandState =>
    count <= 0 ? 'on' : count >= resources ? 'off' : 'partial';
  const bands: PowerBand[] = [];
  let count = 0;
  let from = window.start;
  for (const at of [...changes.keys()].sort((a, b) => a - b)) {
    if (at > from) push(bands, { start: from, end: at, state: stateOf(count) });
    count += changes.get(at)!;
    from = Math.max(from, at);
  }
  push(bands, { start: from, end: window.end, state: stateOf(count) });
  return bands;
}

function push(bands: PowerBand[], band: PowerBand): void {
  if (band.end <= band.start) return;
  const last = bands.at(-1);
  if (last !== undefined && last.state === band.state && last.end === band.start)
    bands[bands.length - 1] = { ...last, end: band.end };
  else bands.push(band);
}

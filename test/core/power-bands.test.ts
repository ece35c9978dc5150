import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { union } from '../../src/core/intervals.js';
import { powerBands } from '../../src/core/power-bands.js';

const H = 3_600_000;
const window = { start: 0, end: 24 * H };

describe('power bands of an environment', () => {
  it('is off only while every resource is off, partly on while some are', () => {
    const db = [{ start: 2 * H, end: 10 * H }];
    const app = [{ start: 1 * H, end: 9 * H }];
    expect(powerBands(2, [db, app], window)).toEqual([
      { start: 0, end: 1 * H, state: 'on' },
      { start: 1 * H, end: 2 * H, state: 'partial' },
      { start: 2 * H, end: 9 * H, state: 'off' },
      { start: 9 * H, end: 10 * H, state: 'partial' },
      { start: 10 * H, end: 24 * H, state: 'on' },
    ]);
  });

  it('clips to the window, and says nothing for an environment without resources', () => {
    expect(powerBands(1, [[{ start: -5 * H, end: 3 * H }]], window)).toEqual([
      { start: 0, end: 3 * H, state: 'off' },
      { start: 3 * H, end: 24 * H, state: 'on' },
    ]);
    expect(powerBands(0, [], window)).toEqual([]);
  });

  it('covers the window without gaps, and is off exactly where all lists overlap', () => {
    const intervals = fc
      .array(fc.tuple(fc.integer({ min: -2, max: 26 }), fc.integer({ min: 1, max: 8 })), {
        maxLength: 5,
      })
      .map((spans) => union(spans.map(([s, d]) => ({ start: s * H, end: (s + d) * H }))));
    fc.assert(
      fc.property(fc.array(intervals, { minLength: 1, maxLength: 4 }), (lists) => {
        const bands = powerBands(lists.length, lists, window);
        expect(bands[0]!.start).toBe(window.start);
        expect(bands.at(-1)!.end).toBe(window.end);
        for (let i = 1; i < bands.length; i++) {
          expect(bands[i]!.start).toBe(bands[i - 1]!.end);
          expect(bands[i]!.state).not.toBe(bands[i - 1]!.state);
        }
        for (let hour = 0; hour < 24; hour++) {
          const t = hour * H + H / 2;
          const offCount = lists.filter((l) => l.some((i) => i.start <= t && t < i.end)).length;
          const band = bands.find((b) => b.start <= t && t < b.end)!;
          const expected = offCount === 0 ? 'on' : offCount === lists.length ? 'off' : 'partial';
          expect(band.state).toBe(expected);
        }
      }),
    );
  });
});

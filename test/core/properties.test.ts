/** Property-based tests (fast-check) of the interval algebra and of plans. */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Hold, Interval, Reservation } from '../../src/core/glossary.js';
import { covers, subtract, union } from '../../src/core/intervals.js';
import type { Fleet } from '../../src/core/planner.js';
import { planFleet } from '../../src/core/planner.js';
import { at } from '../helpers.js';
import { periodSchedule } from './build.js';

const HOUR = 3_600_000;
const START = at('2026-03-23T00:00Z'); // a week with the European spring DST change
const SPAN = 14 * 24 * HOUR;

const interval = fc
  .tuple(fc.integer({ min: 0, max: SPAN }), fc.integer({ min: 1, max: 3 * 24 * HOUR }))
  .map(([offset, length]): Interval => ({ start: START + offset, end: START + offset + length }));
const instant = fc.integer({ min: 0, max: SPAN - 1 }).map((offset) => START + offset);

describe('union of intervals', () => {
  it('does not depend on the order of its inputs', () => {
    fc.assert(
      fc.property(
        fc
          .array(interval, { maxLength: 12 })
          .chain((xs) =>
            fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length })),
          ),
        ([xs, shuffled]) => {
          expect(union(shuffled)).toEqual(union(xs));
        },
      ),
    );
  });

  it('covers exactly the instants some input covers, with sorted, separated members', () => {
    fc.assert(
      fc.property(
        fc.array(interval, { maxLength: 12 }),
        fc.array(instant, { maxLength: 30 }),
        (xs, ts) => {
          const merged = union(xs);
          for (const t of ts)
            expect(covers(merged, t)).toBe(xs.some((i) => i.start <= t && t < i.end));
          for (let k = 1; k < merged.length; k++)
            expect(merged[k]!.start).toBeGreaterThan(merged[k - 1]!.end);
        },
      ),
    );
  });

  it('minus another list covers what the first covers and the second does not', () => {
    fc.assert(
      fc.property(
        fc.array(interval, { maxLength: 8 }),
        fc.array(interval, { maxLength: 8 }),
        fc.array(instant, { maxLength: 30 }),
        (xs, ys, ts) => {
          const rest = subtract(union(xs), union(ys));
          for (const t of ts)
            expect(covers(rest, t)).toBe(covers(union(xs), t) && !covers(union(ys), t));
        },
      ),
    );
  });
});

const schedules = [
  periodSchedule('Europe/Paris', [{ days: 'mon-fri', start: '07:00', stop: '19:00' }]),
  periodSchedule('America/New_York', [{ days: 'mon-fri', start: '22:00', stop: '02:00' }]),
  periodSchedule('Australia/Lord_Howe', [{ days: 'sat,sun', start: '02:15', stop: '02:15' }]),
  periodSchedule('Asia/Kolkata', [{ start: '09:30', stop: '18:00' }], { dates: ['2026-03-25'] }),
];

const fleetArbitrary = fc
  .record({
    schedule: fc.integer({ min: 0, max: schedules.length - 1 }),
    reservations: fc.array(interval, { maxLength: 5 }),
    holds: fc.array(fc.tuple(interval, fc.constantFrom<'on' | 'off'>('on', 'off')), {
      maxLength: 3,
    }),
  })
  .map(({ schedule, reservations, holds }): Fleet => {
    const chosen = { ...schedules[schedule]!, name: 'chosen' };
    return {
      schedules: new Map([['chosen', chosen]]),
      environments: [{ name: 'env', timezone: chosen.timezone, schedule: 'chosen' }],
      reservations: reservations.map((r): Reservation => ({
        environment: 'env',
        from: r.start,
        to: r.end,
      })),
      holds: holds.map(([h, state]): Hold => ({
        environment: 'env',
        state,
        from: h.start,
        until: h.end,
      })),
    };
  });

/** The desired-state rule written out directly, as an oracle independent of the planner. */
/**
 * The same schedules, read off the local wall clock with luxon: an oracle that
 * shares no code with the planner. Exact except in the hours around a change of
 * offset, where it answers undefined.
 */
const WALL_CLOCK: Record<
  string,
  { days: number[]; start: number; stop: number; except: string[] }
> = {
  'Europe/Paris': { days: [1, 2, 3, 4, 5], start: 7 * 60, stop: 19 * 60, except: [] },
  'America/New_York': { days: [1, 2, 3, 4, 5], start: 22 * 60, stop: 2 * 60, except: [] },
  'Australia/Lord_Howe': { days: [6, 7], start: 2 * 60 + 15, stop: 2 * 60 + 15, except: [] },
  'Asia/Kolkata': {
    days: [1, 2, 3, 4, 5, 6, 7],
    start: 9 * 60 + 30,
    stop: 18 * 60,
    except: ['2026-03-25'],
  },
};

function scheduleOnByWallClock(zone: string, t: number): boolean | undefined {
  const offset = (x: number) => DateTime.fromMillis(x, { zone }).offset;
  if (offset(t - 3 * HOUR) !== offset(t + 3 * HOUR)) return undefined;
  const rule = WALL_CLOCK[zone]!;
  const local = DateTime.fromMillis(t, { zone });
  const minutes = local.hour * 60 + local.minute;
  const yesterday = local.minus({ days: 1 });
  const runsOn = (day: DateTime) =>
    rule.days.includes(day.weekday) && !rule.except.includes(day.toISODate()!);
  if (rule.except.includes(local.toISODate()!)) return false;
  if (rule.stop > rule.start) return runsOn(local) && minutes >= rule.start && minutes < rule.stop;
  return (runsOn(local) && minutes >= rule.start) || (runsOn(yesterday) && minutes < rule.stop);
}

/** The desired-state rule written out directly, over the wall-clock oracle. */
function desiredStateByTheRule(fleet: Fleet, t: number): 'on' | 'off' | undefined {
  const inForce = (h: Hold) => (h.from ?? -Infinity) <= t && t < h.until;
  if (fleet.holds.some((h) => h.state === 'off' && inForce(h))) return 'off';
  if (fleet.holds.some((h) => h.state === 'on' && inForce(h))) return 'on';
  if (fleet.reservations.some((r) => r.from <= t && t < r.to)) return 'on';
  const on = scheduleOnByWallClock(fleet.schedules.get('chosen')!.timezone, t);
  return on === undefined ? undefined : on ? 'on' : 'off';
}

describe('plans', () => {
  const planWindow = { start: START + 12 * HOUR, end: START + SPAN - 12 * HOUR };

  it('have transitions in time order that alternate, starting from the opposite of the initial state', () => {
    fc.assert(
      fc.property(fleetArbitrary, (fleet) => {
        const plan = planFleet(fleet, planWindow).get('env')!.plan();
        let state = plan.initial;
        let previous = planWindow.start;
        for (const transition of plan.transitions) {
          expect(transition.state).not.toBe(state);
          expect(transition.at).toBeGreaterThan(previous);
          expect(transition.at).toBeLessThan(planWindow.end);
          state = transition.state;
          previous = transition.at;
        }
      }),
      { numRuns: 60 },
    );
  });

  it('give at every instant the state derived from the initial state and the transitions', () => {
    fc.assert(
      fc.property(
        fleetArbitrary,
        fc.array(fc.integer({ min: 0, max: planWindow.end - planWindow.start - 1 }), {
          maxLength: 40,
        }),
        (fleet, offsets) => {
          const plan = planFleet(fleet, planWindow).get('env')!.plan();
          for (const offset of offsets) {
            const t = planWindow.start + offset;
            const last = plan.transitions.filter((x) => x.at <= t).at(-1);
            const expected = desiredStateByTheRule(fleet, t);
            if (expected !== undefined) expect(last?.state ?? plan.initial).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('do not depend on the order of reservations', () => {
    fc.assert(
      fc.property(fleetArbitrary, (fleet) => {
        const reversed = { ...fleet, reservations: [...fleet.reservations].reverse() };
        expect(planFleet(reversed, planWindow).get('env')!.plan()).toEqual(
          planFleet(fleet, planWindow).get('env')!.plan(),
        );
      }),
      { numRuns: 60 },
    );
  });
});

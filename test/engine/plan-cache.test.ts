/**
 * The reconciler's plan cache (src/engine/plan-cache.ts) gives every pass the
 * timelines planFleet would make for its window, whatever it reused: random
 * sequences of passes whose windows slide (or jump) forward while reservations
 * and holds come and go, across a DST change, on a period and a cron schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Environment, Hold, Interval, Reservation } from '../../src/core/glossary.js';
import type { Fleet, Timeline } from '../../src/core/planner.js';
import { planFleet } from '../../src/core/planner.js';
import { PlanCache } from '../../src/engine/plan-cache.js';
import { at } from '../helpers.js';
import { expressionSchedule, periodSchedule } from '../core/build.js';

const MINUTE = 60_000;
// Saturday 24 October 2026, 12:00 UTC: Europe/Paris leaves summer time the next night.
const START = at('2026-10-24T12:00Z');

const schedules = new Map([
  [
    'office',
    { ...periodSchedule('Europe/Paris', [{ start: '01:30', stop: '02:30' }]), name: 'office' },
  ],
  ['cron', { ...expressionSchedule('UTC', '*/50 * * * *', '*/50 * * * *'), name: 'cron' }],
]);

const environments: Environment[] = [
  { name: 'a', timezone: 'Europe/Paris', schedule: 'office' },
  { name: 'b', timezone: 'UTC', schedule: 'cron' },
  { name: 'c', timezone: 'UTC' },
];

const minutes = (min: number, max: number) => fc.integer({ min, max }).map((m) => m * MINUTE);

const reservation = fc.record({
  environment: fc.constantFrom('a', 'b', 'c'),
  from: minutes(-120, 24 * 60),
  forMs: minutes(1, 180),
  resource: fc.constantFrom(undefined, 'web', 'db'),
});
const hold = fc.record({
  environment: fc.constantFrom('a', 'b', 'c'),
  state: fc.constantFrom('on' as const, 'off' as const),
  from: fc.option(minutes(-120, 24 * 60), { nil: undefined }),
  forMs: minutes(1, 600),
});

const pass = fc.record({
  advanceMs: fc.oneof(minutes(0, 2), minutes(0, 90)),
  lengthMs: minutes(1, 45),
  /** Plans made or deleted before this pass. */
  add: fc.array(fc.oneof(reservation, hold), { maxLength: 2 }),
  remove: fc.nat(3),
});

type Plan = { kind: 'reservation'; value: Reservation } | { kind: 'hold'; value: Hold };

/** A reservation or hold as generated, its instants relative to the pass that made it. */
interface Made {
  readonly environment: string;
  readonly from?: number | undefined;
  readonly forMs: number;
  readonly resource?: string | undefined;
  readonly state?: 'on' | 'off';
}

function planOf(p: Made, t0: number): Plan {
  if (p.state === undefined)
    return {
      kind: 'reservation',
      value: {
        environment: p.environment,
        from: t0 + p.from!,
        to: t0 + p.from! + p.forMs,
        ...(p.resource === undefined ? {} : { resource: p.resource }),
      },
    };
  const from = p.from === undefined ? undefined : t0 + p.from;
  return {
    kind: 'hold',
    value: {
      environment: p.environment,
      state: p.state,
      ...(from === undefined ? {} : { from }),
      until: (from ?? t0) + p.forMs,
    },
  };
}

/** The fleet as the store reads it for `window`: the plans that touch it. */
function fleetTouching(plans: readonly Plan[], window: Interval): Fleet {
  const reservations = plans
    .filter((p) => p.kind === 'reservation')
    .map((p) => p.value)
    .filter((r) => r.to > window.start && r.from < window.end);
  const holds = plans
    .filter((p) => p.kind === 'hold')
    .map((p) => p.value)
    .filter((h) => h.until > window.start && (h.from ?? -Infinity) < window.end);
  return { schedules, environments, reservations, holds };
}

const shape = (t: Timeline) => ({
  window: t.window,
  on: t.on,
  resourceOn: [...t.resourceOn].sort(([x], [y]) => x.localeCompare(y)),
  heldOff: t.heldOff,
  plan: t.plan(),
});

describe('the plan cache', () => {
  it('gives each pass the timelines planFleet makes for its window', () => {
    fc.assert(
      fc.property(fc.array(pass, { minLength: 1, maxLength: 30 }), (passes) => {
        const cache = new PlanCache();
        let plans: Plan[] = [];
        let now = START;
        for (const p of passes) {
          now += p.advanceMs;
          plans = plans.filter((_, i) => i !== p.remove);
          plans.push(...p.add.map((made) => planOf(made, now)));
          const window = { start: now - MINUTE, end: now + p.lengthMs };
          const cached = cache.timelines(fleetTouching(plans, cache.readWindow(window)), window);
          const fresh = planFleet(fleetTouching(plans, window), window);
          expect([...cached.keys()]).toEqual([...fresh.keys()]);
          for (const [name, timeline] of fresh)
            expect(shape(cached.get(name)!)).toEqual(shape(timeline));
        }
      }),
      { numRuns: 300 },
    );
  });
});

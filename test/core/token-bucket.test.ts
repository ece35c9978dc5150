/** The token bucket's arithmetic: refill, burst, takes of n tokens, the slow-down after throttling. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fullBucket,
  MIN_FACTOR,
  refill,
  SLOW_FOR_MS,
  take,
  throttled,
  waitFor,
} from '../../src/core/token-bucket.js';
import type { BucketRate, BucketState } from '../../src/core/token-bucket.js';

/** EC2 StartInstances' request bucket: 5 calls at once, then 2 a second. */
const START: BucketRate = { burst: 5, perSecond: 2 };
/** EC2 StartInstances' resource bucket: 1,000 instances at once, then 2 a second. */
const INSTANCES: BucketRate = { burst: 1_000, perSecond: 2 };

describe('a token bucket', () => {
  it('lets a full burst through at once, then one call per refill', () => {
    let state = fullBucket(START, 0);
    for (let i = 0; i < 5; i++) {
      const taken = take(START, state, 1, 0);
      expect(taken.waitMs).toBe(0);
      state = taken.state;
    }
    const sixth = take(START, state, 1, 0);
    expect(sixth.waitMs).toBe(500);
    expect(take(START, sixth.state, 1, 499).waitMs).toBe(1);
    expect(take(START, sixth.state, 1, 500).waitMs).toBe(0);
  });

  it('never holds more than its burst, however long it rests', () => {
    const state = refill(START, { tokens: 0, at: 0, slowUntil: 0, factor: 1 }, 3_600_000);
    expect(state.tokens).toBe(5);
  });

  it('takes n tokens for a call on n things, and waits for the missing ones at the refill rate', () => {
    const after = take(INSTANCES, fullBucket(INSTANCES, 0), 1_000, 0);
    expect(after.waitMs).toBe(0);
    expect(after.state.tokens).toBe(0);
    // 100 more instances: 50 s at 2 a second.
    expect(take(INSTANCES, after.state, 100, 0).waitMs).toBe(50_000);
  });

  it('lets a call larger than the burst through once the bucket is full, not never', () => {
    expect(take(INSTANCES, fullBucket(INSTANCES, 0), 5_000, 0)).toEqual({
      state: { tokens: 0, at: 0, slowUntil: 0, factor: 1 },
      waitMs: 0,
    });
  });

  it('refills nothing when another replica counted it at a later instant', () => {
    const state: BucketState = { tokens: 1, at: 10_000, slowUntil: 10_000, factor: 1 };
    expect(refill(START, state, 9_000)).toBe(state);
    expect(take(START, state, 2, 9_000).waitMs).toBe(1_500);
  });

  it('after a throttled answer, empties and refills at half the rate for a minute', () => {
    const slowed = throttled(START, fullBucket(START, 0), 0);
    expect(slowed).toEqual({ tokens: 0, at: 0, slowUntil: SLOW_FOR_MS, factor: 0.5 });
    // One token at 1 a second instead of 2.
    expect(waitFor(START, slowed, 1, 0)).toBe(1_000);
    // Past the minute, the full rate again.
    expect(refill(START, slowed, SLOW_FOR_MS + 1_000)).toEqual({
      tokens: 5,
      at: SLOW_FOR_MS + 1_000,
      slowUntil: SLOW_FOR_MS + 1_000,
      factor: 1,
    });
  });

  it('halves again with each throttled answer, down to a sixteenth', () => {
    let state = fullBucket(START, 0);
    for (let i = 0; i < 10; i++) state = throttled(START, state, i);
    expect(state.factor).toBe(MIN_FACTOR);
  });

  it('waits across the end of a slow-down at both rates', () => {
    const slowed = throttled(INSTANCES, fullBucket(INSTANCES, 0), 0);
    // 60 s at 1 a second give 60 tokens, the next 40 take 20 s at 2 a second.
    expect(waitFor(INSTANCES, slowed, 100, 0)).toBe(80_000);
  });
});

describe('any sequence of takes and throttled answers', () => {
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('take' as const),
      after: fc.integer({ min: 0, max: 5_000 }),
      n: fc.integer({ min: 1, max: 1_500 }),
    }),
    fc.record({
      kind: fc.constant('throttled' as const),
      after: fc.integer({ min: 0, max: 5_000 }),
    }),
  );
  const rate = fc.record({
    burst: fc.integer({ min: 1, max: 1_000 }),
    perSecond: fc.double({ min: 0.1, max: 100, noNaN: true }),
  });

  it('keeps tokens between 0 and the burst, and every wait is the shortest that finds the tokens', () => {
    fc.assert(
      fc.property(rate, fc.array(step, { maxLength: 60 }), (r, steps) => {
        let now = 0;
        let state = fullBucket(r, now);
        for (const s of steps) {
          now += s.after;
          if (s.kind === 'throttled') state = throttled(r, state, now);
          else {
            const taken = take(r, state, s.n, now);
            state = taken.state;
            if (taken.waitMs > 0) {
              // Not sooner (to the rounding up to whole milliseconds), and exactly then.
              if (taken.waitMs > 1)
                expect(take(r, state, s.n, now + taken.waitMs - 2).waitMs).toBeGreaterThan(0);
              const later = take(r, state, s.n, now + taken.waitMs);
              expect(later.waitMs).toBe(0);
              now += taken.waitMs;
              state = later.state;
            }
          }
          expect(state.tokens).toBeGreaterThanOrEqual(0);
          expect(state.tokens).toBeLessThanOrEqual(r.burst);
        }
      }),
    );
  });
});

/**
 * Token buckets, the arithmetic only: a bucket holds up to `burst` tokens and
 * gains `perSecond` of them every second; a call for n things takes n tokens, or
 * waits until they are there. Pure: every function takes the time and the state
 * and returns the next state; where the state lives (memory, a store row shared by
 * replicas) and how the wait is slept are the caller's.
 *
 * This is the algorithm cloud APIs throttle with (EC2: "Amazon EC2 uses the token
 * bucket algorithm to implement API throttling",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), so a
 * client that keeps its own copy of the bucket, a little behind the server's,
 * is never throttled by it.
 *
 * Written by hand: the libraries on npm (limiter, bottleneck, p-throttle) own
 * their timers and their clock and keep state in process memory, where replicas
 * on one database cannot share it and tests cannot step it.
 */

/** A bucket's size and refill: what a provider documents, or a config raises. */
export interface BucketRate {
  /** Tokens the bucket holds when full: the largest burst. */
  readonly burst: number;
  /** Tokens added every second (the sustained rate). */
  readonly perSecond: number;
}

/** Where a bucket stands. */
export interface BucketState {
  readonly tokens: number;
  /** The instant `tokens` was counted at. */
  readonly at: number;
  /** After a throttled answer, the bucket refills at `factor` × its rate until this instant. */
  readonly slowUntil: number;
  /** 1, or less while slowed down (halved by each throttled answer, down to MIN_FACTOR). */
  readonly factor: number;
}

/** How long a throttled answer slows its bucket down. */
export const SLOW_FOR_MS = 60_000;
/** The slowest a bucket gets: 1/16 of its rate, after four throttled answers in a row. */
export const MIN_FACTOR = 1 / 16;
/** Rounding slack: a wait rounded up to whole milliseconds always finds its tokens. */
const EPSILON = 1e-6;

export function fullBucket(rate: BucketRate, now: number): BucketState {
  return { tokens: rate.burst, at: now, slowUntil: now, factor: 1 };
}

/**
 * The tokens a call for `n` things takes: n, but never more than the bucket holds
 * (a call larger than the burst waits for a full bucket instead of forever).
 */
export function cost(rate: BucketRate, n: number): number {
  return Math.min(Math.max(n, 0), rate.burst);
}

/**
 * The bucket at `now`: refilled at the slowed rate until `slowUntil`, at the full
 * rate after, never above `burst`. A `now` before the state's (another replica's
 * clock ahead of this one) refills nothing: time never runs back.
 */
export function refill(rate: BucketRate, state: BucketState, now: number): BucketState {
  if (now <= state.at) return state;
  const slowEnd = Math.min(now, Math.max(state.at, state.slowUntil));
  const slowMs = slowEnd - state.at;
  const fastMs = now - slowEnd;
  const added = (rate.perSecond * (slowMs * state.factor + fastMs)) / 1000;
  const tokens = Math.min(rate.burst, state.tokens + added);
  return now >= state.slowUntil
    ? { tokens, at: now, slowUntil: now, factor: 1 }
    : { tokens, at: now, slowUntil: state.slowUntil, factor: state.factor };
}

/** How long from `now` until the bucket holds the tokens for `n` things (0: now), in whole ms. */
export function waitFor(rate: BucketRate, state: BucketState, n: number, now: number): number {
  const current = refill(rate, state, now);
  const missing = cost(rate, n) - current.tokens;
  if (missing <= EPSILON) return 0;
  // A bucket counted ahead of `now` (another replica's clock) refills from its own instant.
  const from = Math.max(now, current.at);
  const slowLeft = Math.max(0, current.slowUntil - from);
  const slowRate = (rate.perSecond * current.factor) / 1000;
  const slowTokens = slowRate * slowLeft;
  const ms =
    missing <= slowTokens
      ? missing / slowRate
      : slowLeft + (missing - slowTokens) / (rate.perSecond / 1000);
  // Rounded up to whole ms, forgiving the float error of an exact one (1.0000000002 is 1).
  return from - now + Math.max(1, Math.ceil(ms - 1e-6));
}

/**
 * Takes the tokens for `n` things if the bucket holds them now (`waitMs` 0);
 * otherwise takes nothing and says how long to wait before asking again.
 */
export function take(
  rate: BucketRate,
  state: BucketState,
  n: number,
  now: number,
): { state: BucketState; waitMs: number } {
  const current = refill(rate, state, now);
  const waitMs = waitFor(rate, current, n, now);
  if (waitMs > 0) return { state: current, waitMs };
  return { state: { ...current, tokens: Math.max(0, current.tokens - cost(rate, n)) }, waitMs: 0 };
}

/** One call's take from one bucket: `n` tokens of bucket `key`, which has `rate`. */
export interface BucketTake {
  readonly key: string;
  readonly rate: BucketRate;
  readonly n: number;
}

/**
 * Takes from several buckets at one instant, all or none: the tokens of every
 * bucket if each holds them now (`waitMs` 0), otherwise nothing, and the longest
 * wait. A call that needs two buckets (AWS's request and resource buckets) so
 * never holds the tokens of one while it waits for the other.
 */
export function takeAll(
  takes: readonly { readonly rate: BucketRate; readonly state: BucketState; readonly n: number }[],
  now: number,
): { states: BucketState[]; waitMs: number } {
  const current = takes.map((t) => refill(t.rate, t.state, now));
  const waitMs = Math.max(0, ...takes.map((t, i) => waitFor(t.rate, current[i]!, t.n, now)));
  if (waitMs > 0) return { states: current, waitMs };
  return { states: takes.map((t, i) => take(t.rate, current[i]!, t.n, now).state), waitMs: 0 };
}

/**
 * A throttled answer: the server's bucket is emptier than ours (other clients
 * share the account), so ours is emptied and refills at half its current rate for
 * SLOW_FOR_MS. Each throttled answer in that time halves it again, down to MIN_FACTOR.
 */
export function throttled(rate: BucketRate, state: BucketState, now: number): BucketState {
  const current = refill(rate, state, now);
  return {
    tokens: 0,
    at: current.at,
    slowUntil: Math.max(current.at, now) + SLOW_FOR_MS,
    factor: Math.max(MIN_FACTOR, current.factor / 2),
  };
}

/**
 * Where buckets are kept, by key: process memory (MemoryBuckets) or the store,
 * whose one row per bucket every replica on one database takes from.
 */
export interface BucketLedger {
  /** Takes the tokens for `n` things from bucket `key` (made full on first use); the wait before asking again, 0 when taken. */
  take(key: string, rate: BucketRate, n: number, now: number): Promise<number>;
  /** `takeAll` over the ledger's buckets: every take, or none and the longest wait. */
  takeAll(takes: readonly BucketTake[], now: number): Promise<number>;
  /** Slows bucket `key` down after a throttled answer. */
  throttled(key: string, rate: BucketRate, now: number): Promise<void>;
}

/** Buckets in this process's memory: one process, or tests. */
export class MemoryBuckets implements BucketLedger {
  readonly states = new Map<string, BucketState>();

  take(key: string, rate: BucketRate, n: number, now: number): Promise<number> {
    const taken = take(rate, this.states.get(key) ?? fullBucket(rate, now), n, now);
    this.states.set(key, taken.state);
    return Promise.resolve(taken.waitMs);
  }

  takeAll(takes: readonly BucketTake[], now: number): Promise<number> {
    const taken = takeAll(
      takes.map((t) => ({ ...t, state: this.states.get(t.key) ?? fullBucket(t.rate, now) })),
      now,
    );
    takes.forEach((t, i) => this.states.set(t.key, taken.states[i]!));
    return Promise.resolve(taken.waitMs);
  }

  throttled(key: string, rate: BucketRate, now: number): Promise<void> {
    this.states.set(key, throttled(rate, this.states.get(key) ?? fullBucket(rate, now), now));
    return Promise.resolve();
  }
}

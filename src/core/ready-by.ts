/**
 * Ready *by* the start time: when each start must begin so that every resource is
 * running at its transition instant, given the account's token buckets and how
 * long each tier typically takes to come up.
 *
 * A start of n things through a bucket of `burst` tokens refilling at `perSecond`
 * issues its last call (n - burst) / perSecond after its first, when the bucket
 * was full: 10,000 EC2 instances behind StartInstances' 1,000-instance bucket
 * refilling at 2 a second take 75 minutes to ask for. Starts that share a bucket
 * (one account and region) share that budget, so they are laid out as late as
 * possible in earliest-deadline-first order: each finishes asking before its own
 * deadline, and the one whose deadline is earliest goes first.
 *
 * Pure: the caller gives the demands (from the inventory and the providers) and
 * gets back when each start begins and why.
 */
import type { BucketRate } from './token-bucket.js';
import type { Instant } from './glossary.js';

/** Tokens a start takes from one bucket. */
export interface BucketTake {
  /** The bucket's key: the same key for every start sharing it (one account, region and API). */
  readonly bucket: string;
  readonly rate: BucketRate;
  readonly tokens: number;
}

/** One tier of a start: what it asks of the buckets, and how long it takes to come up once asked. */
export interface TierCost {
  readonly takes: readonly BucketTake[];
  /** The typical time from the request to the tier's resources running. */
  readonly settleMs: number;
}

/** A start that must be done by `readyBy`, its tiers in start order. */
export interface StartDemand {
  readonly environment: string;
  readonly readyBy: Instant;
  readonly tiers: readonly TierCost[];
  /** It may not begin before this (a hold that keeps it off, the instant of the plan). */
  readonly notBefore?: Instant;
}

/** When a start begins, and why. */
export interface StartPlan {
  readonly environment: string;
  readonly readyBy: Instant;
  readonly beginAt: Instant;
  /** readyBy - beginAt when on time. */
  readonly leadMs: number;
  /** Of the lead: time waiting for bucket tokens (its own and those of starts going before it). */
  readonly waitMs: number;
  /** Of the lead: the tiers' typical times to come up, one after another. */
  readonly settleMs: number;
  /**
   * The bucket that sets the lead, with the tokens this start takes from it, and
   * the starts asking just before and after it (back to back) in that bucket.
   */
  readonly bucket?: {
    readonly key: string;
    readonly rate: BucketRate;
    readonly tokens: number;
    readonly sharedWith: string[];
  };
  /** When it cannot begin early enough (`notBefore`): the instant it is expected running instead. */
  readonly lateUntil?: Instant;
}

const SECOND = 1000;

/** Plans every start: begins as late as the buckets allow with all of them ready by their instants. */
export function planStarts(demands: readonly StartDemand[]): Map<string, StartPlan> {
  const issueWindows = new Map<string, Map<string, IssueStart>>();
  for (const [key, members] of byBucket(demands))
    for (const [environment, start] of latestIssueStarts(members))
      (
        issueWindows.get(environment) ?? issueWindows.set(environment, new Map()).get(environment)!
      ).set(key, start);
  const plans = new Map<string, StartPlan>();
  for (const demand of demands) {
    const settleMs = sum(demand.tiers.map((t) => t.settleMs));
    let beginAt = demand.readyBy - settleMs;
    let binding: StartPlan['bucket'];
    for (const [key, issue] of issueWindows.get(demand.environment) ?? []) {
      const begin = issue.at - settleBefore(demand, key);
      if (begin < beginAt) {
        beginAt = begin;
        binding = {
          key,
          rate: demand.tiers.flatMap((t) => t.takes).find((t) => t.bucket === key)!.rate,
          tokens: tokensIn(demand, key),
          sharedWith: issue.neighbours,
        };
      }
    }
    const held = demand.notBefore !== undefined && demand.notBefore > beginAt;
    const lead = demand.readyBy - beginAt;
    // Held back until `notBefore`: the others went first meanwhile and the bucket
    // refilled, so it takes what it would take alone from a full bucket.
    const readyAt = held ? demand.notBefore + aloneLead(demand) : demand.readyBy;
    plans.set(demand.environment, {
      environment: demand.environment,
      readyBy: demand.readyBy,
      beginAt: held ? demand.notBefore : beginAt,
      leadMs: lead,
      waitMs: lead - settleMs,
      settleMs,
      ...(binding === undefined ? {} : { bucket: binding }),
      ...(readyAt > demand.readyBy ? { lateUntil: readyAt } : {}),
    });
  }
  return plans;
}

interface Member {
  readonly demand: StartDemand;
  readonly rate: BucketRate;
  readonly tokens: number;
  /** The last instant its last token may be taken: its deadline less the settle times from its first tier in this bucket. */
  readonly deadline: Instant;
}

/** The demands taking from each bucket. */
function byBucket(demands: readonly StartDemand[]): Map<string, Member[]> {
  const buckets = new Map<string, Member[]>();
  for (const demand of demands) {
    const seen = new Set<string>();
    for (const tier of demand.tiers)
      for (const take of tier.takes) {
        if (seen.has(take.bucket) || take.tokens <= 0) continue;
        seen.add(take.bucket);
        const member: Member = {
          demand,
          rate: take.rate,
          tokens: tokensIn(demand, take.bucket),
          deadline: demand.readyBy - settleFrom(demand, take.bucket),
        };
        (buckets.get(take.bucket) ?? buckets.set(take.bucket, []).get(take.bucket)!).push(member);
      }
  }
  return buckets;
}

/**
 * When each member of one bucket must take its first token. As late as possible,
 * latest deadline first, each finishing by its deadline and before the one after
 * it begins (a fluid model at the refill rate); then each run of back-to-back
 * members starts later by what the burst gives it at once, a full bucket's worth
 * after an idle stretch long enough to refill it.
 */
interface IssueStart {
  readonly at: Instant;
  /** The starts asking just before and just after it, back to back: the ones it shares the bucket with. */
  readonly neighbours: string[];
}

function latestIssueStarts(members: readonly Member[]): Map<string, IssueStart> {
  const ordered = [...members].sort(
    (a, b) => a.deadline - b.deadline || a.demand.environment.localeCompare(b.demand.environment),
  );
  const rate = ordered[0]!.rate;
  const perMs = rate.perSecond / SECOND;
  const starts: number[] = new Array<number>(ordered.length);
  const finishes: number[] = new Array<number>(ordered.length);
  let cursor = Number.POSITIVE_INFINITY;
  for (let i = ordered.length - 1; i >= 0; i--) {
    finishes[i] = Math.min(ordered[i]!.deadline, cursor);
    starts[i] = finishes[i]! - ordered[i]!.tokens / perMs;
    cursor = starts[i]!;
  }
  const result = new Map<string, IssueStart>();
  let previousEnd = Number.NEGATIVE_INFINITY;
  for (let first = 0; first < ordered.length;) {
    // A chain: members asking back to back.
    let last = first;
    while (last + 1 < ordered.length && starts[last + 1] === finishes[last]) last++;
    const chainTokens = sum(ordered.slice(first, last + 1).map((m) => m.tokens));
    const idle = starts[first]! - previousEnd;
    const credit = Math.min(rate.burst, chainTokens, idle * perMs);
    // Later by the burst, but no member that the burst alone serves may miss its deadline.
    let chainStart = starts[first]! + credit / perMs;
    let before = 0;
    for (let i = first; i <= last; i++) {
      if (before + ordered[i]!.tokens <= credit)
        chainStart = Math.min(chainStart, ordered[i]!.deadline);
      before += ordered[i]!.tokens;
    }
    before = 0;
    for (let i = first; i <= last; i++) {
      const neighbours = [i - 1, i + 1]
        .filter((j) => j >= first && j <= last)
        .map((j) => ordered[j]!.demand.environment);
      result.set(ordered[i]!.demand.environment, {
        at: Math.floor(chainStart + Math.max(0, before - credit) / perMs),
        neighbours,
      });
      before += ordered[i]!.tokens;
    }
    previousEnd = finishes[last]!;
    first = last + 1;
  }
  return result;
}

/** The lead of a start alone, from full buckets: its tiers' settle times and its longest wait for tokens. */
function aloneLead(demand: StartDemand): number {
  let lead = sum(demand.tiers.map((t) => t.settleMs));
  let wait = 0;
  for (const take of demand.tiers.flatMap((t) => t.takes)) {
    const tokens = tokensIn(demand, take.bucket);
    wait = Math.max(wait, (Math.max(0, tokens - take.rate.burst) / take.rate.perSecond) * SECOND);
  }
  lead += wait;
  return lead;
}

function tokensIn(demand: StartDemand, bucket: string): number {
  return sum(
    demand.tiers.flatMap((t) => t.takes.filter((x) => x.bucket === bucket).map((x) => x.tokens)),
  );
}

function firstTierIn(demand: StartDemand, bucket: string): number {
  return demand.tiers.findIndex((t) => t.takes.some((x) => x.bucket === bucket && x.tokens > 0));
}

/** Settle times of the tiers from the first that takes from `bucket`: they come after its tokens. */
function settleFrom(demand: StartDemand, bucket: string): number {
  return sum(demand.tiers.slice(firstTierIn(demand, bucket)).map((t) => t.settleMs));
}

/** Settle times of the tiers before the first that takes from `bucket`: they come before its tokens. */
function settleBefore(demand: StartDemand, bucket: string): number {
  return sum(demand.tiers.slice(0, firstTierIn(demand, bucket)).map((t) => t.settleMs));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

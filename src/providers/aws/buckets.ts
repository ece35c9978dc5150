/**
 * AWS's request and resource token buckets, kept on our side so that no burst of
 * ours meets a throttled answer: every call of every client waits for its tokens
 * (one per request, and one per instance in the resource buckets), per account,
 * region and API family; a throttled answer slows the bucket down and the call is
 * tried again after the wait.
 *
 * The numbers are AWS's documented defaults; AWS raises them on request, so the
 * config overrides them per account (`aws.limits`, `aws.accounts.ID.limits`).
 */
import { MemoryBuckets } from '../../core/token-bucket.js';
import type { BucketLedger, BucketRate, BucketTake } from '../../core/token-bucket.js';

/**
 * Documented buckets, by name. `SERVICE:Action` is one API; `SERVICE:Prefix*` every
 * API whose name starts so, each with its own bucket (EC2 evaluates "each API
 * individually"); `SERVICE:*` the rest of a service.
 */
export const AWS_BUCKETS: Readonly<Record<string, BucketRate>> = {
  // EC2, https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html:
  // request buckets (one token per call)...
  'ec2:Describe*': { burst: 100, perSecond: 20 },
  'ec2:StartInstances': { burst: 5, perSecond: 2 },
  'ec2:StopInstances': { burst: 50, perSecond: 5 },
  /** Other mutating actions (CreateTags...). */
  'ec2:*': { burst: 50, perSecond: 5 },
  // ...and resource buckets (one token per instance in the call).
  'ec2:StartInstances:instances': { burst: 1_000, perSecond: 2 },
  'ec2:StopInstances:instances': { burst: 1_000, perSecond: 20 },
  // RDS: 300 burst, 12 a second for the account's calls
  // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html).
  'rds:*': { burst: 300, perSecond: 12 },
  // ECS UpdateService: the 50 / 5 per second; the table of
  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
  // was not read in full here: raise it in the config when AWS says more.
  'ecs:UpdateService': { burst: 50, perSecond: 5 },
  // CloudWatch quotas, requests per second, not adjustable for the alarm actions
  // (https://docs.aws.amazon.com/general/latest/gr/cw_region.html).
  'cloudwatch:DescribeAlarms': { burst: 9, perSecond: 9 },
  'cloudwatch:DisableAlarmActions': { burst: 3, perSecond: 3 },
  'cloudwatch:EnableAlarmActions': { burst: 3, perSecond: 3 },
};

export const AWS_BUCKET_NAMES = Object.keys(AWS_BUCKETS);

/**
 * The error codes of a throttled answer: EC2's RequestLimitExceeded (request and
 * resource buckets alike: "If you exceed an API throttling limit, you get the
 * RequestLimitExceeded error code"), RDS's and ECS's ThrottlingException,
 * CloudWatch's and Auto Scaling's Throttling, TooManyRequestsException, and
 * RequestResourceCountExceeded (named by the issue; EC2 documents it for Spot requests).
 */
export const THROTTLED = new Set([
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestResourceCountExceeded',
]);

export function isThrottled(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return (
    (typeof name === 'string' && THROTTLED.has(name)) ||
    (typeof code === 'string' && THROTTLED.has(code))
  );
}

/** Per-bucket overrides: every account's, and one account's (which win). */
export interface AwsLimits {
  readonly all?: Readonly<Record<string, BucketRate>>;
  readonly accounts?: Readonly<Record<string, Readonly<Record<string, BucketRate>>>>;
}

/** One take a call makes: a bucket's key and rate, and how many tokens. */
export type Take = BucketTake;

/** The bucket name a call falls under, and the key of its own bucket (per API for `Prefix*` and `ec2:*`). */
function bucketOf(
  service: string,
  action: string,
  names: readonly string[],
): { name: string; key: string } | undefined {
  const exact = `${service}:${action}`;
  if (names.includes(exact)) return { name: exact, key: exact };
  const prefixed = names.find(
    (n) =>
      n.startsWith(`${service}:`) &&
      n.endsWith('*') &&
      n.length > service.length + 2 &&
      action.startsWith(n.slice(service.length + 1, -1)),
  );
  if (prefixed !== undefined) return { name: prefixed, key: exact };
  const rest = `${service}:*`;
  // EC2 throttles each API on its own; other services' `*` is one bucket for all (the safe side).
  if (names.includes(rest)) return { name: rest, key: service === 'ec2' ? exact : rest };
  return undefined;
}

/** The instances a call names (EC2 StartInstances and StopInstances). */
function instanceCount(input: unknown): number {
  const ids = (input as { InstanceIds?: unknown } | undefined)?.InstanceIds;
  return Array.isArray(ids) ? ids.length : 0;
}

/**
 * What a call takes: one token per instance from its resource bucket if it has
 * one, and one from its request bucket, taken together when both hold them
 * (`AwsLimiter.acquire`). A call for 1,000 instances may wait minutes for its
 * instance tokens; had it taken its request token first, that token would be
 * spent in our bucket minutes before AWS spends it in its own (when the call
 * arrives), and our bucket, refilled meanwhile, would let through calls that
 * AWS's refuses.
 */
export function takesOf(
  rates: Readonly<Record<string, BucketRate>>,
  scope: string,
  service: string,
  action: string,
  input: unknown,
): Take[] {
  const names = Object.keys(rates);
  const takes: Take[] = [];
  const resourceName = `${service}:${action}:instances`;
  const resource = rates[resourceName];
  if (resource !== undefined && instanceCount(input) > 0)
    takes.push({ key: `${scope}|${resourceName}`, rate: resource, n: instanceCount(input) });
  const request = bucketOf(service, action, names);
  if (request !== undefined)
    takes.push({ key: `${scope}|${request.key}`, rate: rates[request.name]!, n: 1 });
  return takes;
}

/** How long a throttled call waits at least, before its bucket says more: doubled per throttled attempt, capped. */
const THROTTLED_BASE_MS = 1_000;
const THROTTLED_CAP_MS = 30_000;
/**
 * Throttled answers to one call before its error goes to the kind (which reports
 * the resources as transient, and the engine tries them again later): 8 take
 * minutes at the slowed rates, which no burst of ours needs.
 */
export const MAX_THROTTLED_ATTEMPTS = 8;

/** The clock the waits are slept on: the engine's (a virtual one in tests). */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Waits for each call's tokens, and tries a throttled call again after slowing its bucket. */
export class AwsLimiter {
  /** Calls answered as throttled, and milliseconds waited for tokens, for tests and benchmarks. */
  throttledAnswers = 0;
  waitedMs = 0;
  /** Takes made from this process's memory because the ledger (the store) failed. */
  fellBack = 0;
  /**
   * A store that fails a take (away for a moment, frozen, full) must not fail the
   * AWS call too: the call takes from this process's own buckets instead, which
   * keep it within AWS's limits alone, if not with the other replicas.
   */
  private readonly fallback = new MemoryBuckets();

  constructor(
    private readonly ledger: BucketLedger,
    private readonly clock: LimiterClock,
    private readonly limits: AwsLimits = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** The rates for one account: AWS's defaults, then every account's overrides, then its own. */
  ratesFor(account: string): Readonly<Record<string, BucketRate>> {
    return { ...AWS_BUCKETS, ...this.limits.all, ...this.limits.accounts?.[account] };
  }

  /**
   * Takes the tokens of every bucket a call needs, all at one instant, waiting
   * (outside any transaction) until they all have them: no token is held while
   * the call waits for another bucket's.
   */
  async acquire(takes: readonly Take[]): Promise<void> {
    if (takes.length === 0) return;
    for (;;) {
      const now = this.clock.now();
      const wait = await this.ledger.takeAll(takes, now).catch(() => {
        this.fellBack += 1;
        return this.fallback.takeAll(takes, now);
      });
      if (wait === 0) return;
      this.waitedMs += wait;
      await this.clock.sleep(wait);
    }
  }

  /**
   * Runs a call: its tokens first; a throttled answer slows its buckets down and
   * waits for them (and at least a doubling backoff with jitter, for services
   * whose buckets lightsout does not know) before trying again.
   */
  async run<T>(takes: readonly Take[], call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.acquire(takes);
      try {
        return await call();
      } catch (error) {
        if (!isThrottled(error) || attempt >= MAX_THROTTLED_ATTEMPTS) throw error;
        this.throttledAnswers += 1;
        for (const t of takes) {
          const now = this.clock.now();
          await this.ledger
            .throttled(t.key, t.rate, now)
            .catch(() => this.fallback.throttled(t.key, t.rate, now));
        }
        const ceiling = Math.min(THROTTLED_CAP_MS, THROTTLED_BASE_MS * 2 ** (attempt - 1));
        const backoff = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
        this.waitedMs += backoff;
        await this.clock.sleep(backoff);
      }
    }
  }
}

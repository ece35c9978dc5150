/**
 * What a start or a stop asks of AWS's token buckets, for planning starts that are
 * ready by their instant and saying how long stops take (src/core/ready-by.ts):
 * EC2 Start/StopInstances take a token per call and one per instance from their
 * resource buckets; RDS starts or stops one database or cluster a call; ECS one
 * service an UpdateService call. Kinds whose APIs lightsout knows no bucket for
 * (Auto Scaling, CloudFormation) take none: they settle in their own time.
 */
import type { BucketTake, TierCost } from '../../core/ready-by.js';
import type { BucketRate } from '../../core/token-bucket.js';
import type { PowerState } from '../../core/glossary.js';
import type { Resource, SettlePolls } from '../../engine/ports.js';

/** Ids per Start/StopInstances call (the resource buckets' burst; see ec2.ts). */
const INSTANCE_BATCH = 1_000;

interface KindBuckets {
  /** The request bucket, and how many resources one call carries. */
  readonly calls?: string;
  readonly batch: number;
  /** The resource bucket, a token per resource. */
  readonly each?: string;
}

/** The buckets each kind's start and stop take from. */
const BUCKETS: Readonly<Record<PowerState, Readonly<Record<string, KindBuckets>>>> = {
  on: {
    ec2: {
      calls: 'ec2:StartInstances',
      each: 'ec2:StartInstances:instances',
      batch: INSTANCE_BATCH,
    },
    rds: { calls: 'rds:*', batch: 1 },
    aurora: { calls: 'rds:*', batch: 1 },
    ecs: { calls: 'ecs:UpdateService', batch: 1 },
  },
  off: {
    ec2: { calls: 'ec2:StopInstances', each: 'ec2:StopInstances:instances', batch: INSTANCE_BATCH },
    rds: { calls: 'rds:*', batch: 1 },
    aurora: { calls: 'rds:*', batch: 1 },
    ecs: { calls: 'ecs:UpdateService', batch: 1 },
  },
};

export function actCost(
  resources: readonly Resource[],
  target: PowerState,
  ratesFor: (account: string) => Readonly<Record<string, BucketRate>>,
  polls: (kind: string) => SettlePolls,
): TierCost {
  const counts = new Map<string, { kind: string; account: string; region: string; n: number }>();
  for (const r of resources) {
    // aws:KIND:REGION:ACCOUNT:NAME
    const [, kind = r.kind, region = '', account = ''] = r.id.split(':');
    const key = `${kind}|${account}|${region}`;
    const entry = counts.get(key) ?? { kind, account, region, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  const takes = new Map<string, BucketTake>();
  const add = (bucket: string, rate: BucketRate | undefined, tokens: number) => {
    if (rate === undefined || tokens <= 0) return;
    const before = takes.get(bucket)?.tokens ?? 0;
    takes.set(bucket, { bucket, rate, tokens: before + tokens });
  };
  let settleMs = 0;
  for (const { kind, account, region, n } of counts.values()) {
    // The first look of verification follows the kind's typical transition time.
    settleMs = Math.max(settleMs, polls(kind).firstMs);
    const buckets = BUCKETS[target][kind];
    if (buckets === undefined) continue;
    const rates = ratesFor(account);
    const scope = `aws|${account}|${region}`;
    if (buckets.calls !== undefined)
      add(`${scope}|${buckets.calls}`, rates[buckets.calls], Math.ceil(n / buckets.batch));
    if (buckets.each !== undefined) add(`${scope}|${buckets.each}`, rates[buckets.each], n);
  }
  return { takes: [...takes.values()], settleMs };
}

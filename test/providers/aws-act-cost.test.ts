/** What AWS starts and stops cost in AWS's token buckets, for planning starts ready by their instant. */
import { describe, expect, it } from 'vitest';
import { AwsProvider } from '../../src/providers/aws/aws.js';
import { AwsLimiter } from '../../src/providers/aws/buckets.js';
import { MemoryBuckets } from '../../src/core/token-bucket.js';
import { VirtualClock } from '../../src/engine/clock.js';
import type { Resource } from '../../src/engine/ports.js';

const resource = (kind: string, region: string, account: string, name: string): Resource => ({
  id: `aws:${kind}:${region}:${account}:${name}`,
  provider: 'aws',
  kind,
  name,
  tags: {},
});

const instances = (n: number, region = 'eu-west-1', account = '111111111111') =>
  Array.from({ length: n }, (_, i) => resource('ec2', region, account, `i-${i}`));

describe('AWS start and stop costs', () => {
  it('counts a token per instance and a call per 1,000 in each account and region', () => {
    const cost = new AwsProvider().actCost(
      [...instances(2_500), ...instances(10, 'us-east-1')],
      'on',
    );
    expect(cost.takes).toEqual([
      {
        bucket: 'aws|111111111111|eu-west-1|ec2:StartInstances',
        rate: { burst: 5, perSecond: 2 },
        tokens: 3,
      },
      {
        bucket: 'aws|111111111111|eu-west-1|ec2:StartInstances:instances',
        rate: { burst: 1_000, perSecond: 2 },
        tokens: 2_500,
      },
      {
        bucket: 'aws|111111111111|us-east-1|ec2:StartInstances',
        rate: { burst: 5, perSecond: 2 },
        tokens: 1,
      },
      {
        bucket: 'aws|111111111111|us-east-1|ec2:StartInstances:instances',
        rate: { burst: 1_000, perSecond: 2 },
        tokens: 10,
      },
    ]);
    // EC2's typical start: verification's first look.
    expect(cost.settleMs).toBe(45_000);
  });

  it('takes the stop buckets for a stop, a call per database, and the slowest kind’s time', () => {
    const cost = new AwsProvider().actCost(
      [
        ...instances(1),
        resource('rds', 'eu-west-1', '111111111111', 'db'),
        resource('asg', 'eu-west-1', '111111111111', 'workers'),
      ],
      'off',
    );
    expect(cost.takes.map((t) => [t.bucket.split('|').at(-1), t.tokens])).toEqual([
      ['ec2:StopInstances', 1],
      ['ec2:StopInstances:instances', 1],
      ['rds:*', 1],
    ]);
    expect(cost.settleMs).toBe(4 * 60_000);
  });

  it('uses the limits the config raised for the account', () => {
    const limiter = new AwsLimiter(new MemoryBuckets(), new VirtualClock(0), {
      accounts: {
        '111111111111': { 'ec2:StartInstances:instances': { burst: 5_000, perSecond: 10 } },
      },
    });
    const cost = new AwsProvider({ limiter }).actCost(instances(1), 'on');
    expect(cost.takes[1]!.rate).toEqual({ burst: 5_000, perSecond: 10 });
  });
});

/**
 * Which of AWS's buckets a call takes from, whose they are (account and region),
 * how the config's limits override AWS's defaults, and that the SDK leaves
 * throttled answers to the limiter instead of retrying them itself.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBuckets } from '../../src/core/token-bucket.js';
import type { BucketLedger } from '../../src/core/token-bucket.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { AWS_BUCKETS, AwsLimiter, takesOf } from '../../src/providers/aws/buckets.js';
import { AwsClients, bucketScope } from '../../src/providers/aws/clients.js';

const SCOPE = 'aws|123456789012|eu-west-3';

describe('the buckets a call takes from', () => {
  it('StopInstances: one token per instance, and one call token', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `i-${i}`);
    expect(takesOf(AWS_BUCKETS, SCOPE, 'ec2', 'StopInstances', { InstanceIds: ids })).toEqual([
      {
        key: `${SCOPE}|ec2:StopInstances:instances`,
        rate: { burst: 1_000, perSecond: 20 },
        n: 100,
      },
      { key: `${SCOPE}|ec2:StopInstances`, rate: { burst: 50, perSecond: 5 }, n: 1 },
    ]);
  });

  it('each EC2 Describe API its own bucket at the Describe* rate; other EC2 calls their own at the mutating rate', () => {
    expect(takesOf(AWS_BUCKETS, SCOPE, 'ec2', 'DescribeInstances', {})).toEqual([
      { key: `${SCOPE}|ec2:DescribeInstances`, rate: { burst: 100, perSecond: 20 }, n: 1 },
    ]);
    expect(takesOf(AWS_BUCKETS, SCOPE, 'ec2', 'CreateTags', {})).toEqual([
      { key: `${SCOPE}|ec2:CreateTags`, rate: { burst: 50, perSecond: 5 }, n: 1 },
    ]);
  });

  it('every RDS call one bucket; ECS UpdateService its own; the alarm actions theirs; unknown families none', () => {
    const keyOf = (service: string, action: string) =>
      takesOf(AWS_BUCKETS, SCOPE, service, action, {}).map((t) => t.key.split('|').at(-1));
    expect(keyOf('rds', 'StopDBInstance')).toEqual(['rds:*']);
    expect(keyOf('rds', 'DescribeDBClusters')).toEqual(['rds:*']);
    expect(keyOf('ecs', 'UpdateService')).toEqual(['ecs:UpdateService']);
    expect(keyOf('ecs', 'DescribeServices')).toEqual([]);
    expect(keyOf('cloudwatch', 'DisableAlarmActions')).toEqual(['cloudwatch:DisableAlarmActions']);
    expect(keyOf('autoscaling', 'UpdateAutoScalingGroup')).toEqual([]);
  });

  it("are the selector's account's, else the role's, else the default credentials'", () => {
    expect(bucketScope({ region: 'eu-west-3', account: '111111111111' })).toBe(
      'aws|111111111111|eu-west-3',
    );
    expect(
      bucketScope({ region: 'us-east-1', role: 'arn:aws:iam::222222222222:role/lightsout' }),
    ).toBe('aws|222222222222|us-east-1');
    expect(bucketScope({ region: 'eu-west-3' })).toBe('aws|default|eu-west-3');
  });

  it("take the config's limits: every account's, then one account's", () => {
    const limiter = new AwsLimiter(new MemoryBuckets(), new VirtualClock(0), {
      all: { 'ec2:StopInstances': { burst: 100, perSecond: 10 } },
      accounts: { '111111111111': { 'ec2:StopInstances': { burst: 200, perSecond: 20 } } },
    });
    expect(limiter.ratesFor('111111111111')['ec2:StopInstances']).toEqual({
      burst: 200,
      perSecond: 20,
    });
    expect(limiter.ratesFor('222222222222')['ec2:StopInstances']).toEqual({
      burst: 100,
      perSecond: 10,
    });
    expect(limiter.ratesFor('222222222222')['ec2:StartInstances']).toEqual({
      burst: 5,
      perSecond: 2,
    });
  });
});

describe('a call that waits for its instance tokens', () => {
  it('takes its request token when it is sent, not when it began to wait', async () => {
    const clock = new VirtualClock(0);
    const buckets = new MemoryBuckets();
    const requestTokens: number[] = [];
    const ledger: BucketLedger = {
      take: (key, rate, n, now) => buckets.take(key, rate, n, now),
      takeAll: async (takes, now) => {
        const wait = await buckets.takeAll(takes, now);
        const request = takes.some((t) => t.key.endsWith('|ec2:StartInstances'));
        if (wait === 0 && request) requestTokens.push(now);
        return wait;
      },
      throttled: (key, rate, now) => buckets.throttled(key, rate, now),
    };
    const limiter = new AwsLimiter(ledger, clock);
    const ids = Array.from({ length: 1_000 }, (_, i) => `i-${i}`);
    const start = takesOf(AWS_BUCKETS, SCOPE, 'ec2', 'StartInstances', { InstanceIds: ids });
    const sent: number[] = [];
    const send = () => {
      sent.push(clock.now());
      return Promise.resolve();
    };
    // The first start spends the instance bucket's burst (1,000); the second waits
    // for 1,000 more at 2 a second: 500 s.
    await limiter.run(start, send);
    await limiter.run(start, send);
    expect(sent).toEqual([0, 500_000]);
    expect(requestTokens).toEqual(sent);
  });
});

describe('a limiter whose store fails', () => {
  it("takes from this process's own buckets, so the AWS call goes on within AWS's limits", async () => {
    const clock = new VirtualClock(0);
    const down = new Error('the database is away');
    const limiter = new AwsLimiter(
      {
        take: () => Promise.reject(down),
        takeAll: () => Promise.reject(down),
        throttled: () => Promise.reject(down),
      },
      clock,
    );
    const takes = takesOf(AWS_BUCKETS, SCOPE, 'ec2', 'StartInstances', { InstanceIds: ['i-1'] });
    for (let i = 0; i < 6; i++) await limiter.run(takes, () => Promise.resolve());
    // One take a call (its call and instance tokens together); the sixth asks twice, before and after its wait.
    expect(limiter.fellBack).toBe(7);
    // Five starts at once, the sixth after half a second, as with the store.
    expect(clock.now()).toBe(500);
  });
});

describe("the SDK's retries with a limiter", () => {
  it('leave throttled answers to the limiter and retry the rest', async () => {
    const limiter = new AwsLimiter(new MemoryBuckets(), new VirtualClock(0));
    const ec2 = await new AwsClients(() => 0, limiter).get('ec2', { region: 'eu-west-3' });
    const strategy = (await ec2.config.retryStrategy()) as {
      acquireInitialRetryToken(scope: string): Promise<unknown>;
      refreshRetryTokenForRetry(token: unknown, info: unknown): Promise<unknown>;
    };
    const token = await strategy.acquireInitialRetryToken('ec2');
    const throttled = Object.assign(new Error('Request limit exceeded.'), {
      name: 'RequestLimitExceeded',
    });
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING', error: throttled }),
    ).rejects.toBe(throttled);
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' }),
    ).resolves.toBeDefined();
  });
});

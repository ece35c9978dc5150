import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StartDemand } from '../../src/core/ready-by.js';
import { planStarts } from '../../src/core/ready-by.js';

const MIN = 60_000;
const EC2_START = { burst: 1_000, perSecond: 2 };
const at7 = Date.UTC(2026, 11, 2, 7);

function ec2(environment: string, instances: number, readyBy = at7, settleMs = MIN): StartDemand {
  return {
    environment,
    readyBy,
    tiers: [
      { takes: [{ bucket: 'acct|eu-west-3|start', rate: EC2_START, tokens: instances }], settleMs },
    ],
  };
}

describe('ready by the start time', () => {
  it('begins 10,000 EC2 instances 75 minutes and a start time before the instant', () => {
    const plan = planStarts([ec2('big', 10_000)]).get('big')!;
    expect(plan.waitMs).toBe(75 * MIN);
    expect(plan.settleMs).toBe(MIN);
    expect(plan.beginAt).toBe(at7 - 76 * MIN);
    expect(plan.bucket).toEqual({
      key: 'acct|eu-west-3|start',
      rate: EC2_START,
      tokens: 10_000,
      sharedWith: [],
    });
  });

  it('begins a start within the burst only its start time early', () => {
    const plan = planStarts([ec2('small', 800)]).get('small')!;
    expect(plan.beginAt).toBe(at7 - MIN);
    expect(plan.waitMs).toBe(0);
    expect(plan.bucket).toBeUndefined();
  });

  it('adds the tiers up: the database comes up before the app asks for its instances', () => {
    const plan = planStarts([
      {
        environment: 'shop',
        readyBy: at7,
        tiers: [
          {
            takes: [{ bucket: 'rds', rate: { burst: 300, perSecond: 12 }, tokens: 1 }],
            settleMs: 5 * MIN,
          },
          { takes: [{ bucket: 'ec2', rate: EC2_START, tokens: 3_000 }], settleMs: MIN },
        ],
      },
    ]).get('shop')!;
    // 2,000 instances beyond the burst at 2 a second: 1,000 s, after the database's 5 minutes.
    expect(plan.beginAt).toBe(at7 - MIN - 1_000_000 - 5 * MIN);
  });

  it('orders starts sharing a bucket earliest deadline first, all ready on time', () => {
    const plans = planStarts([ec2('late', 5_000, at7 + 30 * MIN), ec2('early', 5_000, at7)]);
    const early = plans.get('early')!;
    const late = plans.get('late')!;
    expect(early.bucket?.sharedWith).toEqual(['late']);
    expect(late.bucket?.sharedWith).toEqual(['early']);
    // Back to back: the later one asks from 06:47:20 (2,500 s before 07:29), so the
    // earlier one must have asked by then: it begins 2,000 s before that, the burst
    // serving its first 1,000 instances at once.
    expect(late.beginAt).toBe(at7 + 29 * MIN - 2_500_000);
    expect(early.beginAt).toBe(at7 + 29 * MIN - 2_500_000 - 2_000_000);
  });

  it('shares nothing with a start that asks long after it', () => {
    const plans = planStarts([ec2('late', 5_000, at7 + 60 * MIN), ec2('early', 5_000, at7)]);
    expect(plans.get('early')!.bucket?.sharedWith).toEqual([]);
    // Alone, each waits 2,000 s beyond the burst.
    expect(plans.get('early')!.beginAt).toBe(at7 - MIN - 2_000_000);
  });

  it('says when a start cannot begin early enough, and when it will be running instead', () => {
    const plan = planStarts([{ ...ec2('held', 10_000), notBefore: at7 - 30 * MIN }]).get('held')!;
    expect(plan.beginAt).toBe(at7 - 30 * MIN);
    expect(plan.lateUntil).toBe(at7 + 46 * MIN);
  });

  it('leaves every start, shared or not, time to take its tokens before its deadline', () => {
    const demand = fc.record({
      instances: fc.integer({ min: 1, max: 20_000 }),
      offsetMin: fc.integer({ min: 0, max: 600 }),
      settleMin: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(fc.array(demand, { minLength: 1, maxLength: 8 }), (specs) => {
        const demands = specs.map((s, i) =>
          ec2(`e${i}`, s.instances, at7 + s.offsetMin * MIN, s.settleMin * MIN),
        );
        const plans = planStarts(demands);
        // Replay the bucket forward: each start takes its tokens from its begin, in begin order
        // (earliest deadline first when two begin together).
        const order = demands
          .map((d) => ({ d, plan: plans.get(d.environment)! }))
          .sort(
            (a, b) =>
              a.plan.beginAt - b.plan.beginAt ||
              a.d.readyBy - a.d.tiers[0]!.settleMs - (b.d.readyBy - b.d.tiers[0]!.settleMs),
          );
        let level = EC2_START.burst;
        let clock = Number.NEGATIVE_INFINITY;
        for (const { d, plan } of order) {
          const start = Math.max(plan.beginAt, clock);
          if (clock !== Number.NEGATIVE_INFINITY)
            level = Math.min(
              EC2_START.burst,
              level + ((start - clock) * EC2_START.perSecond) / 1000,
            );
          const tokens = d.tiers[0]!.takes[0]!.tokens;
          const missing = Math.max(0, tokens - level);
          level = Math.max(0, level - tokens);
          clock = start + (missing * 1000) / EC2_START.perSecond;
          const deadline = d.readyBy - d.tiers[0]!.settleMs;
          expect(clock).toBeLessThanOrEqual(deadline + demands.length);
          expect(plan.beginAt).toBeLessThanOrEqual(d.readyBy - d.tiers[0]!.settleMs);
        }
      }),
    );
  });
});

/** A resource's price and footprint: the config first, then the shipped table; never a made-up 0. */
import { describe, expect, it } from 'vitest';
import { kwhPerHour, ratesOf, regionOf } from '../../src/savings/rates.js';

const web = {
  id: 'aws:ec2:us-east-1:123456789012:i-0abc',
  name: 'web',
  kind: 'ec2',
  type: 't3.medium',
};

describe('what a resource costs and draws while it runs', () => {
  it('takes an EC2 price from the table (Karpenter, us-east-1, 2026-02-09) and CCF energy', () => {
    const rates = ratesOf(web, 'dev', undefined);
    expect(rates.hourly).toBe(0.0416);
    expect(rates.priceSource).toBe('price table: EC2 t3.medium in us-east-1');
    // (2.12 W x 2 vCPU + 0.392 W x 4 GB) x PUE 1.135 = 6.59208 W
    expect(rates.kwhPerHour).toBeCloseTo(0.00659208, 12);
    expect(rates.kgPerKwh).toBe(0.379069);
  });

  it('takes a discount off the table price', () => {
    expect(ratesOf(web, 'dev', { discount: 0.25 }).hourly).toBeCloseTo(0.0312, 12);
  });

  it("prefers the resource's own price, then the table, then the environment's flat rate", () => {
    expect(ratesOf(web, 'dev', { resources: { web: 0.03 }, hourly: 0.01 }).hourly).toBe(0.03);
    expect(ratesOf(web, 'dev', { hourly: 0.01 }).hourly).toBe(0.0416);
    const box = { id: 'command:build-box', name: 'build-box', kind: 'command' };
    expect(ratesOf(box, 'dev', { hourly: 0.01 })).toEqual({
      hourly: 0.01,
      priceSource: 'config: environments.dev.savings.hourly',
    });
  });

  it('leaves unpriced what it cannot price: no type, no table entry, no override', () => {
    expect(ratesOf({ ...web, type: undefined }, 'dev', undefined)).toEqual({});
    expect(ratesOf({ ...web, type: 'x9.mega' }, 'dev', undefined).hourly).toBeUndefined();
    expect(
      ratesOf({ ...web, id: 'aws:ec2:mars-north-1:1:i-0' }, 'dev', undefined).hourly,
    ).toBeUndefined();
  });

  it('reads the region of AWS ids only', () => {
    expect(regionOf('aws:rds:eu-west-3:123456789012:db')).toBe('eu-west-3');
    expect(regionOf('sandbox:ec2:web')).toBeUndefined();
    expect(kwhPerHour(0, 0)).toBe(0);
  });
});

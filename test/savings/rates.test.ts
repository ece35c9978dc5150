/** A resource's price and footprint: the config first, then the shipped table; never a made-up 0. */
import { describe, expect, it } from 'vitest';
import { PRICE_SOURCES, RDS_HOURLY, RDS_PRIMARY_SOURCE } from '../../src/savings/price-data.js';
import { kwhPerHour, ratesOf, regionOf } from '../../src/savings/rates.js';

const web = {
  id: 'aws:ec2:us-east-1:123456789012:i-0abc',
  name: 'web',
  kind: 'ec2',
  size: { type: 't3.medium' },
};
const workers = {
  id: 'aws:asg:eu-west-3:123456789012:workers',
  name: 'workers',
  kind: 'asg',
  size: { type: 't3.large', count: 3 },
};
const api = {
  id: 'aws:ecs:eu-west-3:123456789012:apps/api',
  name: 'apps/api',
  kind: 'ecs',
  size: { count: 2, vcpu: 0.5, memoryGb: 1, capacity: ['FARGATE'] },
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
    expect(ratesOf({ ...web, size: undefined }, 'dev', undefined)).toEqual({});
    expect(ratesOf({ ...web, size: { type: 'x9.mega' } }, 'dev', undefined).hourly).toBeUndefined();
    expect(
      ratesOf({ ...web, id: 'aws:ec2:mars-north-1:1:i-0' }, 'dev', undefined).hourly,
    ).toBeUndefined();
  });

  it('prices an Auto Scaling group as its count x the type, less a discount, with energy x count', () => {
    const rates = ratesOf(workers, 'dev', undefined);
    // 3 x t3.large in eu-west-3 at 0.0944 (zeebrow, 2023-01-06)
    expect(rates.hourly).toBeCloseTo(0.2832, 12);
    expect(rates.priceSource).toBe('price table: 3 x EC2 t3.large in eu-west-3');
    // 3 x (2.12 W x 2 vCPU + 0.392 W x 8 GB) x PUE 1.135 = 3 x 8.37176 W
    expect(rates.kwhPerHour).toBeCloseTo(0.02511528, 12);
    expect(rates.kgPerKwh).toBe(0.0511);
    expect(ratesOf(workers, 'dev', { discount: 0.25 }).hourly).toBeCloseTo(0.2124, 12);
  });

  it('leaves a group whose count is unknown unpriced by the table (the flat rate still applies)', () => {
    const unknown = { ...workers, size: { type: 't3.large' } };
    expect(ratesOf(unknown, 'dev', undefined)).toEqual({});
    expect(ratesOf(unknown, 'dev', { hourly: 0.05 })).toEqual({
      hourly: 0.05,
      priceSource: 'config: environments.dev.savings.hourly',
    });
  });

  it('prices an ECS service on Fargate as tasks x (vCPU x vCPU-hour + GB x GB-hour) of its region', () => {
    const rates = ratesOf(api, 'dev', undefined);
    // 2 x (0.5 x 0.0486 + 1 x 0.0053) in eu-west-3 (fgcalc) = 2 x 0.0296
    expect(rates.hourly).toBeCloseTo(0.0592, 12);
    expect(rates.priceSource).toBe(
      'price table: 2 x Fargate task of 0.5 vCPU and 1 GB in eu-west-3',
    );
    // 2 x (2.12 W x 0.5 vCPU + 0.392 W x 1 GB) x 1.135 = 2 x 1.64802 W
    expect(rates.kwhPerHour).toBeCloseTo(0.00329604, 12);
    // A service whose task definition could not be read has no task size: unpriced.
    expect(
      ratesOf({ ...api, size: { count: 2, capacity: ['FARGATE'] } }, 'dev', undefined),
    ).toEqual({});
  });

  it('prices Fargate only for tasks all on Fargate on demand, and counts energy on Fargate only', () => {
    const on = (capacity: string[] | undefined) =>
      ratesOf({ ...api, size: { ...api.size, capacity } }, 'dev', undefined);
    // On EC2 capacity the instances cost, not the tasks: they are priced as those instances.
    expect(on(['EC2'])).toEqual({});
    expect(on(['my-asg-provider'])).toEqual({});
    expect(on(['FARGATE', 'my-asg-provider'])).toEqual({});
    // Capacity the service did not show (the cluster's default strategy) is not guessed.
    expect(on(undefined)).toEqual({});
    // Fargate Spot costs less than the table: unpriced, but its tasks do draw energy.
    const spot = on(['FARGATE', 'FARGATE_SPOT']);
    expect(spot.hourly).toBeUndefined();
    expect(spot.kwhPerHour).toBeCloseTo(0.00329604, 12);
    expect(on(['FARGATE']).hourly).toBeCloseTo(0.0592, 12);
  });

  it('prices an ARM64 task at the ARM rates where the table has them, and Windows tasks not at all', () => {
    const graviton = {
      ...api,
      id: 'aws:ecs:us-east-1:123456789012:apps/api',
      size: { ...api.size, cpuArchitecture: 'ARM64', os: 'LINUX' },
    };
    const rates = ratesOf(graviton, 'dev', undefined);
    // 2 x (0.5 x 0.03238 + 1 x 0.00356) in us-east-1 = 2 x 0.01975
    expect(rates.hourly).toBeCloseTo(0.0395, 12);
    expect(rates.priceSource).toBe(
      'price table: 2 x Fargate ARM64 task of 0.5 vCPU and 1 GB in us-east-1',
    );
    // eu-west-3 has no ARM rates in the table.
    expect(ratesOf({ ...graviton, id: api.id }, 'dev', undefined).hourly).toBeUndefined();
    const windows = { ...api, size: { ...api.size, os: 'WINDOWS_SERVER_2022_CORE' } };
    expect(ratesOf(windows, 'dev', undefined).hourly).toBeUndefined();
  });

  it('prices a Single-AZ RDS instance by its class and engine (vantage 2019-11-30, confirmed)', () => {
    const orders = {
      id: 'aws:rds:us-east-1:123456789012:orders',
      name: 'orders',
      kind: 'rds',
      size: { type: 'db.t3.micro', engine: 'postgres', multiAz: false },
    };
    // PostgreSQL costs more than MySQL on the same class: the engine chooses the price.
    expect(ratesOf(orders, 'dev', undefined)).toEqual({
      hourly: 0.018,
      priceSource: 'price table: RDS db.t3.micro (postgres, Single-AZ) in us-east-1',
    });
    const mysql = { ...orders, size: { ...orders.size, engine: 'mysql' } };
    expect(ratesOf(mysql, 'dev', undefined).hourly).toBe(0.017);
    expect(ratesOf(orders, 'dev', { discount: 0.5 }).hourly).toBeCloseTo(0.009, 12);
  });

  it('leaves a database unpriced when its deployment, engine, class or region is not in the table, but takes the config', () => {
    const orders = {
      id: 'aws:rds:us-east-1:123456789012:orders',
      name: 'orders',
      kind: 'rds',
      size: { type: 'db.t3.large', engine: 'mysql', multiAz: false },
    };
    expect(ratesOf(orders, 'dev', undefined).hourly).toBe(0.136);
    const unpriced = [
      // Multi-AZ bills a standby too: another list price, not in the table.
      { ...orders.size, multiAz: true },
      // An inventory row from before engines were recorded.
      { type: 'db.t3.large' },
      { type: 'db.t3.large', engine: 'mysql' },
      // One source only so far.
      { ...orders.size, type: 'db.t3.small' },
      { ...orders.size, engine: 'oracle-se2' },
    ];
    for (const size of unpriced) expect(ratesOf({ ...orders, size }, 'dev', undefined)).toEqual({});
    const paris = { ...orders, id: 'aws:rds:eu-west-3:123456789012:orders' };
    expect(ratesOf(paris, 'dev', undefined)).toEqual({});
    expect(ratesOf(paris, 'dev', { resources: { orders: 0.2 } }).hourly).toBe(0.2);
  });

  it('prices an Aurora cluster as its instances x their class, for its engine, on Standard storage only', () => {
    const ledger = {
      id: 'aws:aurora:us-east-1:123456789012:ledger',
      name: 'ledger',
      kind: 'aurora',
      size: { type: 'db.t3.medium', count: 2, engine: 'aurora-mysql', storageType: 'aurora' },
    };
    const rates = ratesOf(ledger, 'dev', undefined);
    // 2 x 0.082 (vantage 2019-11-30, confirmed by an infracost golden file)
    expect(rates.hourly).toBeCloseTo(0.164, 12);
    expect(rates.priceSource).toBe(
      'price table: 2 x Aurora db.t3.medium (aurora-mysql, Standard storage) in us-east-1',
    );
    // No StorageType is Standard, the API's default.
    const defaulted = { type: 'db.t3.medium', count: 2, engine: 'aurora-mysql' };
    expect(ratesOf({ ...ledger, size: defaulted }, 'dev', undefined).hourly).toBeCloseTo(0.164, 12);
    const unpriced = [
      // I/O-Optimized has a higher instance rate.
      { ...ledger.size, storageType: 'aurora-iopt1' },
      // Members of mixed classes: discovery records no class, nor a count to trust.
      { ...ledger.size, count: undefined },
      // No Aurora PostgreSQL price has a second source yet.
      { ...ledger.size, engine: 'aurora-postgresql' },
      // A Multi-AZ DB cluster of RDS for MySQL is of kind aurora, but not an Aurora price.
      { ...ledger.size, engine: 'mysql' },
    ];
    for (const size of unpriced) expect(ratesOf({ ...ledger, size }, 'dev', undefined)).toEqual({});
  });

  it('names, for every RDS and Aurora price, a listed source that agrees with the primary one', () => {
    const ids = PRICE_SOURCES.map((s) => s.slice(0, s.indexOf(':')));
    expect(ids).toContain(RDS_PRIMARY_SOURCE);
    const prices = Object.values(RDS_HOURLY).flatMap((engines) =>
      Object.values(engines).flatMap((classes) => Object.values(classes)),
    );
    expect(prices.length).toBeGreaterThan(0);
    for (const { hourly, confirmedBy } of prices) {
      expect(hourly).toBeGreaterThan(0);
      expect(ids).toContain(confirmedBy);
      expect(confirmedBy).not.toBe(RDS_PRIMARY_SOURCE);
    }
  });

  it('sizes a sandbox resource for energy but prices it only from the config: it has no region', () => {
    const box = {
      id: 'sandbox:asg:box',
      name: 'box',
      kind: 'asg',
      size: { type: 't3.large', count: 3 },
    };
    const rates = ratesOf(box, 'dev', undefined);
    expect(rates.hourly).toBeUndefined();
    expect(rates.kwhPerHour).toBeCloseTo(0.02511528, 12);
    expect(rates.kgPerKwh).toBeUndefined();
  });

  it('reads the region of AWS ids only', () => {
    expect(regionOf('aws:rds:eu-west-3:123456789012:db')).toBe('eu-west-3');
    expect(regionOf('sandbox:ec2:web')).toBeUndefined();
    expect(kwhPerHour(0, 0)).toBe(0);
  });
});

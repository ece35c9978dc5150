/**
 * Sizes reach the inventory from the describe calls discovery makes anyway: an EC2
 * instance's InstanceType, an RDS instance's DBInstanceClass, an Aurora cluster's
 * writer class (from its members, listed already), an Auto Scaling group's type
 * and desired capacity, an ECS service's desired count; a group or service held at
 * zero keeps the count its stop saved. An ECS service's task size takes one
 * DescribeTaskDefinition per distinct task definition, the only call added for
 * sizes. Against the AWS double, recorded in the store on each test database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import { AwsProvider } from '../../src/providers/aws/aws.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { AwsDouble } from '../support/aws-double.js';

const PREFIX = 'aws:%s:eu-west-3:123456789012:';
const id = (kind: string, name: string) => PREFIX.replace('%s', kind) + name;
const selector = (kinds: string[]): Selector => ({
  provider: 'aws',
  kinds,
  tags: { env: 'dev' },
  settings: { regions: ['eu-west-3'], alarms: false },
});

describe.each(DATABASES)('sizes in the inventory on $name', (database) => {
  let store: Store | undefined;
  let double: AwsDouble | undefined;
  afterEach(async () => {
    double?.restore();
    double = undefined;
    await store?.close();
    store = undefined;
  });

  async function setup() {
    store = await database.open();
    const world = (double = new AwsDouble());
    world.install();
    const provider = new AwsProvider({ restore: store.restoreData(() => 0) });
    /** Discovers as a run does and records what it found; returns the inventory's sizes by id. */
    const inventory = async (kinds: string[]) => {
      const found = await provider.discover(selector(kinds));
      await store!.recordDiscovered('dev', found, 1_000);
      return {
        found,
        sizes: Object.fromEntries((await store!.listResources()).map((r) => [r.id, r.size])),
      };
    };
    return { world, provider, inventory };
  }

  it('records EC2 instance types and RDS classes with no call but the describes', async () => {
    const { world, inventory } = await setup();
    const web = world.addInstance({ name: 'web', tags: { env: 'dev' }, instanceType: 'm5.large' });
    world.addDatabase({ name: 'orders', tags: { env: 'dev' }, instanceClass: 'db.m5.large' });
    world.addCluster({
      name: 'ledger',
      members: ['ledger-1', 'ledger-2'],
      memberTags: { env: 'dev' },
    });
    const { sizes } = await inventory(['ec2', 'rds']);
    expect(sizes).toEqual({
      [id('ec2', web.id)]: { type: 'm5.large' },
      // Engine and deployment choose the price of a class.
      [id('rds', 'orders')]: { type: 'db.m5.large', engine: 'postgres', multiAz: false },
      // Both members (db.r6g.large in the double) stop with their cluster.
      [id('aurora', 'ledger')]: { type: 'db.r6g.large', count: 2, engine: 'aurora-postgresql' },
    });
    expect(world.history().map((c) => c.command)).toEqual([
      'DescribeInstances',
      'DescribeDBInstances',
      'DescribeDBClusters',
    ]);
  });

  it('records a Multi-AZ instance as such, a cluster’s storage type, and no size for a cluster of mixed classes', async () => {
    const { world, inventory } = await setup();
    world.addDatabase({
      name: 'billing',
      tags: { env: 'dev' },
      engine: 'mysql',
      instanceClass: 'db.t3.large',
      multiAz: true,
    });
    world.addCluster({
      name: 'ledger',
      members: ['ledger-1'],
      memberTags: { env: 'dev' },
      engine: 'aurora-mysql',
      storageType: 'aurora-iopt1',
      memberClasses: ['db.r5.large'],
    });
    world.addCluster({
      name: 'search',
      members: ['search-1', 'search-2'],
      memberTags: { env: 'dev' },
      memberClasses: ['db.r5.large', 'db.r5.xlarge'],
    });
    const { sizes } = await inventory(['rds']);
    expect(sizes).toEqual({
      [id('rds', 'billing')]: { type: 'db.t3.large', engine: 'mysql', multiAz: true },
      [id('aurora', 'ledger')]: {
        type: 'db.r5.large',
        count: 1,
        engine: 'aurora-mysql',
        storageType: 'aurora-iopt1',
      },
      // Two classes have no single price: no size, so no price from the table.
      [id('aurora', 'search')]: undefined,
    });
  });

  it('records a group as its instances’ type x its desired capacity, and keeps the count while it is held at 0', async () => {
    const { world, provider, inventory } = await setup();
    world.addGroup({
      name: 'workers',
      min: 1,
      max: 4,
      desired: 3,
      tags: { env: 'dev' },
      instanceType: 't3.large',
    });
    world.addGroup({
      name: 'batch',
      min: 0,
      max: 2,
      desired: 0,
      tags: { env: 'dev' },
      overrides: ['c5.large'],
    });
    const first = await inventory(['asg']);
    expect(first.sizes).toEqual({
      [id('asg', 'workers')]: { type: 't3.large', count: 3 },
      // No instance runs: the one type of its mixed instances policy; no count at 0.
      [id('asg', 'batch')]: { type: 'c5.large' },
    });
    expect(world.history().map((c) => c.command)).toEqual(['DescribeAutoScalingGroups']);

    const workers = first.found.filter((r) => r.name === 'workers');
    await provider.act(workers, 'off');
    for (let i = 0; i < 5; i++) await provider.observe(workers);
    expect(world.capacity('workers')).toBe('0/0/0');
    const held = await inventory(['asg']);
    // No instance is left to say its type: the count is the one its stop saved in
    // the group's tag, and the inventory keeps the type it knew.
    expect(held.found.find((r) => r.name === 'workers')!.size).toEqual({ count: 3 });
    expect(held.sizes[id('asg', 'workers')]).toEqual({ type: 't3.large', count: 3 });
  });

  it('records an ECS service’s desired count, and the saved one while it is held at 0', async () => {
    const { world, provider, inventory } = await setup();
    world.addService({ cluster: 'apps', name: 'api', desired: 2, tags: { env: 'dev' } });
    world.addService({ cluster: 'apps', name: 'idle', desired: 0, tags: { env: 'dev' } });
    const first = await inventory(['ecs']);
    expect(first.sizes).toEqual({
      [id('ecs', 'apps/api')]: { count: 2 },
      // At 0 with no count saved and no task definition in the double: nothing known.
      [id('ecs', 'apps/idle')]: {},
    });
    const api = first.found.filter((r) => r.name === 'apps/api');
    await provider.act(api, 'off');
    world.clearCalls();
    const held = await inventory(['ecs']);
    expect(world.service('apps', 'api').desired).toBe(0);
    expect(held.found.find((r) => r.name === 'apps/api')!.size).toEqual({ count: 2 });
    expect(held.sizes[id('ecs', 'apps/api')]).toEqual({ count: 2 });
    // The saved count comes from the store, not from AWS.
    expect(world.history().map((c) => c.command)).not.toContain('DescribeTaskDefinition');
  });

  it('records an ECS service’s task size and capacity, and forgets the size once its task definition cannot be read', async () => {
    const { world, inventory } = await setup();
    const web = world.addTaskDefinition({ family: 'web', cpu: '1024', memory: '2048' });
    world.addService({
      cluster: 'apps',
      name: 'api',
      desired: 2,
      tags: { env: 'dev' },
      taskDefinition: web,
      launchType: 'FARGATE',
    });
    world.addService({
      cluster: 'apps',
      name: 'admin',
      desired: 1,
      tags: { env: 'dev' },
      taskDefinition: web,
      capacityProviders: ['FARGATE_SPOT'],
    });
    const first = await inventory(['ecs']);
    expect(first.sizes).toEqual({
      [id('ecs', 'apps/api')]: { count: 2, capacity: ['FARGATE'], vcpu: 1, memoryGb: 2 },
      [id('ecs', 'apps/admin')]: { count: 1, capacity: ['FARGATE_SPOT'], vcpu: 1, memoryGb: 2 },
    });
    expect(world.calls('DescribeTaskDefinition')).toBe(1);

    // A new revision the next discovery is refused: the size of the old one is not kept.
    const api = world.service('apps', 'api');
    api.taskDefinition = world.addTaskDefinition({ family: 'web', cpu: '2048', memory: '4096' });
    world.fail(
      'DescribeTaskDefinition',
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const second = await inventory(['ecs']);
    expect(second.sizes[id('ecs', 'apps/api')]).toEqual({ count: 2, capacity: ['FARGATE'] });
    // The revision read before is not read again.
    expect(second.sizes[id('ecs', 'apps/admin')]).toEqual(first.sizes[id('ecs', 'apps/admin')]);
    expect(world.calls('DescribeTaskDefinition')).toBe(2);

    const third = await inventory(['ecs']);
    expect(third.sizes[id('ecs', 'apps/api')]).toMatchObject({ vcpu: 2, memoryGb: 4 });
  });
});

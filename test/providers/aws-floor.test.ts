/**
 * The AWS floor (issue 16): every call at the largest size AWS documents, page
 * sizes always explicit, one alarm listing per run, verification polls at the
 * kind's pace, and a double that refuses what AWS would refuse. Counted at the
 * SDK boundary against the stateful double (test/support/aws-double.ts).
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment, Selector } from '../../src/core/glossary.js';
import { AwsProvider } from '../../src/providers/aws/aws.js';
import type { Store } from '../../src/store/store.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';
import { AwsDouble } from '../support/aws-double.js';

const REGION = 'eu-west-3';
const client = { region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

let double: AwsDouble | undefined;
afterEach(() => {
  double?.restore();
  double = undefined;
});

function world(options: ConstructorParameters<typeof AwsDouble>[0] = {}): AwsDouble {
  double = new AwsDouble({ region: REGION, ...options }).install();
  return double;
}

const ec2Selector = (settings: Record<string, unknown> = {}): Selector => ({
  provider: 'aws',
  kinds: ['ec2'],
  tags: { env: 'dev' },
  settings: { regions: [REGION], ...settings },
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i}`);

describe('the double refuses calls larger than AWS documents', () => {
  it.each([
    [
      'StopInstances with 1,001 ids (over the 1,000-instance resource bucket)',
      () => new EC2Client(client).send(new StopInstancesCommand({ InstanceIds: ids(1001) })),
      'RequestLimitExceeded',
    ],
    [
      'DescribeInstances with 1,001 ids',
      () => new EC2Client(client).send(new DescribeInstancesCommand({ InstanceIds: ids(1001) })),
      'InvalidParameterValue',
    ],
    [
      'DescribeInstances with MaxResults and InstanceIds together',
      () =>
        new EC2Client(client).send(
          new DescribeInstancesCommand({ InstanceIds: ['i-1'], MaxResults: 5 }),
        ),
      'InvalidParameterCombination',
    ],
    [
      'DescribeAlarms with MaxRecords 101',
      () => new CloudWatchClient(client).send(new DescribeAlarmsCommand({ MaxRecords: 101 })),
      'InvalidParameterValue',
    ],
    [
      'DisableAlarmActions with 101 names',
      () =>
        new CloudWatchClient(client).send(new DisableAlarmActionsCommand({ AlarmNames: ids(101) })),
      'InvalidParameterValue',
    ],
    [
      'DescribeServices with 11 services',
      () =>
        new ECSClient(client).send(
          new DescribeServicesCommand({ cluster: 'apps', services: ids(11) }),
        ),
      'InvalidParameterException',
    ],
    [
      'DescribeDBInstances with MaxRecords 10 (20 at least)',
      () => new RDSClient(client).send(new DescribeDBInstancesCommand({ MaxRecords: 10 })),
      'InvalidParameterValue',
    ],
  ])('%s', async (_, call, code) => {
    const aws = world();
    aws.addInstance({ id: 'i-1' });
    await expect(call()).rejects.toMatchObject({ name: code });
    expect(aws.totalCalls()).toBe(1); // refused calls count, as AWS counts them against the bucket
    expect(aws.history()[0]).toMatchObject({ error: code });
  });

  it('answers calls at the limit', async () => {
    const aws = world();
    const all = aws.seedInstances(1000, { env: 'dev' });
    const ec2 = new EC2Client(client);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: all }));
    expect(described.Reservations).toHaveLength(1000);
    const stopped = await ec2.send(new StopInstancesCommand({ InstanceIds: all }));
    expect(stopped.StoppingInstances).toHaveLength(1000);
    expect(aws.requestCounts()).toEqual({ DescribeInstances: 1, StopInstances: 1 });
  });
});

describe('the double reports listings that left the page size to the server', () => {
  it('names a DescribeAlarms without MaxRecords, not one with it nor a DescribeInstances by ids', async () => {
    const aws = world();
    aws.addInstance({ id: 'i-1' });
    const cloudwatch = new CloudWatchClient(client);
    await cloudwatch.send(new DescribeAlarmsCommand({}));
    await cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 100 }));
    await new EC2Client(client).send(new DescribeInstancesCommand({ InstanceIds: ['i-1'] }));
    expect(aws.unsizedListings().map((c) => [c.command, c.input])).toEqual([
      ['DescribeAlarms', {}],
    ]);
  });
});

describe('EC2 at the floor', () => {
  it('discovers, stops and verifies 2,500 instances in 3 calls each, every listing sized', async () => {
    const aws = world();
    aws.seedInstances(2500, { env: 'dev' });
    const provider = new AwsProvider();
    const found = await provider.discover(ec2Selector({ alarms: false }));
    expect(found).toHaveLength(2500);
    expect(aws.calls('DescribeInstances')).toBe(3);

    const outcomes = await provider.act(found, 'off');
    expect(outcomes.filter((o) => o.result === 'accepted')).toHaveLength(2500);
    expect(aws.inputs('StopInstances').map((i) => (i.InstanceIds as string[]).length)).toEqual([
      1000, 1000, 500,
    ]);

    aws.clearCalls();
    const states = await provider.observe(found);
    expect([...states.values()].every((s) => s === 'stopping')).toBe(true);
    expect(aws.inputs('DescribeInstances').map((i) => (i.InstanceIds as string[]).length)).toEqual([
      1000, 1000, 500,
    ]);
    expect(aws.unsizedListings()).toEqual([]);
  });

  it('keeps splitting a failing stop so one bad instance fails alone among 1,000', async () => {
    const aws = world();
    aws.seedInstances(999, { env: 'dev' });
    aws.addInstance({ name: 'scratch', tags: { env: 'dev' }, rootDeviceType: 'instance-store' });
    const provider = new AwsProvider();
    const found = await provider.discover(ec2Selector({ alarms: false }));
    // Discovery knows it cannot be stopped; here it is asked anyway, as a resource read elsewhere.
    const fresh = new AwsProvider();
    const outcomes = await fresh.act(found, 'off');
    expect(outcomes.filter((o) => o.result === 'failed').map((o) => o.id)).toEqual([
      found.find((r) => r.name === 'scratch')!.id,
    ]);
    expect(outcomes.filter((o) => o.result === 'accepted')).toHaveLength(999);
    // 1 call of 1,000, then halves down to the bad one: 1 + 2 × log2(1,000) at most.
    expect(aws.calls('StopInstances')).toBeLessThanOrEqual(1 + 2 * 10);
  });

  it('reads a batch through the instance-id filter when an instance is gone for good', async () => {
    const aws = world();
    aws.seedInstances(3, { env: 'dev' });
    const provider = new AwsProvider();
    const found = await provider.discover(ec2Selector({ alarms: false }));
    const gone = found[1]!;
    aws.instances.delete(gone.id.split(':').pop()!);
    aws.clearCalls();
    const states = await provider.observe(found);
    expect(states.get(gone.id)).toBe('missing');
    expect(states.get(found[0]!.id)).toBe('on');
    expect(aws.history().map((c) => c.error ?? Object.keys(c.input).sort().join(','))).toEqual([
      'InvalidInstanceID.NotFound',
      'Filters,MaxResults',
    ]);
  });
});

describe('one alarm listing serves a run', () => {
  const run = (id: string) => ({ id, direction: 'stop', at: 0 });

  it('lists the region once for every kind and tier of a run, and again for the next run', async () => {
    const aws = world();
    for (const i of aws.seedInstances(150, { env: 'dev' }))
      aws.addAlarm({ name: `${i}-cpu`, dimensions: { InstanceId: i } });
    aws.addDatabase({ name: 'db', tags: { env: 'dev' } });
    aws.addAlarm({ name: 'db-cpu', dimensions: { DBInstanceIdentifier: 'db' } });
    const provider = new AwsProvider();
    const instances = await provider.discover(ec2Selector());
    const databases = await provider.discover({ ...ec2Selector(), kinds: ['rds'] });
    aws.clearCalls();

    // Two tiers of one run: the listing (151 alarms, 2 pages of 100) is made once.
    const first = await provider.settled(instances, 'off', run('r1'));
    const second = await provider.settled(databases, 'off', run('r1'));
    expect(aws.calls('DescribeAlarms')).toBe(2);
    expect(aws.inputs('DescribeAlarms').every((i) => i.MaxRecords === 100)).toBe(true);
    expect(first.filter((n) => n.kind === 'alarms.disabled')).toHaveLength(150);
    expect(second).toEqual([
      { id: databases[0]!.id, kind: 'alarms.disabled', detail: { alarms: ['db-cpu'] } },
    ]);
    expect(aws.inputs('DisableAlarmActions').map((i) => (i.AlarmNames as string[]).length)).toEqual(
      [100, 50, 1],
    );
    expect(aws.enabledAlarms()).toEqual([]);

    // Another run lists again: an alarm created since is seen.
    aws.addAlarm({ name: 'db-latency', dimensions: { DBInstanceIdentifier: 'db' } });
    await provider.settled(databases, 'off', run('r2'));
    expect(aws.calls('DescribeAlarms')).toBe(4);
    expect(aws.enabledAlarms()).toEqual([]);
  });
});

describe.each(DATABASES)('verification polls at the kind pace on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const environment: Environment = {
    name: 'fleet',
    timezone: 'UTC',
    graceMs: 0,
    tiers: [{ name: 'instances', select: [ec2Selector()] }],
  };

  it('sees a 1,000-instance stop settled in one poll of one call when it takes 40 s', async () => {
    const opened = (store = await database.open());
    const late: { clock?: { now(): number } } = {};
    const now = () => late.clock!.now();
    const aws = world({ now, settleMs: 40_000 });
    aws.seedInstances(1000, { env: 'dev' });
    const h = await harness(opened, {
      environments: [environment],
      seeds: [],
      start: '2026-06-01T18:00:00Z',
      providers: new Map([['aws', new AwsProvider({ restore: opened.restoreData(now), now })]]),
    });
    late.clock = h.clock;
    const started = h.clock.now();
    await h.engine.command('fleet', 'stop', 'test', 0);
    await h.engine.tick();
    await h.engine.idle();
    const [run] = await opened.listRuns({ environment: 'fleet' });
    expect(run).toMatchObject({ status: 'succeeded' });
    const describes = aws.history().filter((c) => c.command === 'DescribeInstances');
    const verify = describes.filter((c) => c.input.InstanceIds !== undefined);
    // Discovery, then one poll 45 s after the stop (EC2's first look), and nothing between.
    expect(describes).toHaveLength(2);
    expect(verify).toHaveLength(1);
    expect(verify[0]!.at! - started).toBeGreaterThanOrEqual(45_000);
    expect(aws.calls('StopInstances')).toBe(1);
    expect(aws.calls('DescribeAlarms')).toBe(1);
  });

  it('looks at a database first after 4 minutes, not every few seconds', async () => {
    const opened = (store = await database.open());
    const late: { clock?: { now(): number } } = {};
    const now = () => late.clock!.now();
    const aws = world({ now, settleMs: 5 * 60_000 });
    aws.addDatabase({ name: 'db', tags: { env: 'dev' } });
    const h = await harness(opened, {
      environments: [
        {
          ...environment,
          tiers: [{ name: 'data', select: [{ ...ec2Selector(), kinds: ['rds'] }] }],
        },
      ],
      seeds: [],
      start: '2026-06-01T18:00:00Z',
      providers: new Map([['aws', new AwsProvider({ restore: opened.restoreData(now), now })]]),
    });
    late.clock = h.clock;
    await h.engine.command('fleet', 'stop', 'test', 0);
    await h.engine.tick();
    await h.engine.idle();
    const [run] = await opened.listRuns({ environment: 'fleet' });
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(aws.database('db').status).toBe('stopped');
    const stopAt = aws.history().find((c) => c.command === 'StopDBInstance')!.at!;
    const polls = aws
      .history()
      .filter((c) => c.command === 'DescribeDBInstances' && c.at! > stopAt)
      .map((c) => (c.at! - stopAt) / 1000);
    // 4 min, then +30 s, +45 s: settled at 5 min, seen at 5 min 15 s.
    expect(polls).toEqual([240, 270, 315]);
  });

  it('polls a slower stop again at growing intervals, never faster than the kind allows', async () => {
    const opened = (store = await database.open());
    const late: { clock?: { now(): number } } = {};
    const now = () => late.clock!.now();
    const aws = world({ now, settleMs: 100_000 });
    aws.seedInstances(10, { env: 'dev' });
    const h = await harness(opened, {
      environments: [environment],
      seeds: [],
      start: '2026-06-01T18:00:00Z',
      providers: new Map([['aws', new AwsProvider({ restore: opened.restoreData(now), now })]]),
    });
    late.clock = h.clock;
    await h.engine.command('fleet', 'stop', 'test', 0);
    await h.engine.tick();
    await h.engine.idle();
    const stopAt = aws.history().find((c) => c.command === 'StopInstances')!.at!;
    const polls = aws
      .history()
      .filter((c) => c.command === 'DescribeInstances' && c.input.InstanceIds !== undefined)
      .map((c) => (c.at! - stopAt) / 1000);
    // 45 s, then +15 s, +22.5 s, +33.75 s: settled by 100 s.
    expect(polls).toEqual([45, 60, 82.5, 116.25]);
  });
});

/**
 * A whole environment through the real Engine and the real AwsProvider, against
 * the stateful AWS double (test/support/aws-double.ts), on every test database.
 * The environment has three tiers: `data` (an RDS instance, and an Aurora cluster
 * found through its tagged members), `compute` (an Auto Scaling group and an EC2
 * instance), `services` (an ECS service with an autoscaling target), on office hours.
 *
 * Assertions read the SDK calls the double answered (`changes()`, in order), the
 * double's world (what AWS would show), and what the store saved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment, Selector } from '../../src/core/glossary.js';
import type { Provider } from '../../src/engine/ports.js';
import { AwsProvider } from '../../src/providers/aws/aws.js';
import type { Store } from '../../src/store/store.js';
import { periodSchedule } from '../core/build.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { AwsDouble, connectionReset } from '../support/aws-double.js';
import { harness } from './harness.js';

const REGION = 'eu-west-3';
const ACCOUNT = '123456789012';

const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};

const aws = (...kinds: string[]): Selector => ({
  provider: 'aws',
  kinds,
  tags: { env: 'dev' },
  settings: { regions: [REGION] },
});

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'data', select: [aws('rds')] },
    { name: 'compute', select: [aws('asg', 'ec2')] },
    { name: 'services', select: [aws('ecs')] },
  ],
};

const id = (kind: string, name: string) => `aws:${kind}:${REGION}:${ACCOUNT}:${name}`;

/** The dev environment, a neighbour (qa) that must never be touched, and their alarms. */
function seed(double: AwsDouble): void {
  double.addDatabase({ name: 'dev-db', tags: { env: 'dev' } });
  double.addCluster({
    name: 'dev-aurora',
    members: ['dev-aurora-1', 'dev-aurora-2'],
    memberTags: { env: 'dev' },
  });
  double.addGroup({ name: 'dev-workers', min: 2, max: 6, desired: 3, tags: { env: 'dev' } });
  double.addInstance({ name: 'dev-web', tags: { env: 'dev' } });
  double.addService({ cluster: 'apps', name: 'dev-api', desired: 4, tags: { env: 'dev' } });
  // A person suspended scheduled scaling long ago: a start must put exactly that back.
  double.addTarget({
    cluster: 'apps',
    service: 'dev-api',
    min: 2,
    max: 10,
    suspended: { ScheduledScalingSuspended: true },
  });
  double.addDatabase({ name: 'qa-db', tags: { env: 'qa' } });
  double.addInstance({ name: 'qa-web', tags: { env: 'qa' } });
  double.addService({ cluster: 'apps', name: 'qa-api', desired: 2, tags: { env: 'qa' } });

  double.addAlarm({ name: 'dev-db-cpu', dimensions: { DBInstanceIdentifier: 'dev-db' } });
  // Disabled by a person before any stop: it must stay disabled after the start.
  double.addAlarm({
    name: 'dev-db-storage',
    dimensions: { DBInstanceIdentifier: 'dev-db' },
    actionsEnabled: false,
  });
  double.addAlarm({ name: 'dev-aurora-cpu', dimensions: { DBClusterIdentifier: 'dev-aurora' } });
  double.addAlarm({
    name: 'dev-workers-cpu',
    dimensions: { AutoScalingGroupName: 'dev-workers' },
  });
  double.addAlarm({
    name: 'dev-web-cpu',
    dimensions: { InstanceId: double.instance('dev-web').id },
  });
  double.addAlarm({
    name: 'dev-api-cpu',
    namespace: 'AWS/ECS',
    dimensions: { ClusterName: 'apps', ServiceName: 'dev-api' },
  });
  double.addAlarm({ name: 'qa-web-cpu', dimensions: { InstanceId: double.instance('qa-web').id } });
}

const ALL_ALARMS_BUT_THE_PERSONS = [
  'dev-api-cpu',
  'dev-aurora-cpu',
  'dev-db-cpu',
  'dev-web-cpu',
  'dev-workers-cpu',
  'qa-web-cpu',
];

describe.each(DATABASES)('an AWS environment through the engine on $name', (database) => {
  let store: Store | undefined;
  let double: AwsDouble | undefined;
  afterEach(async () => {
    double?.restore();
    double = undefined;
    await store?.close();
    store = undefined;
  });

  const setup = async (start: string) => {
    const opened = (store = await database.open());
    // The harness makes the clock; the provider and the double read it once it exists.
    const late: { clock?: { now(): number } } = {};
    const now = () => late.clock!.now();
    const world = (double = new AwsDouble({ region: REGION, account: ACCOUNT, now }));
    seed(world);
    world.install();
    const restore = opened.restoreData(now);
    /** What a (re)started process builds: a provider with nothing in memory. */
    const providers = (): ReadonlyMap<string, Provider> =>
      new Map([['aws', new AwsProvider({ restore, now })]]);
    const h = await harness(opened, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [],
      start,
      providers: providers(),
    });
    late.clock = h.clock;
    return { h, double: world, store: opened, restore, providers };
  };

  it('stops services, compute, data at the scheduled instant, saving what a start needs, and starts them back exactly', async () => {
    const { h, double, store, restore } = await setup('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:00Z'); // first pass: everything is on already
    double.clearCalls();
    await h.tickAt('2026-06-01T17:45Z');
    expect(double.changes()).toEqual([]); // the warning only
    await h.tickAt('2026-06-01T18:00Z');

    expect(double.changes()).toEqual([
      // services: scaling suspended before the count goes to 0, so autoscaling cannot undo it
      'RegisterScalableTarget service/apps/dev-api suspended=in,out,scheduled',
      'UpdateService apps/dev-api desiredCount=0',
      'DisableAlarmActions dev-api-cpu',
      // compute: the capacity saved on the group, and its scheduled actions paused, before it goes to 0
      'CreateOrUpdateTags dev-workers lightsout:capacity=2,6,3; dev-workers lightsout:suspended=ScheduledActions',
      'SuspendProcesses dev-workers ScheduledActions',
      'UpdateAutoScalingGroup dev-workers 0/0/0',
      'StopInstances dev-web',
      // one call for the tier's kinds together
      'DisableAlarmActions dev-web-cpu,dev-workers-cpu',
      // data
      'StopDBInstance dev-db',
      'StopDBCluster dev-aurora',
      'DisableAlarmActions dev-aurora-cpu,dev-db-cpu',
    ]);
    // Five kinds in three tiers: the region's alarms listed once for the whole run.
    expect(double.calls('DescribeAlarms')).toBe(1);
    // Every listing named its page size: none depends on a server default.
    expect(double.unsizedListings()).toEqual([]);
    expect(double.instance('dev-web').state).toBe('stopped');
    expect(double.capacity('dev-workers')).toBe('0/0/0');
    expect(double.group('dev-workers').instances.size).toBe(0);
    expect(double.service('apps', 'dev-api')).toMatchObject({ desired: 0, running: 0 });
    expect(double.target('service/apps/dev-api').suspended).toEqual({
      DynamicScalingInSuspended: true,
      DynamicScalingOutSuspended: true,
      ScheduledScalingSuspended: true,
    });
    expect(double.database('dev-db').status).toBe('stopped');
    expect(double.cluster('dev-aurora').status).toBe('stopped');
    expect(double.database('dev-aurora-1').status).toBe('stopped');
    // The neighbour is untouched.
    expect(double.instance('qa-web').state).toBe('running');
    expect(double.database('qa-db').status).toBe('available');
    expect(double.service('apps', 'qa-api').desired).toBe(2);
    // Exactly the alarms that had actions enabled were disabled.
    expect(double.enabledAlarms()).toEqual(['qa-web-cpu']);
    // What a start needs, saved in the store (and the capacity on the group too).
    expect(await restore.load(id('asg', 'dev-workers'), 'capacity')).toEqual({
      min: 2,
      max: 6,
      desired: 3,
    });
    expect(double.group('dev-workers').tags.get('lightsout:capacity')?.value).toBe('2,6,3');
    expect(await restore.load(id('ecs', 'apps/dev-api'), 'desiredCount')).toBe(4);
    expect(await restore.load(id('ecs', 'apps/dev-api'), 'scalingSuspended')).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });
    expect(await restore.load(id('rds', 'dev-db'), 'alarms')).toEqual(['dev-db-cpu']);
    const [stop] = await store.listRuns({ environment: 'dev' });
    expect(stop).toMatchObject({ direction: 'stop', status: 'succeeded', trigger: 'schedule' });
    expect(h.notifier.notices.at(-1)?.text).toBe('dev: stop succeeded (5 resources)');
    expect((await store.listSteps(stop!.id)).map((s) => [s.resource, s.status]).sort()).toEqual(
      [
        [id('aurora', 'dev-aurora'), 'done'],
        [id('asg', 'dev-workers'), 'done'],
        [id('ec2', double.instance('dev-web').id), 'done'],
        [id('ecs', 'apps/dev-api'), 'done'],
        [id('rds', 'dev-db'), 'done'],
      ].sort(),
    );

    double.clearCalls();
    await h.tickAt('2026-06-02T08:00Z');
    expect(double.changes()).toEqual([
      'StartDBInstance dev-db',
      'StartDBCluster dev-aurora',
      'EnableAlarmActions dev-aurora-cpu,dev-db-cpu',
      'UpdateAutoScalingGroup dev-workers 2/6/3',
      'ResumeProcesses dev-workers ScheduledActions',
      'StartInstances dev-web',
      'EnableAlarmActions dev-web-cpu,dev-workers-cpu',
      // verified on: what the stop saved is forgotten
      'DeleteTags dev-workers lightsout:capacity; dev-workers lightsout:suspended',
      // the count first, then scaling exactly as it was (scheduled scaling still suspended)
      'UpdateService apps/dev-api desiredCount=4',
      'RegisterScalableTarget service/apps/dev-api suspended=scheduled',
      'EnableAlarmActions dev-api-cpu',
    ]);
    expect(double.database('dev-db').status).toBe('available');
    expect(double.cluster('dev-aurora').status).toBe('available');
    expect(double.capacity('dev-workers')).toBe('2/6/3');
    expect([...double.group('dev-workers').instances.values()]).toEqual([
      'InService',
      'InService',
      'InService',
    ]);
    expect(double.instance('dev-web').state).toBe('running');
    expect(double.service('apps', 'dev-api')).toMatchObject({ desired: 4, running: 4 });
    expect(double.target('service/apps/dev-api').suspended).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });
    expect(double.enabledAlarms()).toEqual(ALL_ALARMS_BUT_THE_PERSONS);
    expect(double.alarms.get('dev-db-storage')?.actionsEnabled).toBe(false);
    expect(await restore.load(id('ecs', 'apps/dev-api'), 'scalingSuspended')).toBeUndefined();
    expect(await restore.load(id('rds', 'dev-db'), 'alarms')).toBeUndefined();
    // Nothing saved outlives the start: not in the store, not on the group.
    expect(await restore.load(id('asg', 'dev-workers'), 'capacity')).toBeUndefined();
    expect(await restore.load(id('asg', 'dev-workers'), 'suspendedProcesses')).toBeUndefined();
    expect(await restore.load(id('ecs', 'apps/dev-api'), 'desiredCount')).toBeUndefined();
    expect([...double.group('dev-workers').tags.keys()]).toEqual(['env']);
    expect(double.group('dev-workers').suspended.size).toBe(0);
    const [start] = await store.listRuns({ environment: 'dev' });
    expect(start).toMatchObject({ direction: 'start', status: 'succeeded' });
    expect(h.notifier.notices.at(-1)?.text).toBe('dev: start succeeded (5 resources)');
  });

  it.each([
    ['before AWS applied it (the request never left)', false],
    ['after AWS applied it (the answer was lost)', true],
  ])(
    'survives a crash while setting the group to 0, %s: the run completes and the saved capacity is the original',
    async (_, applied) => {
      const { h, double, store, restore, providers } = await setup('2026-06-01T17:00Z');
      await h.tickAt('2026-06-01T17:00Z');
      await h.tickAt('2026-06-01T17:45Z');
      double.intercept(
        'UpdateAutoScalingGroup',
        (_input, apply) => {
          if (applied) apply();
          // The process is told to stop (shutdown waits for this very run, so not awaited).
          void h.engine.shutdown();
          throw connectionReset();
        },
        1,
      );
      await h.tickAt('2026-06-01T18:00Z');
      const [run] = await store.listRuns({ environment: 'dev' });
      expect(run).toMatchObject({ direction: 'stop', status: 'acting' });
      expect(double.capacity('dev-workers')).toBe(applied ? '0/0/0' : '2/6/3');
      expect(double.database('dev-db').status).toBe('available'); // data waits for compute

      double.clearCalls();
      const restarted = h.makeEngine('test', providers());
      await h.tickAt('2026-06-01T18:05Z', restarted);
      expect(await store.getRun(run!.id)).toMatchObject({ status: 'succeeded' });
      const compute = double.changes().filter((c) => c.includes('dev-workers'));
      expect(compute).toEqual(
        applied
          ? ['DisableAlarmActions dev-web-cpu,dev-workers-cpu']
          : [
              // ScheduledActions was suspended before the crash, by this stop: still to resume on start
              'CreateOrUpdateTags dev-workers lightsout:capacity=2,6,3; dev-workers lightsout:suspended=ScheduledActions',
              'UpdateAutoScalingGroup dev-workers 0/0/0',
              'DisableAlarmActions dev-web-cpu,dev-workers-cpu',
            ],
      );
      expect(double.calls('StopInstances')).toBe(0); // done before the crash, not repeated
      expect(double.capacity('dev-workers')).toBe('0/0/0');
      expect(double.group('dev-workers').instances.size).toBe(0);
      expect(double.database('dev-db').status).toBe('stopped');
      expect(await restore.load(id('asg', 'dev-workers'), 'capacity')).toEqual({
        min: 2,
        max: 6,
        desired: 3,
      });
      expect(double.group('dev-workers').tags.get('lightsout:capacity')?.value).toBe('2,6,3');

      await h.tickAt('2026-06-02T08:00Z', restarted);
      expect(double.inputs('UpdateAutoScalingGroup').at(-1)).toEqual({
        AutoScalingGroupName: 'dev-workers',
        MinSize: 2,
        MaxSize: 6,
        DesiredCapacity: 3,
      });
      expect(double.capacity('dev-workers')).toBe('2/6/3');
      // Scheduled actions run again, whichever attempt of the stop suspended them.
      expect(double.group('dev-workers').suspended.size).toBe(0);
      expect(await store.listRuns({ environment: 'dev' }).then((r) => r[0])).toMatchObject({
        direction: 'start',
        status: 'succeeded',
      });
    },
  );

  it('stops again, alone, a database AWS started by itself after the stop; a person’s start is left alone', async () => {
    const { h, double, store } = await setup('2026-06-05T17:00Z'); // Friday
    await h.tickAt('2026-06-05T17:00Z');
    await h.tickAt('2026-06-05T17:45Z');
    await h.tickAt('2026-06-05T18:00Z');
    expect(double.database('dev-db').status).toBe('stopped');

    h.clock.set(at('2026-06-06T10:00Z'));
    double.startByItself('dev-db'); // as AWS does after seven days stopped
    double.setInstanceState('dev-web', 'running'); // a person, at the console
    double.clearCalls();
    await h.tickAt('2026-06-06T10:05Z');

    expect(double.changes()).toEqual(['StopDBInstance dev-db']);
    expect(double.database('dev-db').status).toBe('stopped');
    expect(double.instance('dev-web').state).toBe('running');
    expect(double.cluster('dev-aurora').status).toBe('stopped');
    const [run] = await store.listRuns({ environment: 'dev' });
    expect(run).toMatchObject({ direction: 'stop', trigger: 'auto-restart', status: 'succeeded' });
    expect((await store.listSteps(run!.id)).map((s) => [s.resource, s.status])).toEqual([
      [id('rds', 'dev-db'), 'done'],
    ]);
    const [restarted] = (await store.queryEvents({ kind: 'resource.restarted-by-itself' })).events;
    expect(restarted?.payload).toEqual({ desired: 'off', resources: [id('rds', 'dev-db')] });
    // Its alarm stayed disabled all along: nothing to disable again.
    expect(double.alarms.get('dev-db-cpu')?.actionsEnabled).toBe(false);
  });

  it('boosts the service to its maximum with scale-in paused, then resumes scale-in as it was', async () => {
    const { h, double, store, restore } = await setup('2026-06-01T10:00Z');
    await h.tickAt('2026-06-01T10:00Z');
    double.clearCalls();
    const during: unknown[] = [];
    double.intercept('UpdateService', (_input, apply) => {
      during.push({ ...double.target('service/apps/dev-api').suspended });
      return apply();
    });
    const run = await h.engine.boost('dev', 30 * 60_000, 'gus');
    await h.tickAt('2026-06-01T10:00Z');

    expect(double.changes()).toEqual([
      'RegisterScalableTarget service/apps/dev-api suspended=in,scheduled',
      'UpdateService apps/dev-api desiredCount=10',
      'RegisterScalableTarget service/apps/dev-api suspended=scheduled',
    ]);
    // Scale-in (only) was paused before the count went up.
    expect(during).toEqual([
      {
        DynamicScalingInSuspended: true,
        DynamicScalingOutSuspended: false,
        ScheduledScalingSuspended: true,
      },
    ]);
    const registered = double.history().filter((c) => c.command === 'RegisterScalableTarget');
    expect(registered.map((c) => (c.at ?? 0) >= at('2026-06-01T10:30Z'))).toEqual([false, true]);
    expect(double.target('service/apps/dev-api').suspended).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });
    // Scale-in now brings the count down in its own time; lightsout does not.
    expect(double.service('apps', 'dev-api')).toMatchObject({ desired: 10, running: 10 });
    expect(await restore.load(id('ecs', 'apps/dev-api'), 'burstScalingSuspended')).toBeUndefined();
    expect(await store.getRun(run.id)).toMatchObject({ status: 'succeeded' });
    expect((await store.listSteps(run.id)).map((s) => [s.resource, s.action, s.status])).toEqual([
      [id('ecs', 'apps/dev-api'), 'boost', 'done'],
      [id('ecs', 'apps/dev-api'), 'unboost', 'done'],
    ]);
    expect(double.instance('dev-web').state).toBe('running');
    expect(double.capacity('dev-workers')).toBe('2/6/3');
  });
});

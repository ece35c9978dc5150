/**
 * CloudWatch alarms of stopped resources at the SDK boundary, against a small fake
 * of CloudWatch that keeps each alarm's ActionsEnabled: which alarms name a resource
 * (every dimension kind, metric math), what is saved, what a start enables again,
 * pages and batches of 100, a crash between saving and disabling, and errors per
 * resource.
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
} from '@aws-sdk/client-cloudwatch';
import type {
  DescribeAlarmsCommandInput,
  Dimension,
  MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Resource } from '../../src/engine/ports.js';
import { disableAlarms, enableAlarms } from '../../src/providers/aws/alarms.js';
import type { AlarmTarget } from '../../src/providers/aws/alarms.js';
import { memoryRestoreData } from '../../src/providers/aws/aws.js';
import { AwsClients } from '../../src/providers/aws/clients.js';
import type { KindContext } from '../../src/providers/aws/kind.js';

const cw = mockClient(CloudWatchClient);
const connection = { region: 'eu-west-3' };

function resource(kind: string, name: string): Resource {
  return {
    id: `aws:${kind}:eu-west-3:123456789012:${name}`,
    provider: 'aws',
    kind,
    name,
    tags: {},
  };
}

function target(kind: string, name: string, dimensions: Dimension[]): AlarmTarget {
  return { resource: resource(kind, name), dimensions: dimensions as AlarmTarget['dimensions'] };
}

const instance = (id: string) => target('ec2', id, [{ Name: 'InstanceId', Value: id }]);

function alarm(name: string, dimensions: Dimension[], actionsEnabled = true): MetricAlarm {
  return {
    AlarmName: name,
    ActionsEnabled: actionsEnabled,
    Namespace: 'AWS/EC2',
    MetricName: 'CPUUtilization',
    Dimensions: dimensions,
  };
}

/** A metric-math alarm: its dimensions are only in `Metrics[].MetricStat.Metric`. */
function mathAlarm(name: string, ...metrics: Dimension[][]): MetricAlarm {
  return {
    AlarmName: name,
    ActionsEnabled: true,
    Metrics: [
      ...metrics.map((dimensions, i) => ({
        Id: `m${i}`,
        ReturnData: false,
        MetricStat: {
          Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: dimensions },
          Period: 60,
          Stat: 'Average',
        },
      })),
      { Id: 'e1', Expression: 'SUM(METRICS())', ReturnData: true },
    ],
  };
}

/**
 * CloudWatch holding these alarms: DescribeAlarms pages with MaxRecords/NextToken and
 * filters by AlarmNames; Disable/EnableAlarmActions set ActionsEnabled.
 */
function cloudWatch(alarms: MetricAlarm[]): MetricAlarm[] {
  cw.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    listings.push({ ...input });
    const wanted = alarms.filter(
      (a) => input.AlarmNames === undefined || input.AlarmNames.includes(a.AlarmName ?? ''),
    );
    const start = Number(input.NextToken ?? 0);
    const end = start + (input.MaxRecords ?? 50);
    return {
      MetricAlarms: wanted.slice(start, end).map((a) => ({ ...a })),
      NextToken: end < wanted.length ? String(end) : undefined,
    };
  });
  const setActions = (enabled: boolean) => (input: { AlarmNames: string[] | undefined }) => {
    for (const a of alarms)
      if (input.AlarmNames?.includes(a.AlarmName ?? '')) a.ActionsEnabled = enabled;
    return {};
  };
  cw.on(DisableAlarmActionsCommand).callsFake(setActions(false));
  cw.on(EnableAlarmActionsCommand).callsFake(setActions(true));
  return alarms;
}

function enabled(alarms: MetricAlarm[]): string[] {
  return alarms.filter((a) => a.ActionsEnabled === true).map((a) => a.AlarmName ?? '');
}

function names(
  calls: readonly { args: readonly [{ input: { AlarmNames?: string[] | undefined } }] }[],
): string[][] {
  return calls.map((c) => c.args[0].input.AlarmNames ?? []);
}

let context: KindContext;
/** DescribeAlarms inputs as sent (the SDK's paginator reuses one input object). */
let listings: DescribeAlarmsCommandInput[];

beforeEach(() => {
  cw.reset();
  listings = [];
  context = { clients: new AwsClients(), restore: memoryRestoreData(), now: () => 0 };
});

describe('disabling the alarms of stopped resources', () => {
  const other = (d: Dimension[]) => d.map((x) => ({ ...x, Value: `${x.Value}-other` }));
  it.each([
    ['ec2', [{ Name: 'InstanceId', Value: 'i-0abc' }]],
    ['asg', [{ Name: 'AutoScalingGroupName', Value: 'workers' }]],
    ['rds', [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }]],
    ['aurora', [{ Name: 'DBClusterIdentifier', Value: 'orders-cluster' }]],
    [
      'ecs',
      [
        { Name: 'ClusterName', Value: 'dev' },
        { Name: 'ServiceName', Value: 'api' },
      ],
    ],
  ])(
    '%s: an alarm naming the resource is disabled, one naming another is not',
    async (kind, dims) => {
      const alarms = cloudWatch([alarm('mine', dims), alarm('theirs', other(dims))]);
      const stopped = target(kind, 'r', dims);
      expect(await disableAlarms(context, connection, [stopped])).toEqual([
        { id: stopped.resource.id, alarms: ['mine'] },
      ]);
      expect(enabled(alarms)).toEqual(['theirs']);
      expect(await context.restore.load(stopped.resource.id, 'alarms')).toEqual(['mine']);
    },
  );

  it('ecs: an alarm must name both the cluster and the service', async () => {
    const alarms = cloudWatch([
      alarm('cluster', [{ Name: 'ClusterName', Value: 'dev' }]),
      alarm('other-service', [
        { Name: 'ClusterName', Value: 'dev' },
        { Name: 'ServiceName', Value: 'worker' },
      ]),
      alarm('service', [
        { Name: 'ServiceName', Value: 'api' },
        { Name: 'ClusterName', Value: 'dev' },
      ]),
    ]);
    const service = target('ecs', 'dev/api', [
      { Name: 'ClusterName', Value: 'dev' },
      { Name: 'ServiceName', Value: 'api' },
    ]);
    expect((await disableAlarms(context, connection, [service]))[0]?.alarms).toEqual(['service']);
    expect(enabled(alarms)).toEqual(['cluster', 'other-service']);
  });

  it('metric-math alarms name a resource through one of their metrics', async () => {
    const alarms = cloudWatch([
      mathAlarm(
        'math-mine',
        [{ Name: 'InstanceId', Value: 'i-2' }],
        [{ Name: 'InstanceId', Value: 'i-1' }],
      ),
      mathAlarm('math-theirs', [{ Name: 'InstanceId', Value: 'i-2' }]),
      // Both dimensions must be in the same metric.
      mathAlarm(
        'math-split',
        [{ Name: 'ClusterName', Value: 'dev' }],
        [{ Name: 'ServiceName', Value: 'api' }],
      ),
    ]);
    const service = target('ecs', 'dev/api', [
      { Name: 'ClusterName', Value: 'dev' },
      { Name: 'ServiceName', Value: 'api' },
    ]);
    const changes = await disableAlarms(context, connection, [instance('i-1'), service]);
    expect(changes.map((c) => c.alarms)).toEqual([['math-mine'], []]);
    expect(enabled(alarms)).toEqual(['math-theirs', 'math-split']);
  });

  it('lists the alarms once for all resources, across pages of 100', async () => {
    const alarms = Array.from({ length: 250 }, (_, i) =>
      alarm(`cpu-${i}`, [{ Name: 'InstanceId', Value: `i-${i}` }]),
    );
    cloudWatch(alarms);
    const changes = await disableAlarms(context, connection, [instance('i-3'), instance('i-240')]);
    expect(changes.map((c) => c.alarms)).toEqual([['cpu-3'], ['cpu-240']]);
    expect(listings).toEqual([
      { AlarmTypes: ['MetricAlarm'], MaxRecords: 100 },
      { AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: '100' },
      { AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: '200' },
    ]);
    expect(names(cw.commandCalls(DisableAlarmActionsCommand))).toEqual([['cpu-3', 'cpu-240']]);
  });

  it('disables and enables 100 names a call at most', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `i-${i}`);
    const alarms = cloudWatch(
      ids.map((id) => alarm(`cpu-${id}`, [{ Name: 'InstanceId', Value: id }])),
    );
    await disableAlarms(context, connection, ids.map(instance));
    expect(names(cw.commandCalls(DisableAlarmActionsCommand)).map((n) => n.length)).toEqual([
      100, 50,
    ]);
    expect(enabled(alarms)).toEqual([]);

    cw.resetHistory();
    const changes = await enableAlarms(
      context,
      connection,
      ids.map((id) => instance(id).resource),
    );
    expect(changes.every((c) => c.alarms.length === 1 && c.error === undefined)).toBe(true);
    expect(names(cw.commandCalls(EnableAlarmActionsCommand)).map((n) => n.length)).toEqual([
      100, 50,
    ]);
    expect(names(cw.commandCalls(DescribeAlarmsCommand)).map((n) => n.length)).toEqual([100, 50]);
    expect(enabled(alarms)).toHaveLength(150);
  });

  it('a stop repeated after a crash keeps the names saved before', async () => {
    const alarms = cloudWatch([alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }])]);
    cw.on(DisableAlarmActionsCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'ECONNRESET' }))
      .callsFake(() => {
        alarms[0]!.ActionsEnabled = false;
        return {};
      });
    const id = instance('i-1').resource.id;
    expect(await disableAlarms(context, connection, [instance('i-1')])).toEqual([
      { id, alarms: [], error: 'ECONNRESET: socket hang up' },
    ]);
    expect(await context.restore.load(id, 'alarms')).toEqual(['cpu']);

    expect(await disableAlarms(context, connection, [instance('i-1')])).toEqual([
      { id, alarms: ['cpu'] },
    ]);
    // Now disabled: a third stop finds nothing enabled, and the name is still saved.
    expect(await disableAlarms(context, connection, [instance('i-1')])).toEqual([
      { id, alarms: [] },
    ]);
    expect(await context.restore.load(id, 'alarms')).toEqual(['cpu']);
    expect(cw.commandCalls(DisableAlarmActionsCommand)).toHaveLength(2);
  });

  it('a repeated stop adds to the names saved before and drops none', async () => {
    cloudWatch([alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }])]);
    const id = instance('i-1').resource.id;
    await context.restore.save(id, 'alarms', ['deleted-since']);
    await disableAlarms(context, connection, [instance('i-1')]);
    expect(await context.restore.load(id, 'alarms')).toEqual(['deleted-since', 'cpu']);
  });

  it('a resource without dimensions names no alarm', async () => {
    const alarms = cloudWatch([alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }])]);
    const stack = target('stack', 'app', []);
    const changes = await disableAlarms(context, connection, [stack, instance('i-2')]);
    expect(changes.map((c) => c.alarms)).toEqual([[], []]);
    expect(enabled(alarms)).toEqual(['cpu']);
  });

  it('asks nothing of CloudWatch when no resource has dimensions', async () => {
    const stopped = target('stack', 'app', []);
    expect(await disableAlarms(context, connection, [stopped])).toEqual([
      { id: stopped.resource.id, alarms: [] },
    ]);
    expect(cw.calls()).toHaveLength(0);
  });
});

describe('enabling them again after the start', () => {
  it('enables exactly the alarms lightsout disabled, never one a person disabled', async () => {
    const alarms = cloudWatch([
      alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }]),
      alarm('disk-muted-by-hand', [{ Name: 'InstanceId', Value: 'i-1' }], false),
    ]);
    const stopped = instance('i-1');
    await disableAlarms(context, connection, [stopped]);
    expect(await context.restore.load(stopped.resource.id, 'alarms')).toEqual(['cpu']);
    // A person disables another alarm of the instance while it is stopped.
    alarms.push(alarm('net-muted-while-stopped', [{ Name: 'InstanceId', Value: 'i-1' }], false));

    expect(await enableAlarms(context, connection, [stopped.resource])).toEqual([
      { id: stopped.resource.id, alarms: ['cpu'] },
    ]);
    expect(names(cw.commandCalls(EnableAlarmActionsCommand))).toEqual([['cpu']]);
    expect(enabled(alarms)).toEqual(['cpu']);
    expect(await context.restore.load(stopped.resource.id, 'alarms')).toBeUndefined();
  });

  it('skips alarms deleted while the resource was stopped', async () => {
    cloudWatch([alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }], false)]);
    const started = instance('i-1').resource;
    await context.restore.save(started.id, 'alarms', ['cpu', 'deleted']);
    expect(await enableAlarms(context, connection, [started])).toEqual([
      { id: started.id, alarms: ['cpu'] },
    ]);
    expect(names(cw.commandCalls(EnableAlarmActionsCommand))).toEqual([['cpu']]);
    expect(await context.restore.load(started.id, 'alarms')).toBeUndefined();
  });

  it('asks nothing of CloudWatch when nothing was saved', async () => {
    const started = instance('i-1').resource;
    expect(await enableAlarms(context, connection, [started])).toEqual([
      { id: started.id, alarms: [] },
    ]);
    expect(cw.calls()).toHaveLength(0);
  });

  it('an alarm watching two stopped resources is enabled when the last of them starts', async () => {
    const alarms = cloudWatch([
      mathAlarm(
        'pair',
        [{ Name: 'InstanceId', Value: 'i-1' }],
        [{ Name: 'InstanceId', Value: 'i-2' }],
      ),
    ]);
    await disableAlarms(context, connection, [instance('i-1')]);
    // Already disabled by lightsout for i-1: i-2 takes it too.
    expect(await disableAlarms(context, connection, [instance('i-2')])).toEqual([
      { id: instance('i-2').resource.id, alarms: [] },
    ]);
    expect(await context.restore.load(instance('i-2').resource.id, 'alarms')).toEqual(['pair']);

    expect(
      (await enableAlarms(context, connection, [instance('i-1').resource]))[0]?.alarms,
    ).toEqual([]);
    expect(enabled(alarms)).toEqual([]);
    expect(
      (await enableAlarms(context, connection, [instance('i-2').resource]))[0]?.alarms,
    ).toEqual(['pair']);
    expect(enabled(alarms)).toEqual(['pair']);
  });
});

describe('errors', () => {
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });

  it('a failed listing is reported for every resource, not thrown', async () => {
    cw.on(DescribeAlarmsCommand).rejects(throttled);
    const changes = await disableAlarms(context, connection, [instance('i-1'), instance('i-2')]);
    expect(changes).toEqual([
      { id: instance('i-1').resource.id, alarms: [], error: 'Throttling: Rate exceeded' },
      { id: instance('i-2').resource.id, alarms: [], error: 'Throttling: Rate exceeded' },
    ]);
  });

  it('a failed batch fails only the resources whose alarms were in it', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `i-${i}`);
    const alarms = cloudWatch(
      ids.map((id) => alarm(`cpu-${id}`, [{ Name: 'InstanceId', Value: id }])),
    );
    cw.on(DisableAlarmActionsCommand)
      .rejectsOnce(throttled)
      .callsFake(() => {
        alarms[100]!.ActionsEnabled = false;
        return {};
      });
    const changes = await disableAlarms(context, connection, ids.map(instance));
    expect(changes[0]).toEqual({
      id: instance('i-0').resource.id,
      alarms: [],
      error: 'Throttling: Rate exceeded',
    });
    expect(changes[100]).toEqual({ id: instance('i-100').resource.id, alarms: ['cpu-i-100'] });
  });

  it('no alarm is disabled when the names could not be saved (one write, all or none)', async () => {
    const alarms = cloudWatch([
      alarm('cpu-1', [{ Name: 'InstanceId', Value: 'i-1' }]),
      alarm('cpu-2', [{ Name: 'InstanceId', Value: 'i-2' }]),
    ]);
    context = {
      ...context,
      restore: {
        ...memoryRestoreData(),
        saveMany: () => Promise.reject(new Error('database is locked')),
      },
    };
    const changes = await disableAlarms(context, connection, [instance('i-1'), instance('i-2')]);
    expect(changes).toEqual([
      { id: instance('i-1').resource.id, alarms: [], error: 'Error: database is locked' },
      { id: instance('i-2').resource.id, alarms: [], error: 'Error: database is locked' },
    ]);
    expect(enabled(alarms)).toEqual(['cpu-1', 'cpu-2']);
    expect(cw.commandCalls(DisableAlarmActionsCommand)).toHaveLength(0);
  });

  it('a failed enable keeps the saved names for the next start', async () => {
    cloudWatch([alarm('cpu', [{ Name: 'InstanceId', Value: 'i-1' }], false)]);
    cw.on(EnableAlarmActionsCommand).rejects(throttled);
    const started = instance('i-1').resource;
    await context.restore.save(started.id, 'alarms', ['cpu']);
    expect(await enableAlarms(context, connection, [started])).toEqual([
      { id: started.id, alarms: [], error: 'Throttling: Rate exceeded' },
    ]);
    expect(await context.restore.load(started.id, 'alarms')).toEqual(['cpu']);
  });
});

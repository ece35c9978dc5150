/**
 * The AWS `asg` kind at the SDK boundary: capacity saved (store and tag) before it
 * goes to 0, restored on start, never overwritten by a repeated stop, forgotten
 * after a verified start, and a crash between saving and scaling down. The whole
 * story against a stateful double: aws-asg-restore.test.ts.
 */
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import { AwsProvider, memoryRestoreData } from '../../src/providers/aws/aws.js';

const asg = mockClient(AutoScalingClient);
const selector: Selector = {
  provider: 'aws',
  kinds: ['asg'],
  tags: { env: 'dev' },
  settings: { regions: ['eu-west-3'] },
};
const ARN =
  'arn:aws:autoscaling:eu-west-3:123456789012:autoScalingGroup:uuid:autoScalingGroupName/workers';

function group(
  min: number,
  max: number,
  desired: number,
  extra: Partial<AutoScalingGroup> = {},
): AutoScalingGroup {
  return {
    AutoScalingGroupName: 'workers',
    AutoScalingGroupARN: ARN,
    MinSize: min,
    MaxSize: max,
    DesiredCapacity: desired,
    Instances: [],
    Tags: [{ Key: 'env', Value: 'dev' }],
    ...extra,
  } as AutoScalingGroup;
}

async function setup(initial: AutoScalingGroup) {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [initial] });
  const restore = memoryRestoreData();
  const provider = new AwsProvider({ restore });
  const resources = await provider.discover({
    ...selector,
    settings: { regions: ['eu-west-3'], alarms: false },
  });
  return { provider, restore, resources };
}

beforeEach(() => {
  asg.reset();
});

describe('Auto Scaling groups', () => {
  it('are discovered by tags, with the account from their ARN, across pages', async () => {
    asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [group(1, 4, 2)], NextToken: 'next' })
      .resolvesOnce({ AutoScalingGroups: [group(0, 1, 0, { AutoScalingGroupName: 'batch' })] });
    const found = await new AwsProvider().discover(selector);
    expect(found.map((r) => r.id)).toEqual([
      'aws:asg:eu-west-3:123456789012:workers',
      'aws:asg:eu-west-3:123456789012:batch',
    ]);
    expect(asg.commandCalls(DescribeAutoScalingGroupsCommand)[0]!.args[0].input).toMatchObject({
      Filters: [{ Name: 'tag:env', Values: ['dev'] }],
    });
  });

  it('stop saves min/max/desired in the store and as a tag, suspends ScheduledActions, then sets them to 0', async () => {
    const { provider, restore, resources } = await setup(group(1, 4, 2));
    asg.on(CreateOrUpdateTagsCommand).resolves({});
    asg.on(SuspendProcessesCommand).resolves({});
    asg.on(UpdateAutoScalingGroupCommand).resolves({});
    expect(await provider.act(resources, 'off')).toEqual([
      { id: resources[0]!.id, result: 'accepted' },
    ]);
    expect(await restore.load(resources[0]!.id, 'capacity')).toEqual({
      min: 1,
      max: 4,
      desired: 2,
    });
    expect(asg.commandCalls(CreateOrUpdateTagsCommand)[0]!.args[0].input.Tags?.[0]).toMatchObject({
      Key: 'lightsout:capacity',
      Value: '1,4,2',
    });
    expect(asg.commandCalls(CreateOrUpdateTagsCommand)[0]!.args[0].input.Tags?.[1]).toMatchObject({
      Key: 'lightsout:suspended',
      Value: 'ScheduledActions',
    });
    // Named: SuspendProcesses without ScalingProcesses would suspend every process.
    expect(asg.commandCalls(SuspendProcessesCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      ScalingProcesses: ['ScheduledActions'],
    });
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      MinSize: 0,
      MaxSize: 0,
      DesiredCapacity: 0,
    });
  });

  it('a stop of a group already at 0 changes nothing and keeps what was saved', async () => {
    const { provider, restore, resources } = await setup(group(0, 0, 0));
    await restore.save(resources[0]!.id, 'capacity', { min: 1, max: 4, desired: 2 });
    expect(await provider.act(resources, 'off')).toEqual([
      { id: resources[0]!.id, result: 'already' },
    ]);
    expect(await restore.load(resources[0]!.id, 'capacity')).toEqual({
      min: 1,
      max: 4,
      desired: 2,
    });
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  it('a crash between saving the capacity and setting it to 0 is safe to repeat', async () => {
    const { provider, restore, resources } = await setup(group(1, 4, 2));
    asg.on(CreateOrUpdateTagsCommand).resolves({});
    asg
      .on(UpdateAutoScalingGroupCommand)
      .rejectsOnce(
        Object.assign(new Error('socket hang up'), { name: 'ECONNRESET', code: 'ECONNRESET' }),
      )
      .resolves({});
    expect((await provider.act(resources, 'off'))[0]?.result).toBe('transient');
    expect((await provider.act(resources, 'off'))[0]?.result).toBe('accepted');
    expect(await restore.load(resources[0]!.id, 'capacity')).toEqual({
      min: 1,
      max: 4,
      desired: 2,
    });
  });

  it('start restores the saved capacity, from the store or else from the tag', async () => {
    const { provider, restore, resources } = await setup(group(0, 0, 0));
    await restore.save(resources[0]!.id, 'capacity', { min: 1, max: 4, desired: 2 });
    asg.on(UpdateAutoScalingGroupCommand).resolves({});
    expect(await provider.act(resources, 'on')).toEqual([
      { id: resources[0]!.id, result: 'accepted' },
    ]);
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 2,
    });

    asg.reset();
    const tagged = await setup(
      group(0, 0, 0, { Tags: [{ Key: 'lightsout:capacity', Value: '2,6,3' }] }),
    );
    asg.on(UpdateAutoScalingGroupCommand).resolves({});
    await tagged.provider.act(tagged.resources, 'on');
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toMatchObject({
      MinSize: 2,
      MaxSize: 6,
      DesiredCapacity: 3,
    });
  });

  it('a start of a group that is on answers already and changes nothing, whatever its capacity', async () => {
    const { provider, restore, resources } = await setup(group(2, 6, 4));
    expect(await provider.act(resources, 'on')).toEqual([
      { id: resources[0]!.id, result: 'already' },
    ]);
    // Saved data that no verified start forgot yet (a start by hand while off) is told, not fought.
    await restore.save(resources[0]!.id, 'capacity', { min: 1, max: 3, desired: 2 });
    expect(await provider.act(resources, 'on')).toEqual([
      {
        id: resources[0]!.id,
        result: 'already',
        output:
          'workers is on already at 2/6/4 min/max/desired (lightsout had saved 1/3/2); left as it is',
      },
    ]);
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(asg.commandCalls(ResumeProcessesCommand)).toHaveLength(0);
  });

  it('a verified start deletes the tags it finds and the store rows; a verified stop keeps them', async () => {
    // alarms: false, so the follow-ups call Auto Scaling only.
    const { provider, restore, resources } = await setup(
      group(1, 3, 2, {
        Tags: [
          { Key: 'env', Value: 'dev' },
          { Key: 'lightsout:capacity', Value: '1,3,2' },
          { Key: 'lightsout:suspended', Value: 'ScheduledActions' },
        ],
      }),
    );
    await restore.save(resources[0]!.id, 'capacity', { min: 1, max: 3, desired: 2 });
    await restore.save(resources[0]!.id, 'suspendedProcesses', ['ScheduledActions']);
    asg.on(DeleteTagsCommand).resolves({});
    const run = { id: 'run', direction: 'stop', at: 0 };
    await provider.settled(resources, 'off', run);
    expect(asg.commandCalls(DeleteTagsCommand)).toHaveLength(0);
    expect(await restore.load(resources[0]!.id, 'capacity')).toBeDefined();

    await provider.settled(resources, 'on', { ...run, direction: 'start' });
    expect(asg.commandCalls(DeleteTagsCommand)[0]!.args[0].input).toEqual({
      Tags: [
        {
          ResourceId: 'workers',
          ResourceType: 'auto-scaling-group',
          Key: 'lightsout:capacity',
          Value: '1,3,2',
        },
        {
          ResourceId: 'workers',
          ResourceType: 'auto-scaling-group',
          Key: 'lightsout:suspended',
          Value: 'ScheduledActions',
        },
      ],
    });
    expect(await restore.load(resources[0]!.id, 'capacity')).toBeUndefined();
    expect(await restore.load(resources[0]!.id, 'suspendedProcesses')).toBeUndefined();
  });

  it('reads off when no instance is left, and on when as many are in service as desired', async () => {
    const { provider, resources } = await setup(group(0, 0, 0));
    const states = async (g: AutoScalingGroup) => {
      asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [g] });
      return (await provider.observe(resources)).get(resources[0]!.id);
    };
    expect(
      await states(
        group(0, 0, 0, {
          Instances: [{ InstanceId: 'i-1', LifecycleState: 'Terminating' }] as never,
        }),
      ),
    ).toBe('stopping');
    expect(await states(group(0, 0, 0))).toBe('off');
    expect(
      await states(
        group(1, 4, 2, {
          Instances: [{ InstanceId: 'i-1', LifecycleState: 'InService' }] as never,
        }),
      ),
    ).toBe('starting');
    expect(
      await states(
        group(1, 4, 2, {
          Instances: [
            { InstanceId: 'i-1', LifecycleState: 'InService' },
            { InstanceId: 'i-2', LifecycleState: 'InService' },
          ] as never,
        }),
      ),
    ).toBe('on');
  });
});

import { describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

describe('lightsout iam-policy', () => {
  it("prints only the actions the selected kinds need, narrowed to the selectors' tags", async () => {
    const file = configFile(`environments:
  dev:
    tiers:
      - { name: apps, select: { provider: aws, regions: [eu-west-3], kinds: [ec2, asg], tags: { Scheduled: OfficeHours }, alarms: false } }
`);
    const result = await cli(['iam-policy', '--config', file]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DescribeInstances',
          Effect: 'Allow',
          Action: ['ec2:DescribeInstances'],
          Resource: '*',
        },
        {
          Sid: 'StartStopInstances1',
          Effect: 'Allow',
          Action: ['ec2:StartInstances', 'ec2:StopInstances'],
          Resource: 'arn:aws:ec2:*:*:instance/*',
          Condition: { StringEquals: { 'aws:ResourceTag/Scheduled': 'OfficeHours' } },
        },
        {
          Sid: 'DescribeAutoScalingGroups',
          Effect: 'Allow',
          Action: ['autoscaling:DescribeAutoScalingGroups'],
          Resource: '*',
        },
        {
          Sid: 'ScaleAutoScalingGroups1',
          Effect: 'Allow',
          Action: [
            'autoscaling:UpdateAutoScalingGroup',
            'autoscaling:CreateOrUpdateTags',
            'autoscaling:DeleteTags',
            'autoscaling:SuspendProcesses',
            'autoscaling:ResumeProcesses',
          ],
          Resource: '*',
          Condition: { StringEquals: { 'autoscaling:ResourceTag/Scheduled': 'OfficeHours' } },
        },
      ],
    });
  });

  it('covers every kind, alarms, last-action tags and assumed roles', async () => {
    const file = configFile(`environments:
  dev:
    tiers:
      - { name: data, select: { provider: aws, regions: [eu-west-3], kinds: [rds, aurora], tags: { env: dev }, last_action_tags: true } }
      - { name: apps, select: { provider: aws, regions: [eu-west-3], kinds: [ecs, stack], tags: { env: dev }, role: "arn:aws:iam::123456789012:role/lightsout" } }
`);
    const result = await cli(['iam-policy', '--config', file]);
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.out) as {
      Statement: { Sid: string; Action: string[]; Condition?: unknown }[];
    };
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid)).toEqual([
      'DescribeDatabases',
      'StartStopDBInstances1',
      'DescribeDBClusters',
      'StartStopDBClusters1',
      'DescribeServices',
      'UpdateServices1',
      'SuspendAndResumeServiceScaling',
      'DescribeStacks',
      'SaveAndDeleteStacks1',
      'RecreateStacks1',
      'PassStackServiceRoles',
      'DisableAndEnableAlarmActions',
    ]);
    expect(bySid.StartStopDBInstances1).toMatchObject({
      Action: ['rds:StartDBInstance', 'rds:StopDBInstance', 'rds:AddTagsToResource'],
      Condition: { StringEquals: { 'rds:db-tag/env': 'dev' } },
    });
    expect(bySid.StartStopDBClusters1?.Condition).toEqual({
      StringEquals: { 'rds:cluster-tag/env': 'dev' },
    });
    // Tags only where the selector asks for them.
    expect(bySid.UpdateServices1?.Action).toEqual(['ecs:UpdateService']);
    expect(bySid.DescribeServices?.Action).toContain('ecs:DescribeTaskDefinition');
    expect(bySid.RecreateStacks1?.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/env': 'dev' },
    });
    expect(result.err).toContain(
      "attach this policy to arn:aws:iam::123456789012:role/lightsout; lightsout's own identity needs sts:AssumeRole on it",
    );
  });

  it('says so when nothing selects AWS', async () => {
    const result = await cli(['iam-policy', '--config', configFile('environments:\n  dev: {}\n')]);
    expect(result.code).toBe(0);
    expect(result.err).toContain(
      'no environment selects AWS resources (provider: aws) and no events are forwarded',
    );
    expect(JSON.parse(result.out)).toEqual({ Version: '2012-10-17', Statement: [] });
  });
});

describe('lightsout iam-policy for live forwarding', () => {
  it('allows PutEvents and Publish on exactly the configured buses and topics', async () => {
    const file = configFile(`forward:
  - type: eventbridge
    bus: arn:aws:events:eu-west-3:123456789012:event-bus/lightsout
    region: eu-west-3
  - type: sns
    topic_arn: arn:aws:sns:eu-west-3:123456789012:lightsout-events
    kinds: ['run.*']
  - type: eventbridge
    bus: default
    region: us-east-1
`);
    const result = await cli(['iam-policy', '--config', file]);
    expect(result.code).toBe(0);
    // Forwarding alone needs permissions, so no "needs no IAM permissions" note.
    expect(result.err).toBe('');
    expect(JSON.parse(result.out)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PutEventsOnBus1',
          Effect: 'Allow',
          Action: ['events:PutEvents'],
          Resource: 'arn:aws:events:eu-west-3:123456789012:event-bus/lightsout',
        },
        {
          Sid: 'PublishToTopic1',
          Effect: 'Allow',
          Action: ['sns:Publish'],
          Resource: 'arn:aws:sns:eu-west-3:123456789012:lightsout-events',
        },
        {
          // A bus named without its ARN is the caller's own account's.
          Sid: 'PutEventsOnBus2',
          Effect: 'Allow',
          Action: ['events:PutEvents'],
          Resource: 'arn:aws:events:us-east-1:${aws:PrincipalAccount}:event-bus/default',
        },
      ],
    });
  });

  it("adds sts:AssumeRole on each destination's role, once, and a bus named alone is in the role's account", async () => {
    const role = 'arn:aws-cn:iam::210987654321:role/lightsout-events';
    const file = configFile(`environments:
  dev:
    tiers:
      - { name: apps, select: { provider: aws, regions: [eu-west-3], tags: { env: dev }, alarms: false } }
forward:
  - { type: eventbridge, bus: lightsout, region: cn-north-1, role_arn: "${role}" }
  - { type: sns, topic_arn: "arn:aws-cn:sns:cn-north-1:210987654321:events", role_arn: "${role}" }
  - { type: eventbridge, bus: audit, region: cn-northwest-1 }
`);
    const result = await cli(['iam-policy', '--config', file]);
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.out) as {
      Statement: { Sid: string; Action: string[]; Resource: string | string[] }[];
    };
    expect(policy.Statement.map((s) => s.Sid)).toEqual([
      'DescribeInstances',
      'StartStopInstances1',
      'PutEventsOnBus1',
      'PublishToTopic1',
      'PutEventsOnBus2',
      'AssumeForwardingRoles',
    ]);
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(bySid.PutEventsOnBus1?.Resource).toBe(
      'arn:aws-cn:events:cn-north-1:210987654321:event-bus/lightsout',
    );
    // Without a role, the partition comes from the region.
    expect(bySid.PutEventsOnBus2?.Resource).toBe(
      'arn:aws-cn:events:cn-northwest-1:${aws:PrincipalAccount}:event-bus/audit',
    );
    expect(bySid.AssumeForwardingRoles).toEqual({
      Sid: 'AssumeForwardingRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: [role],
    });
    expect(result.err.split('\n')).toEqual([
      `forward[0] is sent as ${role}: statement PutEventsOnBus1 belongs in that role's policy, and AssumeForwardingRoles in lightsout's own identity's (the role's trust policy must allow it)`,
      `forward[1] is sent as ${role}: statement PublishToTopic1 belongs in that role's policy, and AssumeForwardingRoles in lightsout's own identity's (the role's trust policy must allow it)`,
    ]);
  });
});

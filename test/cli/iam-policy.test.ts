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
    expect(result.err).toContain('no environment selects AWS resources');
    expect(JSON.parse(result.out)).toEqual({ Version: '2012-10-17', Statement: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

describe('lightsout iam-policy', () => {
  it("prints only the actions the selected kinds need, narrowed to the selectors' tags", async () => {
    const file = configFile(`environments:
  dev:
    tiers:
      - { name: apps, select: { provider: aws, regions: [eu-west-3], kinds: [ec2, asg], tags: { Scheduled: OfficeHours } } }
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
          Action: ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'],
          Resource: '*',
          Condition: { StringEquals: { 'autoscaling:ResourceTag/Scheduled': 'OfficeHours' } },
        },
      ],
    });
  });

  it('says so when nothing selects AWS', async () => {
    const result = await cli(['iam-policy', '--config', configFile('environments:\n  dev: {}\n')]);
    expect(result.code).toBe(0);
    expect(result.err).toContain('no environment selects AWS resources');
    expect(JSON.parse(result.out)).toEqual({ Version: '2012-10-17', Statement: [] });
  });
});

/**
 * The least-privilege IAM policy for what a config asks lightsout to do on AWS:
 * only the kinds its selectors use, and actions that change resources only on
 * resources carrying the selectors' tags. Describe actions cannot be narrowed by
 * resource in IAM, so they are allowed on "*". Tag conditions: `aws:ResourceTag/KEY`
 * for EC2 instances, `autoscaling:ResourceTag/KEY` for Auto Scaling groups
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/tag-security.html).
 */
import type { Environment, Selector } from '../../core/glossary.js';

interface Statement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly Statement[];
}

export function awsSelectors(environments: readonly Environment[]): Selector[] {
  return environments
    .flatMap((e) => (e.tiers ?? []).flatMap((t) => t.select))
    .filter((s) => s.provider === 'aws');
}

/** Conditions requiring every tag of a selector, with a service's condition-key prefix. */
function tagConditions(selector: Selector, prefix: string): Record<string, Record<string, string>> {
  const tags = Object.entries(selector.tags ?? {});
  return tags.length === 0
    ? {}
    : { StringEquals: Object.fromEntries(tags.map(([k, v]) => [`${prefix}/${k}`, v])) };
}

export function iamPolicy(environments: readonly Environment[]): PolicyDocument {
  const selectors = awsSelectors(environments);
  const uses = (kind: string) => selectors.filter((s) => (s.kinds ?? ['ec2']).includes(kind));
  const statements: Statement[] = [];
  const ec2 = uses('ec2');
  if (ec2.length > 0) {
    statements.push({
      Sid: 'DescribeInstances',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances'],
      Resource: '*',
    });
    ec2.forEach((selector, index) =>
      statements.push({
        Sid: `StartStopInstances${index + 1}`,
        Effect: 'Allow',
        Action: ['ec2:StartInstances', 'ec2:StopInstances'],
        Resource: 'arn:aws:ec2:*:*:instance/*',
        Condition: tagConditions(selector, 'aws:ResourceTag'),
      }),
    );
  }
  const asg = uses('asg');
  if (asg.length > 0) {
    statements.push({
      Sid: 'DescribeAutoScalingGroups',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeAutoScalingGroups'],
      Resource: '*',
    });
    asg.forEach((selector, index) =>
      statements.push({
        Sid: `ScaleAutoScalingGroups${index + 1}`,
        Effect: 'Allow',
        Action: ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'],
        Resource: '*',
        Condition: tagConditions(selector, 'autoscaling:ResourceTag'),
      }),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

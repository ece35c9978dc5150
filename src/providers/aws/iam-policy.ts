/**
 * The least-privilege IAM policy for what a config asks lightsout to do on AWS:
 * only the kinds its selectors use, and actions that change resources only on
 * resources carrying the selectors' tags. Describe and list actions cannot be
 * narrowed by resource in IAM, so they are allowed on "*".
 *
 * Tag condition keys differ by service (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/):
 * `aws:ResourceTag/KEY` for EC2 instances, ECS services and CloudFormation stacks;
 * `autoscaling:ResourceTag/KEY` for Auto Scaling groups
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/tag-security.html);
 * `rds:db-tag/KEY` and `rds:cluster-tag/KEY` for RDS
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAM.SpecifyingCustomTags.html).
 */
import type { Environment, Selector } from '../../core/glossary.js';
import type { AwsSettings } from './aws.js';

export interface Statement {
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

interface KindPolicy {
  /** Read actions, on "*". */
  readonly describe: { readonly sid: string; readonly actions: readonly string[] };
  /** Actions that change resources, on `resource`, narrowed by tags with `tagKey`. */
  readonly change: {
    readonly sid: string;
    readonly actions: readonly string[];
    readonly resource: string;
    readonly tagKey: string;
  };
  /** Needed only with `last_action_tags: true`. */
  readonly tag: readonly string[];
  /** Whether lightsout disables the alarms of this kind's stopped resources. */
  readonly alarms: boolean;
}

const POLICIES: Readonly<Record<string, KindPolicy>> = {
  ec2: {
    describe: { sid: 'DescribeInstances', actions: ['ec2:DescribeInstances'] },
    change: {
      sid: 'StartStopInstances',
      actions: ['ec2:StartInstances', 'ec2:StopInstances'],
      resource: 'arn:aws:ec2:*:*:instance/*',
      tagKey: 'aws:ResourceTag',
    },
    tag: ['ec2:CreateTags'],
    alarms: true,
  },
  asg: {
    describe: {
      sid: 'DescribeAutoScalingGroups',
      actions: ['autoscaling:DescribeAutoScalingGroups'],
    },
    change: {
      sid: 'ScaleAutoScalingGroups',
      // CreateOrUpdateTags keeps the saved capacity on the group itself, DeleteTags
      // forgets it after a start; Suspend/ResumeProcesses pause ScheduledActions while off.
      actions: [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DeleteTags',
        'autoscaling:SuspendProcesses',
        'autoscaling:ResumeProcesses',
      ],
      resource: '*',
      tagKey: 'autoscaling:ResourceTag',
    },
    tag: [],
    alarms: true,
  },
  rds: {
    describe: {
      sid: 'DescribeDatabases',
      // Clusters too: an instance that is a cluster member acts through its cluster.
      actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
    },
    change: {
      sid: 'StartStopDBInstances',
      actions: ['rds:StartDBInstance', 'rds:StopDBInstance'],
      resource: 'arn:aws:rds:*:*:db:*',
      tagKey: 'rds:db-tag',
    },
    tag: ['rds:AddTagsToResource'],
    alarms: true,
  },
  aurora: {
    describe: { sid: 'DescribeDBClusters', actions: ['rds:DescribeDBClusters'] },
    change: {
      sid: 'StartStopDBClusters',
      actions: ['rds:StartDBCluster', 'rds:StopDBCluster'],
      resource: 'arn:aws:rds:*:*:cluster:*',
      tagKey: 'rds:cluster-tag',
    },
    tag: ['rds:AddTagsToResource'],
    alarms: true,
  },
  ecs: {
    describe: {
      sid: 'DescribeServices',
      actions: [
        'ecs:ListClusters',
        'ecs:ListServices',
        'ecs:DescribeServices',
        // The task size savings price a service by (ecs-task-size.ts).
        'ecs:DescribeTaskDefinition',
        'application-autoscaling:DescribeScalableTargets',
      ],
    },
    change: {
      sid: 'UpdateServices',
      actions: ['ecs:UpdateService'],
      resource: 'arn:aws:ecs:*:*:service/*',
      tagKey: 'aws:ResourceTag',
    },
    tag: ['ecs:TagResource'],
    alarms: true,
  },
  stack: {
    describe: {
      sid: 'DescribeStacks',
      // DescribeStacks without a stack name also needs ListStacks
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
      actions: ['cloudformation:DescribeStacks', 'cloudformation:ListStacks'],
    },
    change: {
      sid: 'SaveAndDeleteStacks',
      actions: [
        'cloudformation:GetTemplate',
        'cloudformation:GetStackPolicy',
        'cloudformation:DeleteStack',
      ],
      resource: 'arn:aws:cloudformation:*:*:stack/*',
      tagKey: 'aws:ResourceTag',
    },
    // Stack tags change only by updating the whole stack: never tagged.
    tag: [],
    alarms: false,
  },
};

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

const settingsOf = (s: Selector) => (s.settings ?? {}) as Partial<AwsSettings>;

export function iamPolicy(environments: readonly Environment[]): PolicyDocument {
  const selectors = awsSelectors(environments);
  const uses = (kind: string) => selectors.filter((s) => (s.kinds ?? ['ec2']).includes(kind));
  const statements: Statement[] = [];
  for (const [kind, policy] of Object.entries(POLICIES)) {
    const selecting = uses(kind);
    if (selecting.length === 0) continue;
    statements.push({
      Sid: policy.describe.sid,
      Effect: 'Allow',
      Action: policy.describe.actions,
      Resource: '*',
    });
    selecting.forEach((selector, index) => {
      const tagging = settingsOf(selector).lastActionTags === true ? policy.tag : [];
      statements.push({
        Sid: `${policy.change.sid}${index + 1}`,
        Effect: 'Allow',
        Action: [...policy.change.actions, ...tagging],
        Resource: policy.change.resource,
        Condition: tagConditions(selector, policy.change.tagKey),
      });
    });
    statements.push(...extraStatements(kind, selecting));
  }
  if (selectors.some((s) => usesAlarms(s)))
    statements.push({
      Sid: 'DisableAndEnableAlarmActions',
      Effect: 'Allow',
      // DescribeAlarms lists every alarm of a region; the others take alarm names.
      Action: [
        'cloudwatch:DescribeAlarms',
        'cloudwatch:DisableAlarmActions',
        'cloudwatch:EnableAlarmActions',
      ],
      Resource: '*',
    });
  return { Version: '2012-10-17', Statement: statements };
}

function usesAlarms(selector: Selector): boolean {
  return (
    settingsOf(selector).alarms !== false &&
    (selector.kinds ?? ['ec2']).some((k) => POLICIES[k]?.alarms === true)
  );
}

/** What a kind needs beyond describing and changing its own resources. */
function extraStatements(kind: string, selecting: readonly Selector[]): Statement[] {
  if (kind === 'ecs')
    return [
      {
        Sid: 'SuspendAndResumeServiceScaling',
        Effect: 'Allow',
        // Scaling is suspended through the scalable target, which carries no service tags.
        Action: ['application-autoscaling:RegisterScalableTarget'],
        Resource: '*',
        Condition: { StringEquals: { 'application-autoscaling:service-namespace': 'ecs' } },
      },
    ];
  if (kind === 'stack')
    return [
      ...selecting.map((selector, index): Statement => ({
        Sid: `RecreateStacks${index + 1}`,
        Effect: 'Allow',
        // A recreated stack carries its saved tags, so the request carries the selector's.
        Action: ['cloudformation:CreateStack'],
        Resource: 'arn:aws:cloudformation:*:*:stack/*',
        Condition: tagConditions(selector, 'aws:RequestTag'),
      })),
      {
        Sid: 'PassStackServiceRoles',
        Effect: 'Allow',
        // Stacks should name a service role, so creating their resources needs no more here
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
        Action: ['iam:PassRole'],
        Resource: '*',
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      },
    ];
  return [];
}

/**
 * The IAM statements live forwarding needs (docs/forwarding.md#permissions), on
 * the exact bus and topic ARNs of the config's `forward` list:
 * `events:PutEvents` on an event bus
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html),
 * `sns:Publish` on a topic, which also authorizes PublishBatch
 * (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html), and
 * `sts:AssumeRole` on the roles destinations name.
 */
import { partition as regionPartition } from '@aws-sdk/core/client';
import type { ForwardDocument } from '../config/schema.js';
import type { Statement } from '../providers/aws/iam-policy.js';

/** One destination's statement, with the role it is sent as (undefined: lightsout's own identity). */
export interface ForwardStatement {
  readonly statement: Statement;
  /** Where it stands in the config: `forward[0]`. */
  readonly field: string;
  readonly role: string | undefined;
}

/** One statement a destination, numbered within its type like the selectors' statements. */
export function forwardStatements(forward: readonly ForwardDocument[]): ForwardStatement[] {
  const counts = { eventbridge: 0, sns: 0 };
  return forward.map((f, index) => {
    const n = ++counts[f.type];
    const statement: Statement =
      f.type === 'eventbridge'
        ? {
            Sid: `PutEventsOnBus${n}`,
            Effect: 'Allow',
            Action: ['events:PutEvents'],
            Resource: busArn(f.bus, f.region, f.role_arn),
          }
        : {
            Sid: `PublishToTopic${n}`,
            Effect: 'Allow',
            Action: ['sns:Publish'],
            Resource: f.topic_arn,
          };
    return { statement, field: `forward[${index}]`, role: f.role_arn };
  });
}

/** `sts:AssumeRole` on each distinct role a destination names; none when no destination names one. */
export function assumeForwardingRoles(forward: readonly ForwardDocument[]): Statement[] {
  const roles = [
    ...new Set(forward.flatMap((f) => (f.role_arn === undefined ? [] : [f.role_arn]))),
  ];
  return roles.length === 0
    ? []
    : [
        {
          Sid: 'AssumeForwardingRoles',
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
          Resource: roles,
        },
      ];
}

const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//;

/**
 * A bus named without its ARN is the one of that name in the account of the
 * credentials that send: the role's account when the destination names a role;
 * otherwise the account is not in the config, and the policy variable
 * `${aws:PrincipalAccount}` (a global condition key, usable in Resource:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
 * stands for the caller's own account, still one exact bus.
 */
function busArn(bus: string, region: string, role: string | undefined): string {
  if (bus.startsWith('arn:')) return bus;
  const [, rolePartition, roleAccount] = role === undefined ? [] : (ROLE.exec(role) ?? []);
  // The SDK's own partition table: regions of China, GovCloud and the isolated partitions.
  const partition = rolePartition ?? regionPartition(region).name;
  const account = roleAccount ?? '${aws:PrincipalAccount}';
  return `arn:${partition}:events:${region}:${account}:event-bus/${bus}`;
}

/**
 * The `asg` kind: Auto Scaling groups stopped by setting their capacity to 0 and
 * started by restoring it.
 *
 * Nothing is lost: before a stop the group's min/max/desired are saved in the
 * store and as a tag on the group (`lightsout:capacity`), so a lost store loses
 * nothing either. A stop that finds the group already at 0/0/0 never overwrites
 * what was saved (a crash between saving and scaling down is safe to repeat). A
 * start that finds the capacity changed by a person while stopped reports it and
 * leaves it alone.
 *
 * AWS semantics (Amazon EC2 Auto Scaling API Reference): DescribeAutoScalingGroups
 * filters by `tag:KEY` and pages with NextToken (up to 100 groups a page);
 * UpdateAutoScalingGroup sets MinSize/MaxSize/DesiredCapacity; CreateOrUpdateTags
 * tags a group.
 */
import {
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  paginateDescribeAutoScalingGroups,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { PowerState } from '../../core/glossary.js';
import type { ActOutcome, Observation, Resource, RestoreData } from '../../engine/ports.js';
import type { Connection } from './clients.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import { awsId, eachResource, LAST_ACTION_TAG, nameOf, outcomeOfError, tagRecord } from './kind.js';

export const CAPACITY_TAG = 'lightsout:capacity';

export interface Capacity {
  readonly min: number;
  readonly max: number;
  readonly desired: number;
}

/** The key of the saved capacity in the store's restore data. */
const RESTORE_KEY = 'capacity';

export const asgKind: AwsKind = {
  kind: 'asg',
  async discover(context: KindContext, scope: DiscoveryScope) {
    const client = await context.clients.get('autoscaling', scope.connection);
    return discoverGroups(client, scope.connection.region, scope.tags);
  },
  async observe(context: KindContext, connection: Connection, resources: readonly Resource[]) {
    return observeGroups(await context.clients.get('autoscaling', connection), resources);
  },
  async act(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    target: PowerState,
  ) {
    const client = await context.clients.get('autoscaling', connection);
    return changeGroups(client, resources, target, context.restore);
  },
  alarmDimensions: (resource) => [{ Name: 'AutoScalingGroupName', Value: nameOf(resource) }],
  async tagLastAction(context, connection, resources, value) {
    const client = await context.clients.get('autoscaling', connection);
    await client.send(
      new CreateOrUpdateTagsCommand({
        Tags: resources.map((r) => ({
          ResourceId: nameOf(r),
          ResourceType: 'auto-scaling-group',
          Key: LAST_ACTION_TAG,
          Value: value,
          PropagateAtLaunch: false,
        })),
      }),
    );
  },
};

export function asgId(region: string, account: string, name: string): string {
  return awsId('asg', region, account, name);
}

async function discoverGroups(
  client: AutoScalingClient,
  region: string,
  tags: Readonly<Record<string, string>>,
): Promise<Resource[]> {
  const filters = Object.entries(tags).map(([key, value]) => ({
    Name: `tag:${key}`,
    Values: [value],
  }));
  const found: Resource[] = [];
  for await (const page of paginateDescribeAutoScalingGroups(
    { client, pageSize: 100 },
    { Filters: filters },
  )) {
    for (const group of page.AutoScalingGroups ?? []) {
      const name = group.AutoScalingGroupName ?? '';
      // arn:aws:autoscaling:REGION:ACCOUNT:autoScalingGroup:UUID:autoScalingGroupName/NAME
      const account = group.AutoScalingGroupARN?.split(':')[4] ?? 'unknown';
      const groupTags = tagRecord(group.Tags);
      found.push({
        id: asgId(region, account, name),
        provider: 'aws',
        kind: 'asg',
        name,
        tags: groupTags,
      });
    }
  }
  return found;
}

async function describe(
  client: AutoScalingClient,
  names: readonly string[],
): Promise<Map<string, AutoScalingGroup>> {
  const groups = new Map<string, AutoScalingGroup>();
  for (let i = 0; i < names.length; i += 50) {
    const page = await client.send(
      // 50 names a call, and MaxRecords 50 so every named group fits on one page.
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: names.slice(i, i + 50),
        MaxRecords: 50,
      }),
    );
    for (const g of page.AutoScalingGroups ?? []) groups.set(g.AutoScalingGroupName ?? '', g);
  }
  return groups;
}

function capacityOf(group: AutoScalingGroup): Capacity {
  return { min: group.MinSize ?? 0, max: group.MaxSize ?? 0, desired: group.DesiredCapacity ?? 0 };
}

function isZero(c: Capacity): boolean {
  return c.min === 0 && c.max === 0 && c.desired === 0;
}

function fromTag(group: AutoScalingGroup): Capacity | undefined {
  const value = group.Tags?.find((t) => t.Key === CAPACITY_TAG)?.Value;
  const [min, max, desired] = (value ?? '').split(',').map(Number);
  return min === undefined ||
    max === undefined ||
    desired === undefined ||
    [min, max, desired].some(Number.isNaN)
    ? undefined
    : { min, max, desired };
}

async function changeGroups(
  client: AutoScalingClient,
  groups: readonly Resource[],
  target: PowerState,
  restore: RestoreData,
): Promise<ActOutcome[]> {
  let current: Map<string, AutoScalingGroup>;
  try {
    current = await describe(client, groups.map(nameOf));
  } catch (error) {
    return groups.map((g) => outcomeOfError(g, error));
  }
  return eachResource(groups, async (resource) => {
    const group = current.get(nameOf(resource));
    if (group === undefined)
      return {
        id: resource.id,
        result: 'failed',
        reason: `Auto Scaling group ${resource.name} no longer exists`,
      };
    return target === 'off'
      ? stopGroup(client, resource, group, restore)
      : startGroup(client, resource, group, restore);
  });
}

async function stopGroup(
  client: AutoScalingClient,
  resource: Resource,
  group: AutoScalingGroup,
  restore: RestoreData,
): Promise<ActOutcome> {
  const capacity = capacityOf(group);
  if (isZero(capacity)) return { id: resource.id, result: 'already' };
  const name = nameOf(resource);
  // Saved twice before anything changes: in the store, and on the group itself.
  await restore.save(resource.id, RESTORE_KEY, capacity);
  await client.send(
    new CreateOrUpdateTagsCommand({
      Tags: [
        {
          ResourceId: name,
          ResourceType: 'auto-scaling-group',
          Key: CAPACITY_TAG,
          Value: `${capacity.min},${capacity.max},${capacity.desired}`,
          PropagateAtLaunch: false,
        },
      ],
    }),
  );
  await client.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      MinSize: 0,
      MaxSize: 0,
      DesiredCapacity: 0,
    }),
  );
  return { id: resource.id, result: 'accepted' };
}

async function startGroup(
  client: AutoScalingClient,
  resource: Resource,
  group: AutoScalingGroup,
  restore: RestoreData,
): Promise<ActOutcome> {
  const capacity = capacityOf(group);
  const saved =
    ((await restore.load(resource.id, RESTORE_KEY)) as Capacity | undefined) ?? fromTag(group);
  if (!isZero(capacity)) {
    if (
      saved === undefined ||
      (saved.min === capacity.min &&
        saved.max === capacity.max &&
        saved.desired === capacity.desired)
    ) {
      return { id: resource.id, result: 'already' };
    }
    return {
      id: resource.id,
      result: 'failed',
      reason: `the capacity of ${resource.name} was changed by hand while stopped (now ${capacity.min}/${capacity.max}/${capacity.desired}, saved ${saved.min}/${saved.max}/${saved.desired} min/max/desired); left as it is`,
    };
  }
  if (saved === undefined) {
    return {
      id: resource.id,
      result: 'failed',
      reason: `no saved capacity for ${resource.name} (neither in the store nor in its ${CAPACITY_TAG} tag); set it by hand`,
    };
  }
  await client.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: nameOf(resource),
      MinSize: saved.min,
      MaxSize: saved.max,
      DesiredCapacity: saved.desired,
    }),
  );
  return { id: resource.id, result: 'accepted' };
}

/** Off when no instance is left; on when as many instances are InService as desired. */
async function observeGroups(
  client: AutoScalingClient,
  groups: readonly Resource[],
): Promise<Map<string, Observation>> {
  const current = await describe(client, groups.map(nameOf));
  const states = new Map<string, Observation>();
  for (const resource of groups) {
    const group = current.get(nameOf(resource));
    if (group === undefined) {
      states.set(resource.id, 'missing');
      continue;
    }
    const instances = group.Instances ?? [];
    const inService = instances.filter((i) => i.LifecycleState === 'InService').length;
    const desired = group.DesiredCapacity ?? 0;
    if (desired === 0) states.set(resource.id, instances.length === 0 ? 'off' : 'stopping');
    else states.set(resource.id, inService >= desired ? 'on' : 'starting');
  }
  return states;
}

/**
 * The `asg` kind: Auto Scaling groups stopped by setting their capacity to 0 and
 * started by restoring it.
 *
 * Nothing is lost: before a stop the group's min/max/desired are saved in the
 * store and as a tag on the group (`lightsout:capacity`), so a lost store loses
 * nothing either. A stop that finds the group already at 0/0/0 never overwrites
 * what was saved (a crash between saving and scaling down is safe to repeat).
 *
 * Saved data lives only while the group is off: once a start is verified, the
 * store rows and the tags are deleted (`forgetRestore`), so a capacity a person
 * sets during the day (1/3/2 resized to 2/6/4) is simply what the next stop
 * saves. A start of a group that is on already answers `already`, whatever its
 * capacity.
 *
 * While a group is off its `ScheduledActions` process is suspended, so a scheduled
 * action (e.g. "scale to 2/6/4 at 08:00") cannot bring a stopped group back behind
 * lightsout's back: SuspendProcesses suspends "the specified auto scaling
 * processes" and ResumeProcesses resumes them
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html,
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SuspendProcesses.html).
 * Only that process is touched, and only when it was running: what lightsout
 * suspended is saved (store, and the tag `lightsout:suspended`), and a start resumes
 * exactly that, so a suspension a person had set stays; once resumed, the store says
 * lightsout suspended nothing (so a forget that failed leaves no stale claim on a
 * suspension a person sets later). Both calls always name the
 * process: "If you omit this property, all processes are specified" (same pages).
 *
 * AWS semantics (Amazon EC2 Auto Scaling API Reference): DescribeAutoScalingGroups
 * filters by `tag:KEY` and pages with NextToken (up to 100 groups a page), and
 * gives each group's SuspendedProcesses; UpdateAutoScalingGroup sets
 * MinSize/MaxSize/DesiredCapacity; CreateOrUpdateTags and DeleteTags tag a group.
 */
import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  paginateDescribeAutoScalingGroups,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AutoScalingClient, AutoScalingGroup, Tag } from '@aws-sdk/client-auto-scaling';
import type { PowerState } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Resource,
  RestoreData,
  SettledNote,
} from '../../engine/ports.js';
import type { Connection } from './clients.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import {
  awsId,
  eachResource,
  LAST_ACTION_TAG,
  messageOf,
  nameOf,
  outcomeOfError,
  tagRecord,
} from './kind.js';

export const CAPACITY_TAG = 'lightsout:capacity';
/** The processes lightsout suspended while the group is off, comma-separated. */
export const SUSPENDED_TAG = 'lightsout:suspended';
/** The one process a stop suspends. */
export const SCHEDULED_ACTIONS = 'ScheduledActions';

export interface Capacity {
  readonly min: number;
  readonly max: number;
  readonly desired: number;
}

/** Keys of what a stop saved in the store's restore data. */
const RESTORE_KEY = 'capacity';
/** The processes lightsout suspended (a list, empty when it suspended none). */
const SUSPENDED_KEY = 'suspendedProcesses';

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
  async forgetRestore(context, connection, resources) {
    const client = await context.clients.get('autoscaling', connection);
    return forgetGroups(client, resources, context.restore);
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
      const size = sizeOf(group);
      found.push({
        id: asgId(region, account, name),
        provider: 'aws',
        kind: 'asg',
        name,
        tags: groupTags,
        ...(size === undefined ? {} : { size }),
      });
    }
  }
  return found;
}

/**
 * What the group description says of its size, with no further call: the instance
 * type its instances run (Instances[].InstanceType), else the one type of its mixed
 * instances policy's overrides (MixedInstancesPolicy.LaunchTemplate.Overrides[].InstanceType)
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AutoScalingGroup.html,
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateOverrides.html);
 * a launch template or launch configuration would take another call, so it is not
 * read. The count is the desired capacity, or while lightsout holds the group at
 * zero the desired capacity its stop saved in the group's tag: what would run.
 */
export function sizeOf(group: AutoScalingGroup) {
  const running = new Set((group.Instances ?? []).flatMap((i) => i.InstanceType ?? []));
  const listed = new Set(
    (group.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []).flatMap(
      (o) => o.InstanceType ?? [],
    ),
  );
  const [type] =
    running.size === 1 ? running : running.size === 0 && listed.size === 1 ? listed : [];
  const capacity = capacityOf(group);
  const count = isZero(capacity) ? fromTag(group)?.desired : capacity.desired;
  if (type === undefined && (count === undefined || count === 0)) return undefined;
  return {
    ...(type === undefined ? {} : { type }),
    ...(count === undefined || count === 0 ? {} : { count }),
  };
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
  const value = tagValue(group, CAPACITY_TAG);
  const [min, max, desired] = (value ?? '').split(',').map(Number);
  return min === undefined ||
    max === undefined ||
    desired === undefined ||
    [min, max, desired].some(Number.isNaN)
    ? undefined
    : { min, max, desired };
}

function tagValue(group: AutoScalingGroup, key: string): string | undefined {
  return group.Tags?.find((t) => t.Key === key)?.Value;
}

function suspendedNow(group: AutoScalingGroup): Set<string> {
  return new Set((group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? ''));
}

/** What lightsout's stop suspended: from the store, else from the group's tag. */
async function savedSuspension(
  restore: RestoreData,
  resource: Resource,
  group: AutoScalingGroup,
): Promise<string[] | undefined> {
  const stored = await restore.load(resource.id, SUSPENDED_KEY);
  if (Array.isArray(stored)) return stored.filter((p): p is string => typeof p === 'string');
  const tagged = tagValue(group, SUSPENDED_TAG);
  return tagged === undefined ? undefined : tagged.split(',').filter((p) => p !== '');
}

function groupTag(name: string, key: string, value: string): Tag {
  return {
    ResourceId: name,
    ResourceType: 'auto-scaling-group',
    Key: key,
    Value: value,
    PropagateAtLaunch: false,
  };
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
  const running = !suspendedNow(group).has(SCHEDULED_ACTIONS);
  // Suspended already: by this stop before a crash (what it saved stays), or by a person (nothing to resume).
  const suspension = running
    ? [SCHEDULED_ACTIONS]
    : ((await savedSuspension(restore, resource, group)) ?? []);
  // Saved twice before anything changes: in the store, and on the group itself.
  await restore.saveMany([
    { id: resource.id, key: RESTORE_KEY, data: capacity },
    { id: resource.id, key: SUSPENDED_KEY, data: suspension },
  ]);
  await client.send(
    new CreateOrUpdateTagsCommand({
      Tags: [
        groupTag(name, CAPACITY_TAG, `${capacity.min},${capacity.max},${capacity.desired}`),
        ...(suspension.length > 0 ? [groupTag(name, SUSPENDED_TAG, suspension.join(','))] : []),
      ],
    }),
  );
  // Before the capacity goes to 0, so no scheduled action can undo it in between.
  if (running)
    await client.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: name,
        ScalingProcesses: [SCHEDULED_ACTIONS],
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
    // On already (started by hand, or a start that stopped halfway): left as it is.
    const resumed = await resumeSuspended(client, resource, group, restore);
    const notes = [
      ...(saved !== undefined && !sameCapacity(saved, capacity)
        ? [
            `${resource.name} is on already at ${capacity.min}/${capacity.max}/${capacity.desired} min/max/desired (lightsout had saved ${saved.min}/${saved.max}/${saved.desired}); left as it is`,
          ]
        : []),
      ...(resumed.length > 0 ? [`resumed ${resumed.join(', ')}`] : []),
    ];
    return notes.length === 0
      ? { id: resource.id, result: 'already' }
      : { id: resource.id, result: 'already', output: notes.join('; ') };
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
  // After the capacity, as for ECS: a scheduled action that runs now finds the group back.
  await resumeSuspended(client, resource, group, restore);
  return { id: resource.id, result: 'accepted' };
}

function sameCapacity(a: Capacity, b: Capacity): boolean {
  return a.min === b.min && a.max === b.max && a.desired === b.desired;
}

/**
 * Resumes what lightsout's stop suspended and is still suspended, naming it (never
 * an empty list: that would resume every process). Returns what it resumed.
 */
async function resumeSuspended(
  client: AutoScalingClient,
  resource: Resource,
  group: AutoScalingGroup,
  restore: RestoreData,
): Promise<string[]> {
  const now = suspendedNow(group);
  const saved = (await savedSuspension(restore, resource, group)) ?? [];
  const ours = saved.filter((p) => now.has(p));
  if (ours.length > 0)
    await client.send(
      new ResumeProcessesCommand({
        AutoScalingGroupName: nameOf(resource),
        ScalingProcesses: ours,
      }),
    );
  // Nothing is lightsout's any more (resumed now, or by a person meanwhile). Until the
  // store row goes (forgetRestore, which may fail), a stop that finds ScheduledActions
  // suspended must not take a person's suspension for this one, nor a start resume it.
  if (saved.length > 0) await restore.save(resource.id, SUSPENDED_KEY, []);
  return ours;
}

/**
 * After a verified start: the tags, then the store rows (so a tag that could not be
 * deleted keeps its row, and the next start tries again). A group found at 0
 * meanwhile keeps what was saved.
 */
async function forgetGroups(
  client: AutoScalingClient,
  resources: readonly Resource[],
  restore: RestoreData,
): Promise<SettledNote[]> {
  const current = await describe(client, resources.map(nameOf));
  const notes: SettledNote[] = [];
  const forgotten: Resource[] = [];
  for (const resource of resources) {
    const group = current.get(nameOf(resource));
    if (group === undefined || isZero(capacityOf(group))) continue;
    const stored = await restore.load(resource.id, RESTORE_KEY);
    const storedSuspension = await restore.load(resource.id, SUSPENDED_KEY);
    const tags = (group.Tags ?? []).filter(
      (t) => t.Key === CAPACITY_TAG || t.Key === SUSPENDED_TAG,
    );
    if (stored === undefined && storedSuspension === undefined && tags.length === 0) continue;
    if (tags.length > 0)
      try {
        await client.send(
          new DeleteTagsCommand({
            Tags: tags.map((t) => ({
              ResourceId: nameOf(resource),
              ResourceType: 'auto-scaling-group',
              Key: t.Key,
              Value: t.Value,
            })),
          }),
        );
      } catch (error) {
        notes.push({
          id: resource.id,
          kind: 'restore.forget-failed',
          detail: { error: messageOf(error) },
        });
        continue;
      }
    forgotten.push(resource);
    const capacity = (stored as Capacity | undefined) ?? fromTag(group);
    notes.push({
      id: resource.id,
      kind: 'restore.forgotten',
      detail: capacity === undefined ? {} : { capacity },
    });
  }
  await restore.saveMany(
    forgotten.flatMap((r) => [
      { id: r.id, key: RESTORE_KEY, data: undefined },
      { id: r.id, key: SUSPENDED_KEY, data: undefined },
    ]),
  );
  return notes;
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

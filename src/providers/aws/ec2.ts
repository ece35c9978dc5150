/**
 * The `ec2` kind: instances found by tags, started and stopped in batches.
 *
 * AWS semantics this file relies on (EC2 API Reference):
 * - StartInstances/StopInstances take many ids, but one bad id fails the whole
 *   call; a failing batch is split in halves until the bad id stands alone, so the
 *   others still act.
 * - Stopping an instance that is already stopped succeeds; starting one that is
 *   `stopping` fails with IncorrectInstanceState (retried: it settles soon).
 * - Instance-store-backed instances cannot be stopped; one-time Spot Instances
 *   cannot be stopped (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html).
 * - Hibernation works only on instances launched with HibernationOptions.Configured;
 *   StopInstances "If hibernation fails, a normal shutdown occurs"
 *   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html).
 * - An instance that falls back to `stopped` while starting (e.g. an encrypted
 *   volume whose KMS key it cannot use) carries a StateReason; that is a failure.
 * - Instances in an Auto Scaling group carry the tag aws:autoscaling:groupName and
 *   are left to the `asg` kind.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  paginateDescribeInstances,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, Instance, InstanceStateChange } from '@aws-sdk/client-ec2';
import type { PowerState } from '../../core/glossary.js';
import type { ActOutcome, Observation, Resource } from '../../engine/ports.js';
import { isTransient } from '../../engine/retry.js';
import type { Connection } from './clients.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import { awsId, LAST_ACTION_TAG, messageOf, nameOf, tagRecord } from './kind.js';

/**
 * Ids per StartInstances/StopInstances call. Neither API documents a maximum of
 * ids, but EC2 counts each instance against the action's resource token bucket,
 * whose capacity is 1,000 instances for both (refilled at 2/s for StartInstances,
 * 20/s for StopInstances): a larger call could never be served at once
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 */
export const EC2_ACT_BATCH = 1000;
/** Resources per CreateTags call (the API documents no maximum; kept modest so one failure names few). */
const EC2_TAG_BATCH = 100;
/**
 * Ids per DescribeInstances call when verifying: "you should not specify more than
 * 1,000 IDs in a single call" (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html).
 */
export const EC2_DESCRIBE_BATCH = 1000;
/**
 * Ids per `instance-id` filter, the fallback when a batch names an instance EC2 no
 * longer knows (InstanceIds then fails the whole call, a filter leaves it out).
 * No maximum of filter values is documented for DescribeInstances; 200 is kept.
 */
const EC2_FILTER_BATCH = 200;

interface Ec2Details {
  readonly hibernationConfigured: boolean;
  /** Why the instance cannot be stopped, if it cannot. */
  readonly unstoppable?: string;
}

/**
 * The kind keeps what discovery learnt about each instance (whether it can be
 * stopped, whether to hibernate it) and which instances it started, so a fall
 * back to stopped reads as a failure.
 */
export class Ec2Kind implements AwsKind {
  readonly kind = 'ec2';
  private readonly details = new Map<string, Ec2Details>();
  private readonly hibernating = new Set<string>();
  private readonly started = new Set<string>();

  async discover(context: KindContext, scope: DiscoveryScope): Promise<Resource[]> {
    const client = await context.clients.get('ec2', scope.connection);
    const found = await discoverInstances(client, scope.connection.region, scope.tags);
    for (const { resource, details } of found) {
      this.details.set(resource.id, details);
      if (scope.hibernate) this.hibernating.add(resource.id);
      else this.hibernating.delete(resource.id);
    }
    return found.map((f) => f.resource);
  }

  async observe(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
  ): Promise<Map<string, Observation>> {
    const client = await context.clients.get('ec2', connection);
    return observeInstances(client, resources, this.started);
  }

  async act(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    target: PowerState,
  ): Promise<ActOutcome[]> {
    const outcomes: ActOutcome[] = [];
    const actable: Resource[] = [];
    for (const r of resources) {
      const unstoppable = this.details.get(r.id)?.unstoppable;
      if (target === 'off' && unstoppable !== undefined)
        outcomes.push({
          id: r.id,
          result: 'failed',
          reason: `cannot stop ${r.name}: ${unstoppable}`,
        });
      else actable.push(r);
    }
    const hibernate = new Set<string>();
    const fellBack = new Set<string>();
    for (const r of actable) {
      if (!this.hibernating.has(r.id)) continue;
      if (this.details.get(r.id)?.hibernationConfigured === true) hibernate.add(r.id);
      else fellBack.add(r.id);
    }
    const client = await context.clients.get('ec2', connection);
    for (const outcome of await changeInstances(client, actable, target, { hibernate })) {
      if (target === 'on' && outcome.result === 'accepted') this.started.add(outcome.id);
      if (target === 'off') this.started.delete(outcome.id);
      const note =
        target === 'off' && fellBack.has(outcome.id)
          ? 'hibernation is not configured on this instance; stopped it instead'
          : undefined;
      outcomes.push(note === undefined ? outcome : { ...outcome, output: note });
    }
    return outcomes;
  }

  alarmDimensions(resource: Resource) {
    return [{ Name: 'InstanceId', Value: nameOf(resource) }];
  }

  async tagLastAction(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    value: string,
  ): Promise<void> {
    const client = await context.clients.get('ec2', connection);
    for (let i = 0; i < resources.length; i += EC2_TAG_BATCH) {
      await client.send(
        new CreateTagsCommand({
          Resources: resources.slice(i, i + EC2_TAG_BATCH).map(instanceIdOf),
          Tags: [{ Key: LAST_ACTION_TAG, Value: value }],
        }),
      );
    }
  }
}

interface Ec2Found {
  readonly resource: Resource;
  readonly details: Ec2Details;
}

export function ec2Id(region: string, account: string, instanceId: string): string {
  return awsId('ec2', region, account, instanceId);
}

/** The instance id at the end of a resource id. */
export function instanceIdOf(resource: Resource): string {
  return nameOf(resource);
}

async function discoverInstances(
  client: EC2Client,
  region: string,
  tags: Readonly<Record<string, string>>,
): Promise<Ec2Found[]> {
  const filters = [
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
    { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
  ];
  const found: Ec2Found[] = [];
  // The paginator sets MaxResults to pageSize: 1,000, the largest DescribeInstances
  // takes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
  for await (const page of paginateDescribeInstances(
    { client, pageSize: 1000 },
    { Filters: filters },
  )) {
    for (const reservation of page.Reservations ?? []) {
      const account = reservation.OwnerId ?? 'unknown';
      for (const instance of reservation.Instances ?? []) {
        const instanceTags = tagRecord(instance.Tags);
        if ('aws:autoscaling:groupName' in instanceTags) continue;
        found.push({
          resource: {
            id: ec2Id(region, account, instance.InstanceId ?? ''),
            provider: 'aws',
            kind: 'ec2',
            name: instanceTags.Name ?? instance.InstanceId ?? '',
            tags: instanceTags,
            // InstanceType is part of every instance DescribeInstances returns
            // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Instance.html).
            ...(instance.InstanceType === undefined
              ? {}
              : { size: { type: instance.InstanceType } }),
          },
          details: detailsOf(instance),
        });
      }
    }
  }
  return found;
}

function detailsOf(instance: Instance): Ec2Details {
  const unstoppable =
    instance.RootDeviceType === 'instance-store'
      ? 'its root device is an instance store, which cannot be stopped'
      : instance.InstanceLifecycle === 'spot'
        ? 'it is a Spot Instance, which lightsout does not stop'
        : undefined;
  return {
    hibernationConfigured: instance.HibernationOptions?.Configured === true,
    ...(unstoppable === undefined ? {} : { unstoppable }),
  };
}

/**
 * Moves instances towards `target`. One outcome per instance; a failing batch is
 * split so one bad instance fails alone.
 */
async function changeInstances(
  client: EC2Client,
  instances: readonly Resource[],
  target: PowerState,
  options: { hibernate: ReadonlySet<string> },
): Promise<ActOutcome[]> {
  const outcomes: ActOutcome[] = [];
  const hibernating = instances.filter((r) => options.hibernate.has(r.id));
  const plain = instances.filter((r) => !options.hibernate.has(r.id));
  for (const [group, hibernate] of [
    [plain, false],
    [hibernating, true],
  ] as const) {
    for (let i = 0; i < group.length; i += EC2_ACT_BATCH) {
      outcomes.push(
        ...(await changeBatch(client, group.slice(i, i + EC2_ACT_BATCH), target, hibernate)),
      );
    }
  }
  return outcomes;
}

async function changeBatch(
  client: EC2Client,
  batch: readonly Resource[],
  target: PowerState,
  hibernate: boolean,
): Promise<ActOutcome[]> {
  if (batch.length === 0) return [];
  const ids = batch.map(instanceIdOf);
  try {
    const changes =
      target === 'on'
        ? (await client.send(new StartInstancesCommand({ InstanceIds: ids }))).StartingInstances
        : (
            await client.send(
              new StopInstancesCommand({
                InstanceIds: ids,
                ...(hibernate ? { Hibernate: true } : {}),
              }),
            )
          ).StoppingInstances;
    const byId = new Map((changes ?? []).map((c) => [c.InstanceId, c]));
    return batch.map((r) => outcomeOf(r, byId.get(instanceIdOf(r)), target));
  } catch (error) {
    if (isTransient(error))
      return batch.map((r) => ({ id: r.id, result: 'transient', reason: messageOf(error) }));
    if (batch.length === 1) {
      const incorrectState = (error as { name?: string }).name === 'IncorrectInstanceState';
      return [
        {
          id: batch[0]!.id,
          result: incorrectState ? 'transient' : 'failed',
          reason: messageOf(error),
        },
      ];
    }
    const half = Math.ceil(batch.length / 2);
    return [
      ...(await changeBatch(client, batch.slice(0, half), target, hibernate)),
      ...(await changeBatch(client, batch.slice(half), target, hibernate)),
    ];
  }
}

function outcomeOf(
  resource: Resource,
  change: InstanceStateChange | undefined,
  target: PowerState,
): ActOutcome {
  if (change === undefined)
    return { id: resource.id, result: 'failed', reason: 'EC2 did not report this instance' };
  const before = change.PreviousState?.Name;
  const settledOrOnItsWay = target === 'on' ? ['running', 'pending'] : ['stopped', 'stopping'];
  return {
    id: resource.id,
    result: before !== undefined && settledOrOnItsWay.includes(before) ? 'already' : 'accepted',
  };
}

/**
 * Current states, `DescribeInstances` by `InstanceIds`, 1,000 a call (the fastest
 * way AWS documents to describe many instances; `MaxResults` cannot be combined
 * with `InstanceIds`). An instance gone for good (terminated over an hour ago)
 * fails its whole call with InvalidInstanceID.NotFound: that batch is read again
 * through the `instance-id` filter, which leaves unknown ids out.
 */
async function observeInstances(
  client: EC2Client,
  instances: readonly Resource[],
  startedByUs: ReadonlySet<string>,
): Promise<Map<string, Observation>> {
  const states = new Map<string, Observation>(instances.map((r) => [r.id, 'missing']));
  const byInstanceId = new Map(instances.map((r) => [instanceIdOf(r), r]));
  const record = (found: readonly Instance[]) => {
    for (const instance of found) {
      const resource = byInstanceId.get(instance.InstanceId ?? '');
      if (resource !== undefined)
        states.set(resource.id, observationOf(instance, startedByUs.has(resource.id)));
    }
  };
  const ids = [...byInstanceId.keys()];
  for (let i = 0; i < ids.length; i += EC2_DESCRIBE_BATCH) {
    const batch = ids.slice(i, i + EC2_DESCRIBE_BATCH);
    try {
      record(await describeAll(client, { InstanceIds: batch }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'InvalidInstanceID.NotFound') throw error;
      for (let j = 0; j < batch.length; j += EC2_FILTER_BATCH)
        record(
          await describeAll(client, {
            Filters: [{ Name: 'instance-id', Values: batch.slice(j, j + EC2_FILTER_BATCH) }],
            MaxResults: EC2_FILTER_BATCH,
          }),
        );
    }
  }
  return states;
}

/** Every instance a DescribeInstances input names, across pages. */
async function describeAll(
  client: EC2Client,
  input: {
    InstanceIds?: string[];
    Filters?: { Name: string; Values: string[] }[];
    MaxResults?: number;
  },
): Promise<Instance[]> {
  const found: Instance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new DescribeInstancesCommand({
        ...input,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    );
    for (const reservation of page.Reservations ?? []) found.push(...(reservation.Instances ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return found;
}

function observationOf(instance: Instance, startedByUs: boolean): Observation {
  switch (instance.State?.Name) {
    case 'pending':
      return 'starting';
    case 'running':
      return 'on';
    case 'stopping':
    case 'shutting-down':
      return 'stopping';
    case 'stopped': {
      const reason = instance.StateReason?.Message;
      // A start that fell back to stopped says why in StateReason (e.g. Client.InternalKmsError).
      if (
        startedByUs &&
        reason !== undefined &&
        instance.StateReason?.Code !== 'Client.UserInitiatedShutdown'
      ) {
        return { state: 'failed', reason: `the instance stopped again while starting: ${reason}` };
      }
      return 'off';
    }
    default:
      return 'missing';
  }
}

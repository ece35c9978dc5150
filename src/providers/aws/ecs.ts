/**
 * The `ecs` kind: ECS services stopped by setting their desired count to 0 and
 * started by restoring it; and the burst action, which scales a service to its
 * autoscaling maximum for a while.
 *
 * Nothing is lost: before a stop the desired count is saved in the store; a stop
 * that finds the service already at 0 changes nothing and keeps what was saved
 * (a crash between saving and scaling down is safe to repeat). Once a start is
 * verified, the saved count is forgotten (`forgetRestore`).
 *
 * Service Auto Scaling would undo a stop: "as long as you have active scaling
 * policies and alarms on a service, Service Auto Scaling could change a desired
 * count that was manually set by you"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-stepscaling.html).
 * So a stop first suspends dynamic and scheduled scaling of the service's scalable
 * target, saving its SuspendedState; a start restores exactly that state, so a
 * suspension a person had set stays. The state is saved only when it is not already
 * the one lightsout sets, so a repeated stop never saves its own suspension.
 *
 * A MinCapacity above 0 does not fight a desired count of 0 while suspended: below
 * the minimum, only a scale-out triggered by an alarm raises the count to the
 * minimum, "a scale-in activity does not adjust the desired count" (same page), and
 * scheduled actions scale out to their minimum (scheduled-scaling-policy-overview.html);
 * both are suspended. A start restores the count before it resumes scaling, so the
 * count is back inside the range when scaling runs again.
 *
 * AWS semantics (Amazon ECS API Reference):
 * - ListClusters and ListServices page with nextToken, 1 to 100 results a page
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html).
 * - DescribeServices takes up to 10 services of one cluster; `include: ['TAGS']`
 *   adds their tags; a service it does not find comes back in `failures` with the
 *   reason MISSING; a deleted cluster throws ClusterNotFoundException
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html).
 * - A deployment's rolloutState is COMPLETED once the service reaches a steady
 *   state, FAILED when the circuit breaker stopped it; it is "only returned for
 *   services that use the rolling update (ECS) deployment type that aren't behind a
 *   Classic Load Balancer" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html).
 * - Discovery also reads each distinct task definition (DescribeTaskDefinition)
 *   once, for the task size savings price a service by (ecs-task-size.ts).
 * - Only services with the long ARN (service/CLUSTER/SERVICE) can be tagged
 *   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-arn-migration.html).
 *
 * Application Auto Scaling (API Reference): RegisterScalableTarget on an existing
 * target changes only the parameters given; SuspendedState's three flags default to
 * false; resuming scale-in makes it evaluate "policies with alarm thresholds that
 * are currently in breach", so after a burst the count comes down by itself
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-suspend-resume-scaling.html).
 * DescribeScalableTargets pages with NextToken, up to 50 targets a page.
 */
import {
  DescribeServicesCommand,
  paginateListClusters,
  paginateListServices,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Deployment, ECSClient, Service } from '@aws-sdk/client-ecs';
import {
  paginateDescribeScalableTargets,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import type {
  ApplicationAutoScalingClient,
  ScalableTarget,
  SuspendedState,
} from '@aws-sdk/client-application-auto-scaling';
import type { PowerState } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Resource,
  RestoreData,
  SettledNote,
} from '../../engine/ports.js';
import { TransientError } from '../../engine/ports.js';
import type { Connection } from './clients.js';
import { capacityOf, readTaskSizes, UNKNOWN_TASK_SIZE } from './ecs-task-size.js';
import type { TaskSize } from './ecs-task-size.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import {
  awsId,
  eachResource,
  hasTags,
  LAST_ACTION_TAG,
  messageOf,
  nameOf,
  outcomeOfError,
} from './kind.js';

/** Services per DescribeServices call (the documented maximum). */
export const ECS_DESCRIBE_BATCH = 10;
/** Resource ids per DescribeScalableTargets call (its page size). */
export const SCALABLE_TARGET_BATCH = 50;

/** Keys of what a stop or a burst saved in the store's restore data. */
const DESIRED_KEY = 'desiredCount';
const STOP_SCALING_KEY = 'scalingSuspended';
const BURST_SCALING_KEY = 'burstScalingSuspended';

const ALL_SUSPENDED: Required<SuspendedState> = {
  DynamicScalingInSuspended: true,
  DynamicScalingOutSuspended: true,
  ScheduledScalingSuspended: true,
};
const SCALE_IN_SUSPENDED: SuspendedState = { DynamicScalingInSuspended: true };

/**
 * The kind keeps each service's ARN, learnt by discovery (and refreshed by every
 * describe), to tag it without describing it again.
 */
export class EcsKind implements AwsKind {
  readonly kind = 'ecs';
  private readonly arns = new Map<string, string>();
  /** Task sizes by task definition revision: a revision never changes (readTaskSizes). */
  private readonly taskSizes = new Map<string, TaskSize>();

  async discover(context: KindContext, scope: DiscoveryScope): Promise<Resource[]> {
    const client = await context.clients.get('ecs', scope.connection);
    const found = await discoverServices(client, scope.connection.region, scope.tags);
    for (const { resource, arn } of found) this.arns.set(resource.id, arn);
    const saved = await savedCounts(context, scope.connection.region, found);
    const tasks = await readTaskSizes(
      client,
      found.flatMap((f) => (f.taskDefinition === undefined ? [] : [f.taskDefinition])),
      this.taskSizes,
    );
    return found.map(({ resource, desiredCount, taskDefinition, capacity }) => {
      // A service lightsout holds at 0 would run the count its stop saved.
      const count = desiredCount > 0 ? desiredCount : saved.get(resource.id);
      // An unknown count is left out, so the inventory keeps the last one it knew;
      // an unread task size and an unshown capacity are written as undefined, so it
      // forgets the ones it knew: they may belong to an older task definition.
      const task =
        (taskDefinition === undefined ? undefined : tasks.get(taskDefinition)) ?? UNKNOWN_TASK_SIZE;
      return {
        ...resource,
        size: { ...(count === undefined ? {} : { count }), capacity, ...task },
      };
    });
  }

  async observe(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
  ): Promise<Map<string, Observation>> {
    const client = await context.clients.get('ecs', connection);
    const states = new Map<string, Observation>();
    for (const group of byCluster(resources)) {
      const services = await this.describe(client, group);
      for (const r of group) states.set(r.id, observationOf(services.get(r.id)));
    }
    return states;
  }

  async act(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    target: PowerState,
  ): Promise<ActOutcome[]> {
    return this.eachService(context, connection, resources, (service, scaling) =>
      target === 'off' ? stopService(service, scaling) : startService(service, scaling),
    );
  }

  async boost(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    phase: 'begin' | 'end',
  ): Promise<ActOutcome[]> {
    return this.eachService(context, connection, resources, (service, scaling) =>
      phase === 'begin' ? beginBurst(service, scaling) : endBurst(service, scaling),
    );
  }

  /**
   * After a verified start the saved desired count says nothing more: a count a
   * person sets during the day is what the next stop saves. The saved scaling
   * state went already, when the start resumed it.
   */
  async forgetRestore(
    context: KindContext,
    _connection: Connection,
    resources: readonly Resource[],
  ): Promise<SettledNote[]> {
    const notes: SettledNote[] = [];
    for (const resource of resources) {
      const desiredCount = await context.restore.load(resource.id, DESIRED_KEY);
      if (desiredCount !== undefined)
        notes.push({ id: resource.id, kind: 'restore.forgotten', detail: { desiredCount } });
    }
    await context.restore.saveMany(
      notes.map((n) => ({ id: n.id, key: DESIRED_KEY, data: undefined })),
    );
    return notes;
  }

  alarmDimensions(resource: Resource) {
    // The dimensions of the AWS/ECS service metrics
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html).
    const { cluster, service } = namesOf(resource);
    return [
      { Name: 'ClusterName', Value: cluster },
      { Name: 'ServiceName', Value: service },
    ];
  }

  /** Tags every service it can, then throws once naming those it could not. */
  async tagLastAction(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    value: string,
  ): Promise<void> {
    const client = await context.clients.get('ecs', connection);
    const unknown = resources.filter((r) => !this.arns.has(r.id));
    for (const group of byCluster(unknown)) await this.describe(client, group);
    const failures: string[] = [];
    for (const resource of resources) {
      const arn = this.arns.get(resource.id);
      if (arn === undefined) failures.push(`${resource.name}: the service no longer exists`);
      else if (!hasLongArn(arn))
        failures.push(
          `${resource.name}: ECS tags only services with the long ARN format (service/CLUSTER/SERVICE); migrate it (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-arn-migration.html)`,
        );
      else
        try {
          await client.send(
            new TagResourceCommand({ resourceArn: arn, tags: [{ key: LAST_ACTION_TAG, value }] }),
          );
        } catch (error) {
          failures.push(`${resource.name}: ${messageOf(error)}`);
        }
    }
    if (failures.length > 0)
      throw new Error(`could not tag ${failures.length} ECS service(s): ${failures.join('; ')}`);
  }

  /** Describes a group of services of one cluster, keeping their ARNs. */
  private async describe(
    client: ECSClient,
    group: readonly Resource[],
  ): Promise<Map<string, Service>> {
    const services = await describeServices(client, group);
    for (const [id, s] of services) if (s.serviceArn !== undefined) this.arns.set(id, s.serviceArn);
    return services;
  }

  /**
   * Describes the services (per cluster) and their scalable targets, then moves
   * each in turn: a failed describe fails its cluster's services, a failed move
   * only its own service.
   */
  private async eachService(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    move: (service: CurrentService, scaling: Scaling) => Promise<ActOutcome>,
  ): Promise<ActOutcome[]> {
    const ecs = await context.clients.get('ecs', connection);
    const autoscaling = await context.clients.get('application-autoscaling', connection);
    let targets: Map<string, ScalableTarget>;
    try {
      targets = await describeScalableTargets(autoscaling, resources);
    } catch (error) {
      return resources.map((r) => outcomeOfError(r, error));
    }
    const outcomes: ActOutcome[] = [];
    for (const group of byCluster(resources)) {
      let services: Map<string, Service>;
      try {
        services = await this.describe(ecs, group);
      } catch (error) {
        outcomes.push(...group.map((r) => outcomeOfError(r, error)));
        continue;
      }
      outcomes.push(
        ...(await eachResource(group, (resource) => {
          const service = services.get(resource.id);
          if (service === undefined || service.status !== 'ACTIVE')
            return Promise.resolve<ActOutcome>({
              id: resource.id,
              result: 'failed',
              reason: `ECS service ${resource.name} no longer exists`,
            });
          const scaling = new Scaling(
            autoscaling,
            context.restore,
            resource,
            targets.get(resource.id),
          );
          return move({ ecs, restore: context.restore, resource, service }, scaling);
        })),
      );
    }
    return outcomes;
  }
}

/** The cluster and service names in a resource id (cluster names hold no slash). */
export function namesOf(resource: Resource): { cluster: string; service: string } {
  const name = nameOf(resource);
  const slash = name.indexOf('/');
  return { cluster: name.slice(0, slash), service: name.slice(slash + 1) };
}

/** `service/CLUSTER/SERVICE`: the scalable target's ResourceId. */
function scalableResourceId(resource: Resource): string {
  return `service/${nameOf(resource)}`;
}

function hasLongArn(arn: string): boolean {
  // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE (the short one lacks CLUSTER)
  return (arn.split(':')[5] ?? '').split('/').length === 3;
}

function byCluster(resources: readonly Resource[]): Resource[][] {
  const groups = new Map<string, Resource[]>();
  for (const r of resources) {
    const { cluster } = namesOf(r);
    groups.set(cluster, [...(groups.get(cluster) ?? []), r]);
  }
  return [...groups.values()];
}

interface EcsFound {
  readonly resource: Resource;
  readonly arn: string;
  /** The service's desiredCount as described (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html). */
  readonly desiredCount: number;
  /** The ARN of the task definition its tasks run, read for their size (ecs-task-size.ts). */
  readonly taskDefinition: string | undefined;
  /** Its launch type or capacity providers; undefined when the service shows neither. */
  readonly capacity: readonly string[] | undefined;
}

/** The desired counts stops saved for services found at 0, one store read for the region. */
async function savedCounts(
  context: KindContext,
  region: string,
  found: readonly EcsFound[],
): Promise<Map<string, number>> {
  if (!found.some((f) => f.desiredCount === 0)) return new Map();
  const saved = await context.restore.find(`aws:ecs:${region}:`, DESIRED_KEY);
  return new Map(
    saved.flatMap(({ id, data }) =>
      typeof data === 'number' && data > 0 ? [[id, data] as const] : [],
    ),
  );
}

/** Every cluster, every service in it, described 10 at a time with tags, filtered by tags. */
async function discoverServices(
  client: ECSClient,
  region: string,
  wanted: Readonly<Record<string, string>>,
): Promise<EcsFound[]> {
  const found: EcsFound[] = [];
  for await (const clusters of paginateListClusters({ client, pageSize: 100 }, {})) {
    for (const clusterArn of clusters.clusterArns ?? []) {
      const arns: string[] = [];
      for await (const page of paginateListServices(
        { client, pageSize: 100 },
        { cluster: clusterArn },
      ))
        arns.push(...(page.serviceArns ?? []));
      for (let i = 0; i < arns.length; i += ECS_DESCRIBE_BATCH) {
        const { services } = await client.send(
          new DescribeServicesCommand({
            cluster: clusterArn,
            services: arns.slice(i, i + ECS_DESCRIBE_BATCH),
            include: ['TAGS'],
          }),
        );
        for (const service of services ?? []) {
          const tags = Object.fromEntries(
            (service.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']),
          );
          if (service.status === 'ACTIVE' && hasTags(tags, wanted))
            found.push(foundService(region, clusterArn, service, tags));
        }
      }
    }
  }
  return found;
}

function foundService(
  region: string,
  clusterArn: string,
  service: Service,
  tags: Record<string, string>,
): EcsFound {
  // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE
  const arn = service.serviceArn ?? '';
  const account = arn.split(':')[4] ?? 'unknown';
  const cluster = clusterArn.split('/').pop() ?? '';
  const name = `${cluster}/${service.serviceName ?? ''}`;
  return {
    resource: { id: awsId('ecs', region, account, name), provider: 'aws', kind: 'ecs', name, tags },
    arn,
    desiredCount: service.desiredCount ?? 0,
    taskDefinition: service.taskDefinition,
    capacity: capacityOf(service),
  };
}

/**
 * The services of one cluster by resource id, 10 per call. A service ECS does
 * not find (MISSING) or whose cluster is gone is left out; any other failure throws.
 */
async function describeServices(
  client: ECSClient,
  group: readonly Resource[],
): Promise<Map<string, Service>> {
  const found = new Map<string, Service>();
  if (group.length === 0) return found;
  const { cluster } = namesOf(group[0]!);
  const byName = new Map(group.map((r) => [namesOf(r).service, r]));
  const names = [...byName.keys()];
  for (let i = 0; i < names.length; i += ECS_DESCRIBE_BATCH) {
    let page;
    try {
      page = await client.send(
        new DescribeServicesCommand({ cluster, services: names.slice(i, i + ECS_DESCRIBE_BATCH) }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ClusterNotFoundException') return found;
      throw error;
    }
    const failure = page.failures?.find((f) => f.reason !== 'MISSING');
    if (failure !== undefined)
      throw new Error(
        `ECS could not describe ${failure.arn ?? 'a service'}: ${failure.reason ?? ''} ${failure.detail ?? ''}`.trim(),
      );
    for (const service of page.services ?? []) {
      const resource = byName.get(service.serviceName ?? '');
      if (resource !== undefined) found.set(resource.id, service);
    }
  }
  return found;
}

/**
 * Off when no task is desired nor running; on when as many run as desired and
 * the primary deployment is complete; missing once deleted (DRAINING, INACTIVE).
 */
function observationOf(service: Service | undefined): Observation {
  if (service === undefined || service.status !== 'ACTIVE') return 'missing';
  const desired = service.desiredCount ?? 0;
  const running = service.runningCount ?? 0;
  if (desired === 0) return running === 0 ? 'off' : 'stopping';
  const deployments = service.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (primary?.rolloutState === 'FAILED')
    return {
      state: 'failed',
      reason: `the deployment of ${service.serviceName ?? 'the service'} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
    };
  return running >= desired && deploymentComplete(primary, deployments) ? 'on' : 'starting';
}

function deploymentComplete(primary: Deployment | undefined, all: readonly Deployment[]): boolean {
  // Blue/green and external controllers report no deployments: the counts decide.
  if (primary === undefined) return true;
  if (primary.rolloutState !== undefined) return primary.rolloutState === 'COMPLETED';
  // Without a rollout state, complete once no older (ACTIVE) deployment is still being replaced.
  return all.length === 1;
}

/** Scalable targets of the services, by resource id; a service without one is absent. */
async function describeScalableTargets(
  client: ApplicationAutoScalingClient,
  resources: readonly Resource[],
): Promise<Map<string, ScalableTarget>> {
  const byTargetId = new Map(resources.map((r) => [scalableResourceId(r), r]));
  const ids = [...byTargetId.keys()];
  const targets = new Map<string, ScalableTarget>();
  for (let i = 0; i < ids.length; i += SCALABLE_TARGET_BATCH) {
    for await (const page of paginateDescribeScalableTargets(
      { client, pageSize: SCALABLE_TARGET_BATCH },
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceIds: ids.slice(i, i + SCALABLE_TARGET_BATCH),
      },
    )) {
      for (const target of page.ScalableTargets ?? []) {
        const resource = byTargetId.get(target.ResourceId ?? '');
        if (resource !== undefined) targets.set(resource.id, target);
      }
    }
  }
  return targets;
}

/** A service as described just now, with what a move needs. */
interface CurrentService {
  readonly ecs: ECSClient;
  readonly restore: RestoreData;
  readonly resource: Resource;
  readonly service: Service;
}

/** Suspends and restores the scaling of one service's scalable target, if it has one. */
class Scaling {
  constructor(
    private readonly client: ApplicationAutoScalingClient,
    private readonly restore: RestoreData,
    private readonly resource: Resource,
    readonly target: ScalableTarget | undefined,
  ) {}

  /**
   * Suspends the activities in `wanted`, keeping the others as they are, after
   * saving the state under `key`. A saved state is kept when the current one is
   * already suspended as wanted: that is our own suspension, seen again after a crash.
   */
  async suspend(wanted: SuspendedState, key: string): Promise<void> {
    if (this.target === undefined) return;
    const current = normalised(this.target.SuspendedState);
    const suspended = covers(current, wanted);
    if (!suspended || (await this.restore.load(this.resource.id, key)) === undefined)
      await this.restore.save(this.resource.id, key, current);
    if (!suspended) await this.register({ ...current, ...wanted });
  }

  /** Puts back the state saved under `key`, exactly, and forgets it. */
  async resume(key: string): Promise<boolean> {
    const saved = await this.saved(key);
    if (saved === undefined) return false;
    // A target deregistered meanwhile has nothing to resume.
    if (this.target !== undefined) await this.register(saved);
    await this.restore.save(this.resource.id, key, undefined);
    return true;
  }

  async saved(key: string): Promise<Required<SuspendedState> | undefined> {
    return (await this.restore.load(this.resource.id, key)) as Required<SuspendedState> | undefined;
  }

  async keep(key: string, state: Required<SuspendedState> | undefined): Promise<void> {
    await this.restore.save(this.resource.id, key, state);
  }

  private async register(state: SuspendedState): Promise<void> {
    try {
      await this.client.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'ecs',
          ScalableDimension: 'ecs:service:DesiredCount',
          ResourceId: scalableResourceId(this.resource),
          SuspendedState: state,
        }),
      );
    } catch (error) {
      // "Concurrent updates caused an exception": another update of the target is pending
      // (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
      if ((error as { name?: string }).name === 'ConcurrentUpdateException')
        throw new TransientError(messageOf(error), { cause: error });
      throw error;
    }
  }
}

function normalised(state: SuspendedState | undefined): Required<SuspendedState> {
  return {
    DynamicScalingInSuspended: state?.DynamicScalingInSuspended === true,
    DynamicScalingOutSuspended: state?.DynamicScalingOutSuspended === true,
    ScheduledScalingSuspended: state?.ScheduledScalingSuspended === true,
  };
}

/** True when every activity `wanted` suspends is suspended in `state`. */
function covers(state: Required<SuspendedState>, wanted: SuspendedState): boolean {
  return (Object.keys(wanted) as (keyof SuspendedState)[]).every(
    (k) => wanted[k] !== true || state[k],
  );
}

async function setDesiredCount(current: CurrentService, desiredCount: number): Promise<void> {
  const { cluster, service } = namesOf(current.resource);
  await current.ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }));
}

async function stopService(current: CurrentService, scaling: Scaling): Promise<ActOutcome> {
  const { resource, service, restore } = current;
  const desired = service.desiredCount ?? 0;
  if (desired === 0) return { id: resource.id, result: 'already' };
  await restore.save(resource.id, DESIRED_KEY, desired);
  await scaling.suspend(ALL_SUSPENDED, STOP_SCALING_KEY);
  await setDesiredCount(current, 0);
  return { id: resource.id, result: 'accepted' };
}

async function startService(current: CurrentService, scaling: Scaling): Promise<ActOutcome> {
  const { resource, service, restore } = current;
  if ((service.desiredCount ?? 0) > 0) {
    // Started already; scaling may still be suspended if a start stopped halfway.
    const resumed = await scaling.resume(STOP_SCALING_KEY);
    return { id: resource.id, result: resumed ? 'accepted' : 'already' };
  }
  const saved = (await restore.load(resource.id, DESIRED_KEY)) as number | undefined;
  if (saved === undefined || saved === 0)
    return {
      id: resource.id,
      result: 'failed',
      reason: `no saved desired count for ECS service ${resource.name}, which is at 0; set it by hand`,
    };
  await setDesiredCount(current, saved);
  await scaling.resume(STOP_SCALING_KEY);
  return { id: resource.id, result: 'accepted' };
}

/** Pauses scale-in, then scales to the target's maximum. */
async function beginBurst(current: CurrentService, scaling: Scaling): Promise<ActOutcome> {
  const { resource, service } = current;
  const max = scaling.target?.MaxCapacity;
  if (max === undefined)
    return {
      id: resource.id,
      result: 'failed',
      reason: `ECS service ${resource.name} has no Application Auto Scaling scalable target, so no maximum to scale to`,
    };
  const pausedAlready = covers(normalised(scaling.target?.SuspendedState), SCALE_IN_SUSPENDED);
  await scaling.suspend(SCALE_IN_SUSPENDED, BURST_SCALING_KEY);
  if (pausedAlready && service.desiredCount === max) return { id: resource.id, result: 'already' };
  await setDesiredCount(current, max);
  return { id: resource.id, result: 'accepted' };
}

/**
 * Resumes scale-in as it was before the burst. A service stopped meanwhile keeps
 * its stop's suspension: the pre-burst state becomes what its start will restore.
 */
async function endBurst(current: CurrentService, scaling: Scaling): Promise<ActOutcome> {
  const { resource } = current;
  const beforeBurst = await scaling.saved(BURST_SCALING_KEY);
  if (beforeBurst === undefined) return { id: resource.id, result: 'already' };
  if ((await scaling.saved(STOP_SCALING_KEY)) !== undefined) {
    await scaling.keep(STOP_SCALING_KEY, beforeBurst);
    await scaling.keep(BURST_SCALING_KEY, undefined);
  } else await scaling.resume(BURST_SCALING_KEY);
  return { id: resource.id, result: 'accepted' };
}

/**
 * The AWS `ecs` kind at the SDK boundary (aws-sdk-client-mock): discovery across
 * clusters and pages (calls counted), desired counts saved and restored, scaling
 * suspended before a stop and restored exactly after a start, crashes halfway,
 * the burst action, errors per service, observation, alarm dimensions and tags;
 * task sizes read once per distinct task definition, and where the tasks run.
 *
 * ECS and Application Auto Scaling are faked as a small world: UpdateService and
 * RegisterScalableTarget change what the next describe returns, so repeated and
 * interrupted actions see what AWS would show them.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import type {
  DescribeScalableTargetsCommandInput,
  RegisterScalableTargetCommandInput,
  ScalableTarget,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type {
  DescribeServicesCommandInput,
  DescribeTaskDefinitionCommandInput,
  Service,
  TaskDefinition,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import type { Resource } from '../../src/engine/ports.js';
import { AwsProvider, memoryRestoreData } from '../../src/providers/aws/aws.js';
import { EcsKind } from '../../src/providers/aws/ecs.js';

const ecs = mockClient(ECSClient);
const aas = mockClient(ApplicationAutoScalingClient);
const ACCOUNT = '210987654321';
const REGION = 'eu-west-3';
const selector: Selector = {
  provider: 'aws',
  kinds: ['ecs'],
  tags: { env: 'dev' },
  settings: { regions: [REGION] },
};
const clusterArn = (cluster: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
const serviceArn = (cluster: string, name: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${name}`;
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

function service(name: string, extra: Partial<Service> = {}, cluster = 'apps'): Service {
  return {
    serviceName: name,
    serviceArn: serviceArn(cluster, name),
    clusterArn: clusterArn(cluster),
    status: 'ACTIVE',
    desiredCount: 3,
    runningCount: 3,
    tags: [{ key: 'env', value: 'dev' }],
    deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED' }],
    ...extra,
  };
}

function target(name: string, extra: Partial<ScalableTarget> = {}): ScalableTarget {
  return {
    ServiceNamespace: 'ecs',
    ScalableDimension: 'ecs:service:DesiredCount',
    ResourceId: `service/apps/${name}`,
    MinCapacity: 1,
    MaxCapacity: 10,
    RoleARN: 'arn:aws:iam::210987654321:role/aas',
    CreationTime: new Date(0),
    ...extra,
  };
}

/** What the fakes hold: services by cluster/name, scalable targets by ResourceId. */
let services: Map<string, Service>;
let targets: Map<string, ScalableTarget>;
/** Every changing call, in order, across both clients. */
let log: string[];
/** An error the next call of an operation throws (sinon's "once" counts from the first call ever). */
let failNext: Map<string, Error>;

function failOnce(operation: string): void {
  const error = failNext.get(operation);
  if (error === undefined) return;
  failNext.delete(operation);
  throw error;
}

function world(list: readonly Service[], targetList: readonly ScalableTarget[] = []) {
  services = new Map(
    list.map((s) => [`${s.clusterArn?.split('/').pop() ?? ''}/${s.serviceName ?? ''}`, s]),
  );
  targets = new Map(targetList.map((t) => [t.ResourceId ?? '', t]));
}

function fakeEcs() {
  ecs.on(ListClustersCommand).callsFake(() => ({
    clusterArns: [...new Set([...services.values()].map((s) => s.clusterArn ?? ''))],
  }));
  ecs.on(ListServicesCommand).callsFake((input: { cluster?: string }) => ({
    serviceArns: [...services.values()]
      .filter((s) => s.clusterArn === input.cluster)
      .map((s) => s.serviceArn ?? ''),
  }));
  ecs.on(DescribeServicesCommand).callsFake((input: DescribeServicesCommandInput) => {
    failOnce('DescribeServices');
    const cluster = (input.cluster ?? '').split('/').pop() ?? '';
    const found: Service[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const wanted of input.services ?? []) {
      const name = wanted.split('/').pop() ?? '';
      const s = services.get(`${cluster}/${name}`);
      if (s === undefined) failures.push({ arn: wanted, reason: 'MISSING' });
      else found.push(s);
    }
    return { services: found, failures };
  });
  ecs.on(UpdateServiceCommand).callsFake((input: UpdateServiceCommandInput) => {
    failOnce('UpdateService');
    const key = `${input.cluster ?? ''}/${input.service ?? ''}`;
    log.push(`UpdateService ${key} ${input.desiredCount ?? ''}`);
    const s = services.get(key);
    if (s !== undefined) services.set(key, { ...s, desiredCount: input.desiredCount ?? 0 });
    return {};
  });
  aas
    .on(DescribeScalableTargetsCommand)
    .callsFake((input: DescribeScalableTargetsCommandInput) => ({
      ScalableTargets: (input.ResourceIds ?? []).flatMap((id) => {
        const t = targets.get(id);
        return t === undefined ? [] : [t];
      }),
    }));
  aas.on(RegisterScalableTargetCommand).callsFake((input: RegisterScalableTargetCommandInput) => {
    failOnce('RegisterScalableTarget');
    log.push(`RegisterScalableTarget ${input.ResourceId ?? ''}`);
    const t = targets.get(input.ResourceId ?? '');
    if (t !== undefined)
      targets.set(input.ResourceId ?? '', { ...t, SuspendedState: input.SuspendedState });
    return {};
  });
}

async function setup(list: readonly Service[], targetList: readonly ScalableTarget[] = []) {
  world(list, targetList);
  const restore = memoryRestoreData();
  const provider = new AwsProvider({ restore });
  const resources = await provider.discover(selector);
  return { provider, restore, resources, id: resources[0]?.id ?? '' };
}

const registered = () =>
  aas.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input.SuspendedState);
const updates = () =>
  ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.desiredCount);

beforeEach(() => {
  ecs.reset();
  aas.reset();
  log = [];
  failNext = new Map();
  fakeEcs();
});

describe('discovery', () => {
  it('lists every cluster and service across pages, describes 10 at a time with tags, and keeps tagged active services', async () => {
    const many = Array.from({ length: 13 }, (_, i) => service(`svc-${String(i).padStart(2, '0')}`));
    world([
      ...many,
      service('untagged', { tags: [{ key: 'env', value: 'prod' }] }),
      service('draining', { status: 'DRAINING' }),
      service('jobs', {}, 'batch'),
    ]);
    const arns = (cluster: string) =>
      [...services.values()]
        .filter((s) => s.clusterArn === clusterArn(cluster))
        .map((s) => s.serviceArn ?? '');
    ecs
      .on(ListClustersCommand)
      .resolvesOnce({ clusterArns: [clusterArn('apps')], nextToken: 'clusters-2' })
      .resolvesOnce({ clusterArns: [clusterArn('batch')] });
    ecs
      .on(ListServicesCommand, { cluster: clusterArn('apps') })
      .resolvesOnce({ serviceArns: arns('apps').slice(0, 8), nextToken: 'services-2' })
      .resolvesOnce({ serviceArns: arns('apps').slice(8) });

    const found = await new AwsProvider().discover(selector);

    expect(found).toHaveLength(14);
    expect(found[0]).toEqual({
      id: `aws:ecs:${REGION}:${ACCOUNT}:apps/svc-00`,
      provider: 'aws',
      kind: 'ecs',
      name: 'apps/svc-00',
      tags: { env: 'dev' },
      size: { count: 3 },
    });
    expect(found.map((r) => r.name)).toContain('batch/jobs');
    expect(found.map((r) => r.name)).not.toContain('apps/untagged');
    expect(found.map((r) => r.name)).not.toContain('apps/draining');
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(2);
    expect(ecs.commandCalls(ListServicesCommand)).toHaveLength(3);
    const describes = ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input);
    // apps: 15 services → 10 + 5; batch: 1.
    expect(describes.map((d) => d.services?.length)).toEqual([10, 5, 1]);
    expect(describes[0]).toMatchObject({ cluster: clusterArn('apps'), include: ['TAGS'] });
  });
});

const taskDefinitionArn = (family: string, revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

/** Answers DescribeTaskDefinition from `definitions` by the name asked; an unknown one is a ClientException. */
function fakeTaskDefinitions(definitions: Record<string, TaskDefinition>) {
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: DescribeTaskDefinitionCommandInput) => {
    const found = definitions[input.taskDefinition ?? ''];
    if (found === undefined)
      throw Object.assign(new Error('Unable to describe task definition.'), {
        name: 'ClientException',
        $metadata: { httpStatusCode: 400 },
      });
    return { taskDefinition: found };
  });
}

describe('task sizes', () => {
  const web = taskDefinitionArn('web', 7);
  const worker = taskDefinitionArn('worker', 2);
  const definitions: Record<string, TaskDefinition> = {
    // Task-level size, as Fargate requires: CPU units and MiB, in strings.
    [web]: { taskDefinitionArn: web, cpu: '512', memory: '1024', containerDefinitions: [] },
    // No task-level size (EC2 launch type): the containers' reservations, memoryReservation
    // before memory.
    [worker]: {
      taskDefinitionArn: worker,
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      containerDefinitions: [
        { name: 'app', cpu: 256, memory: 512, memoryReservation: 256 },
        { name: 'sidecar', cpu: 128, memory: 256 },
      ],
    },
  };

  it('reads each distinct task definition once, by the ARN the service names, and records where its tasks run', async () => {
    world([
      service('web-a', { taskDefinition: web, launchType: 'FARGATE' }),
      service('web-b', {
        taskDefinition: web,
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE_SPOT', weight: 3 },
          { capacityProvider: 'FARGATE', base: 1, weight: 1 },
        ],
      }),
      service('worker', { taskDefinition: worker, launchType: 'EC2' }),
      service('jobs', { taskDefinition: web }, 'batch'),
    ]);
    fakeTaskDefinitions(definitions);
    const found = await new AwsProvider().discover(selector);
    const sizes = Object.fromEntries(found.map((r) => [r.name, r.size]));
    const web05 = { vcpu: 0.5, memoryGb: 1, cpuArchitecture: undefined, os: undefined };
    expect(sizes).toEqual({
      'apps/web-a': { count: 3, capacity: ['FARGATE'], ...web05 },
      'apps/web-b': { count: 3, capacity: ['FARGATE', 'FARGATE_SPOT'], ...web05 },
      // (256 + 128) units; 256 reserved + 256 MiB
      'apps/worker': {
        count: 3,
        capacity: ['EC2'],
        vcpu: 0.375,
        memoryGb: 0.5,
        cpuArchitecture: 'ARM64',
        os: 'LINUX',
      },
      // Neither a launch type nor a strategy shown: where it runs is not guessed.
      'batch/jobs': { count: 3, capacity: undefined, ...web05 },
    });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input)).toEqual([
      { taskDefinition: web },
      { taskDefinition: worker },
    ]);
  });

  it('reads a revision once for good, but a family name (its latest revision) once per discovery', async () => {
    world([
      service('web', { taskDefinition: web, launchType: 'FARGATE' }),
      service('latest', { taskDefinition: 'web', launchType: 'FARGATE' }),
      service('latest-too', { taskDefinition: 'web', launchType: 'FARGATE' }),
    ]);
    fakeTaskDefinitions({ ...definitions, web: definitions[web]! });
    const provider = new AwsProvider();
    await provider.discover(selector);
    const again = await provider.discover(selector);
    expect(again.map((r) => r.size?.vcpu)).toEqual([0.5, 0.5, 0.5]);
    // Once per discovery for the family, shared by two services.
    expect(
      ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition),
    ).toEqual([web, 'web', 'web']);
  });

  it('a task definition it cannot read leaves its services’ task size unknown, and the others known', async () => {
    const gone = taskDefinitionArn('gone', 1);
    world([
      service('web', { taskDefinition: web, launchType: 'FARGATE' }),
      service('orphan', { taskDefinition: gone, launchType: 'FARGATE' }),
      service('denied', { taskDefinition: worker, launchType: 'FARGATE' }),
    ]);
    fakeTaskDefinitions(definitions);
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: worker }).rejects(
      Object.assign(new Error('not authorized to perform: ecs:DescribeTaskDefinition'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const provider = new AwsProvider();
    const found = await provider.discover(selector);
    const size = (name: string) => found.find((r) => r.name === name)?.size;
    expect(size('apps/web')).toMatchObject({ count: 3, vcpu: 0.5, memoryGb: 1 });
    for (const name of ['apps/orphan', 'apps/denied']) {
      // Written out as undefined, so the inventory forgets a size it knew.
      expect(size(name)).toHaveProperty('vcpu', undefined);
      expect(size(name)).toHaveProperty('memoryGb', undefined);
      expect(size(name)).toMatchObject({ count: 3, capacity: ['FARGATE'] });
    }
    // A failed read is not kept: the next discovery asks again.
    await provider.discover(selector);
    expect(
      ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition),
    ).toEqual([web, gone, worker, gone, worker]);
  });

  it('a service naming no task definition calls nothing more', async () => {
    world([service('web')]);
    const found = await new AwsProvider().discover(selector);
    expect(found[0]!.size).toMatchObject({ count: 3, vcpu: undefined });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });
});

describe('stop and start', () => {
  it('a service without a scalable target: the desired count is saved, set to 0, then restored', async () => {
    const { provider, restore, resources, id } = await setup([service('web')]);
    expect(await provider.act(resources, 'off')).toEqual([{ id, result: 'accepted' }]);
    expect(await restore.load(id, 'desiredCount')).toBe(3);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input).toEqual({
      cluster: 'apps',
      service: 'web',
      desiredCount: 0,
    });
    expect(aas.commandCalls(DescribeScalableTargetsCommand)[0]!.args[0].input).toMatchObject({
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceIds: ['service/apps/web'],
    });
    expect(aas.commandCalls(RegisterScalableTargetCommand)).toHaveLength(0);

    expect(await provider.act(resources, 'on')).toEqual([{ id, result: 'accepted' }]);
    expect(updates()).toEqual([0, 3]);
  });

  it('a verified start forgets the saved desired count; a verified stop keeps it', async () => {
    world([service('web')]);
    const restore = memoryRestoreData();
    const provider = new AwsProvider({ restore });
    // alarms: false, so the follow-ups call no CloudWatch.
    const resources = await provider.discover({
      ...selector,
      settings: { regions: [REGION], alarms: false },
    });
    const id = resources[0]!.id;
    await provider.act(resources, 'off');
    const run = { id: 'run', direction: 'stop', at: 0 };
    expect(await provider.settled(resources, 'off', run)).toEqual([]);
    expect(await restore.load(id, 'desiredCount')).toBe(3);
    await provider.act(resources, 'on');
    expect(await provider.settled(resources, 'on', { ...run, direction: 'start' })).toEqual([
      { id, kind: 'restore.forgotten', detail: { desiredCount: 3 } },
    ]);
    expect(await restore.load(id, 'desiredCount')).toBeUndefined();
  });

  it('scaling is suspended before the stop and restored exactly after the start, keeping a suspension a person set', async () => {
    const personal = { ScheduledScalingSuspended: true };
    const { provider, restore, resources, id } = await setup(
      [service('web')],
      [target('web', { SuspendedState: personal })],
    );
    await provider.act(resources, 'off');
    expect(log).toEqual(['RegisterScalableTarget service/apps/web', 'UpdateService apps/web 0']);
    expect(aas.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input).toEqual({
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceId: 'service/apps/web',
      SuspendedState: {
        DynamicScalingInSuspended: true,
        DynamicScalingOutSuspended: true,
        ScheduledScalingSuspended: true,
      },
    });
    expect(await restore.load(id, 'scalingSuspended')).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });

    log = [];
    expect(await provider.act(resources, 'on')).toEqual([{ id, result: 'accepted' }]);
    expect(log).toEqual(['UpdateService apps/web 3', 'RegisterScalableTarget service/apps/web']);
    expect(registered()[1]).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });
    expect(await restore.load(id, 'scalingSuspended')).toBeUndefined();
  });

  it('a repeated stop changes nothing and keeps the saved count and scaling state', async () => {
    const { provider, restore, resources, id } = await setup([service('web')], [target('web')]);
    await provider.act(resources, 'off');
    expect(await provider.act(resources, 'off')).toEqual([{ id, result: 'already' }]);
    expect(await restore.load(id, 'desiredCount')).toBe(3);
    expect(await restore.load(id, 'scalingSuspended')).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: false,
    });
    expect(updates()).toEqual([0]);
    expect(registered()).toHaveLength(1);
  });

  it('a stop throttled after suspending scaling is retried and never saves its own suspension', async () => {
    const { provider, restore, resources, id } = await setup([service('web')], [target('web')]);
    failNext.set('UpdateService', throttled());
    expect(await provider.act(resources, 'off')).toEqual([
      { id, result: 'transient', reason: 'ThrottlingException: Rate exceeded' },
    ]);
    expect(await provider.act(resources, 'off')).toEqual([{ id, result: 'accepted' }]);
    expect(await restore.load(id, 'scalingSuspended')).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: false,
    });
    // The target was already suspended on the retry: no second RegisterScalableTarget.
    expect(registered()).toHaveLength(1);
    expect(await restore.load(id, 'desiredCount')).toBe(3);
  });

  it('a start that stopped before resuming scaling resumes it when repeated', async () => {
    const { provider, restore, resources, id } = await setup([service('web')], [target('web')]);
    await provider.act(resources, 'off');
    failNext.set('RegisterScalableTarget', throttled());
    expect((await provider.act(resources, 'on'))[0]?.result).toBe('transient');
    expect(await provider.act(resources, 'on')).toEqual([{ id, result: 'accepted' }]);
    expect(updates()).toEqual([0, 3]);
    expect(registered().at(-1)).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: false,
    });
    expect(await restore.load(id, 'scalingSuspended')).toBeUndefined();
    expect(await provider.act(resources, 'on')).toEqual([{ id, result: 'already' }]);
  });

  it('a start of a service at 0 with nothing saved fails with the reason', async () => {
    const { provider, resources, id } = await setup([service('web', { desiredCount: 0 })]);
    expect(await provider.act(resources, 'on')).toEqual([
      {
        id,
        result: 'failed',
        reason: 'no saved desired count for ECS service apps/web, which is at 0; set it by hand',
      },
    ]);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('a permanent error fails that service only; a deleted service fails with its reason', async () => {
    const { provider, resources } = await setup([service('web'), service('api'), service('gone')]);
    ecs.on(UpdateServiceCommand, { service: 'api' }).rejects(
      Object.assign(new Error('The desired count is invalid.'), {
        name: 'InvalidParameterException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    services.delete('apps/gone');
    const outcomes = await provider.act(resources, 'off');
    expect(outcomes.map((o) => [o.id.split(':').pop(), o.result, o.reason])).toEqual([
      ['apps/web', 'accepted', undefined],
      ['apps/api', 'failed', 'InvalidParameterException: The desired count is invalid.'],
      ['apps/gone', 'failed', 'ECS service apps/gone no longer exists'],
    ]);
  });

  it('a throttled describe makes its services transient', async () => {
    const { provider, resources, id } = await setup([service('web')]);
    failNext.set('DescribeServices', throttled());
    expect((await provider.act(resources, 'off'))[0]).toMatchObject({ id, result: 'transient' });
  });
});

describe('observation', () => {
  it('reads off, stopping, starting, on, failed and missing', async () => {
    const { provider, resources, id } = await setup([service('web')]);
    const state = async (s: Partial<Service> | undefined) => {
      if (s === undefined) services.delete('apps/web');
      else services.set('apps/web', service('web', s));
      return (await provider.observe(resources)).get(id);
    };
    expect(await state({ desiredCount: 0, runningCount: 0 })).toBe('off');
    expect(await state({ desiredCount: 0, runningCount: 2 })).toBe('stopping');
    expect(await state({ desiredCount: 3, runningCount: 1 })).toBe('starting');
    expect(
      await state({
        desiredCount: 3,
        runningCount: 3,
        deployments: [{ status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }],
      }),
    ).toBe('starting');
    expect(await state({ desiredCount: 3, runningCount: 3 })).toBe('on');
    // No rollout state (e.g. behind a Classic Load Balancer): on once no older deployment remains.
    expect(
      await state({
        deployments: [{ status: 'PRIMARY' }, { status: 'ACTIVE' }],
      }),
    ).toBe('starting');
    expect(await state({ deployments: [{ status: 'PRIMARY' }] })).toBe('on');
    expect(
      await state({
        runningCount: 0,
        deployments: [
          { status: 'PRIMARY', rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker' },
        ],
      }),
    ).toEqual({ state: 'failed', reason: 'the deployment of web failed: circuit breaker' });
    expect(await state({ status: 'DRAINING' })).toBe('missing');
    expect(await state({ status: 'INACTIVE' })).toBe('missing');
    expect(await state(undefined)).toBe('missing');
  });

  it('describes 10 services per call, one cluster at a time; a deleted cluster reads missing', async () => {
    const list = [
      ...Array.from({ length: 12 }, (_, i) => service(`svc-${i}`)),
      service('jobs', {}, 'batch'),
    ];
    const { provider, resources } = await setup(list);
    ecs.resetHistory();
    ecs
      .on(DescribeServicesCommand, { cluster: 'batch' })
      .rejects(
        Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }),
      );
    const states = await provider.observe(resources);
    const calls = ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.cluster, c.services?.length])).toEqual([
      ['apps', 10],
      ['apps', 2],
      ['batch', 1],
    ]);
    expect(states.get(`aws:ecs:${REGION}:${ACCOUNT}:apps/svc-11`)).toBe('on');
    expect(states.get(`aws:ecs:${REGION}:${ACCOUNT}:batch/jobs`)).toBe('missing');
  });
});

describe('the burst', () => {
  const boost = (provider: AwsProvider, resources: readonly Resource[], phase: 'begin' | 'end') =>
    provider.boost(resources, phase);

  it('begin pauses scale-in only and scales to the maximum; end restores the state before it', async () => {
    const { provider, restore, resources, id } = await setup(
      [service('web')],
      [target('web', { MaxCapacity: 8, SuspendedState: { ScheduledScalingSuspended: true } })],
    );
    expect(await boost(provider, resources, 'begin')).toEqual([{ id, result: 'accepted' }]);
    expect(log).toEqual(['RegisterScalableTarget service/apps/web', 'UpdateService apps/web 8']);
    expect(registered()[0]).toEqual({
      DynamicScalingInSuspended: true,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });

    // Repeated after a crash: the pre-burst state is kept, nothing is registered again.
    expect(await boost(provider, resources, 'begin')).toEqual([{ id, result: 'already' }]);
    expect(registered()).toHaveLength(1);
    expect(await restore.load(id, 'burstScalingSuspended')).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });

    expect(await boost(provider, resources, 'end')).toEqual([{ id, result: 'accepted' }]);
    expect(registered()[1]).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: true,
    });
    // Scale-in brings the count down by itself: end does not touch it.
    expect(updates()).toEqual([8]);
    expect(await boost(provider, resources, 'end')).toEqual([{ id, result: 'already' }]);
  });

  it('a service without a scalable target fails the burst: there is no maximum', async () => {
    const { provider, resources, id } = await setup([service('web')]);
    expect(await boost(provider, resources, 'begin')).toEqual([
      {
        id,
        result: 'failed',
        reason:
          'ECS service apps/web has no Application Auto Scaling scalable target, so no maximum to scale to',
      },
    ]);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('a burst ending while the service is stopped leaves scaling suspended until the start', async () => {
    const { provider, restore, resources, id } = await setup([service('web')], [target('web')]);
    await boost(provider, resources, 'begin');
    await provider.act(resources, 'off');
    expect(await boost(provider, resources, 'end')).toEqual([{ id, result: 'accepted' }]);
    expect(registered()).toHaveLength(2);
    await provider.act(resources, 'on');
    expect(registered().at(-1)).toEqual({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: false,
    });
    expect(await restore.load(id, 'burstScalingSuspended')).toBeUndefined();
  });
});

describe('alarms and tags', () => {
  it('names a service in CloudWatch by ClusterName and ServiceName', async () => {
    const { resources } = await setup([service('web')]);
    expect(new EcsKind().alarmDimensions(resources[0]!)).toEqual([
      { Name: 'ClusterName', Value: 'apps' },
      { Name: 'ServiceName', Value: 'web' },
    ]);
  });

  it('tags the last action on the ARN kept from discovery, describing only unknown services', async () => {
    world([service('web'), service('api')]);
    const kind = new EcsKind();
    const context = new AwsProvider().context;
    const scope = { connection: { region: REGION }, tags: { env: 'dev' }, hibernate: false };
    const resources = await kind.discover(context, scope);
    ecs.resetHistory();
    await kind.tagLastAction(context, { region: REGION }, resources, 'stop 2026-11-25T18:00:00Z');
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(0);
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      {
        resourceArn: serviceArn('apps', 'web'),
        tags: [{ key: 'lightsout:last-action', value: 'stop 2026-11-25T18:00:00Z' }],
      },
      {
        resourceArn: serviceArn('apps', 'api'),
        tags: [{ key: 'lightsout:last-action', value: 'stop 2026-11-25T18:00:00Z' }],
      },
    ]);

    ecs.resetHistory();
    await new EcsKind().tagLastAction(context, { region: REGION }, resources, 'start');
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
    expect(ecs.commandCalls(TagResourceCommand)).toHaveLength(2);
  });

  it('a service with a short ARN cannot be tagged: the others are, then it is named', async () => {
    world([
      service('web'),
      service('old', { serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/old` }),
    ]);
    const kind = new EcsKind();
    const context = new AwsProvider().context;
    const scope = { connection: { region: REGION }, tags: { env: 'dev' }, hibernate: false };
    const resources = await kind.discover(context, scope);
    await expect(
      kind.tagLastAction(context, { region: REGION }, resources, 'stop'),
    ).rejects.toThrow(
      /could not tag 1 ECS service\(s\): apps\/old: ECS tags only services with the long ARN format/,
    );
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input.resourceArn)).toEqual([
      serviceArn('apps', 'web'),
    ]);
  });
});

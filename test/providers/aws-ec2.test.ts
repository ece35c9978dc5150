/**
 * The AWS `ec2` kind at the SDK boundary (aws-sdk-client-mock): request shapes,
 * pagination, batching (calls counted), partial failures, throttling, permanent
 * errors, hibernation and a start that falls back to stopped.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Instance, InstanceStateName } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Selector } from '../../src/core/glossary.js';
import { AwsProvider } from '../../src/providers/aws/aws.js';

const ec2 = mockClient(EC2Client);
const ACCOUNT = '123456789012';
const selector = (settings: Record<string, unknown> = {}): Selector => ({
  provider: 'aws',
  kinds: ['ec2'],
  tags: { env: 'dev' },
  settings: { regions: ['eu-west-3'], ...settings },
});

function instance(
  id: string,
  state: InstanceStateName = 'running',
  extra: Partial<Instance> = {},
): Instance {
  return {
    InstanceId: id,
    State: { Name: state },
    Tags: [{ Key: 'Name', Value: `web-${id}` }],
    RootDeviceType: 'ebs',
    ...extra,
  };
}

function reservations(...instances: Instance[]) {
  return { Reservations: [{ OwnerId: ACCOUNT, Instances: instances }] };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i).padStart(4, '0')}`);

beforeEach(() => {
  ec2.reset();
});

describe('discovery', () => {
  it('filters by tags and live states, follows pagination, and skips Auto Scaling members', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        ...reservations(instance('i-1'), instance('i-2', 'stopped')),
        NextToken: 'page-2',
      })
      .resolvesOnce(
        reservations(
          instance('i-3', 'running', {
            Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'workers' }],
          }),
          instance('i-4'),
        ),
      );
    const found = await new AwsProvider().discover(selector());
    expect(found.map((r) => r.id)).toEqual([
      `aws:ec2:eu-west-3:${ACCOUNT}:i-1`,
      `aws:ec2:eu-west-3:${ACCOUNT}:i-2`,
      `aws:ec2:eu-west-3:${ACCOUNT}:i-4`,
    ]);
    expect(found[0]).toMatchObject({ provider: 'aws', kind: 'ec2', name: 'web-i-1' });
    const calls = ec2.commandCalls(DescribeInstancesCommand);
    expect(calls).toHaveLength(2);
    // The SDK's paginator reuses one input object, so only its filters are compared here.
    expect(calls[0]!.args[0].input).toMatchObject({
      Filters: [
        { Name: 'tag:env', Values: ['dev'] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
      MaxResults: 1000,
    });
    expect(calls[1]!.args[0].input).toMatchObject({ NextToken: 'page-2' });
  });
});

describe('start and stop', () => {
  async function discovered(instances: Instance[], settings: Record<string, unknown> = {}) {
    ec2.on(DescribeInstancesCommand).resolves(reservations(...instances));
    const provider = new AwsProvider();
    return { provider, resources: await provider.discover(selector(settings)) };
  }

  it('stops 2,500 instances in 3 calls of at most 1,000 ids (the resource bucket) and reports one outcome per instance', async () => {
    const { provider, resources } = await discovered(ids(2500).map((id) => instance(id)));
    ec2.on(StopInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      StoppingInstances: input.InstanceIds.map((id) => ({
        InstanceId: id,
        PreviousState: { Name: id === 'i-0007' ? 'stopped' : 'running' },
        CurrentState: { Name: 'stopping' },
      })),
    }));
    const outcomes = await provider.act(resources, 'off');
    expect(
      ec2.commandCalls(StopInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length),
    ).toEqual([1000, 1000, 500]);
    expect(outcomes).toHaveLength(2500);
    expect(outcomes.filter((o) => o.result === 'accepted')).toHaveLength(2499);
    expect(outcomes.find((o) => o.id.endsWith('i-0007'))?.result).toBe('already');
  });

  it('isolates a failing instance by splitting the batch, so the others still act', async () => {
    const { provider, resources } = await discovered(ids(8).map((id) => instance(id)));
    ec2.on(StartInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
      if (input.InstanceIds.includes('i-0005')) {
        throw Object.assign(new Error("The instance ID 'i-0005' does not exist"), {
          name: 'InvalidInstanceID.NotFound',
        });
      }
      return {
        StartingInstances: input.InstanceIds.map((id) => ({
          InstanceId: id,
          PreviousState: { Name: 'stopped' },
        })),
      };
    });
    const outcomes = await provider.act(resources, 'on');
    expect(outcomes.filter((o) => o.result === 'accepted')).toHaveLength(7);
    expect(outcomes.find((o) => o.id.endsWith('i-0005'))).toMatchObject({
      result: 'failed',
      reason: "InvalidInstanceID.NotFound: The instance ID 'i-0005' does not exist",
    });
    // 8 → 4+4 → the failing 4 → 2+2 → the failing 2 → 1+1: 7 calls, not 8.
    expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(7);
  });

  it('reports throttling as transient (the engine retries), then succeeds', async () => {
    const { provider, resources } = await discovered([instance('i-1', 'stopped')]);
    ec2
      .on(StartInstancesCommand)
      .rejectsOnce(
        Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }),
      )
      .resolves({ StartingInstances: [{ InstanceId: 'i-1', PreviousState: { Name: 'stopped' } }] });
    expect(await provider.act(resources, 'on')).toEqual([
      {
        id: resources[0]!.id,
        result: 'transient',
        reason: 'RequestLimitExceeded: Request limit exceeded.',
      },
    ]);
    expect(await provider.act(resources, 'on')).toEqual([
      { id: resources[0]!.id, result: 'accepted' },
    ]);
  });

  it('fails at once on a permanent error, with the message', async () => {
    const { provider, resources } = await discovered([instance('i-1')]);
    ec2.on(StopInstancesCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    expect(await provider.act(resources, 'off')).toEqual([
      {
        id: resources[0]!.id,
        result: 'failed',
        reason: 'UnauthorizedOperation: You are not authorized to perform this operation.',
      },
    ]);
  });

  it('refuses to stop Spot and instance-store instances, with the reason, without calling AWS', async () => {
    const { provider, resources } = await discovered([
      instance('i-spot', 'running', { InstanceLifecycle: 'spot' }),
      instance('i-store', 'running', { RootDeviceType: 'instance-store' }),
    ]);
    const outcomes = await provider.act(resources, 'off');
    expect(outcomes.map((o) => o.reason)).toEqual([
      'cannot stop web-i-spot: it is a Spot Instance, which lightsout does not stop',
      'cannot stop web-i-store: its root device is an instance store, which cannot be stopped',
    ]);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  it('hibernates instances configured for it and stops the others, saying so', async () => {
    const { provider, resources } = await discovered(
      [
        instance('i-hib', 'running', { HibernationOptions: { Configured: true } }),
        instance('i-plain'),
      ],
      { hibernate: true },
    );
    ec2.on(StopInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      StoppingInstances: input.InstanceIds.map((id) => ({
        InstanceId: id,
        PreviousState: { Name: 'running' },
      })),
    }));
    const outcomes = await provider.act(resources, 'off');
    const inputs = ec2.commandCalls(StopInstancesCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { InstanceIds: ['i-plain'] },
      { InstanceIds: ['i-hib'], Hibernate: true },
    ]);
    expect(outcomes.find((o) => o.id.endsWith('i-plain'))?.output).toBe(
      'hibernation is not configured on this instance; stopped it instead',
    );
  });
});

describe('verification', () => {
  it('maps EC2 states, and a start that falls back to stopped is a failure with the state reason', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves(reservations(instance('i-1', 'stopped'), instance('i-2', 'stopped')));
    const provider = new AwsProvider();
    const resources = await provider.discover(selector());
    ec2.on(StartInstancesCommand).resolves({
      StartingInstances: [
        { InstanceId: 'i-1', PreviousState: { Name: 'stopped' } },
        { InstanceId: 'i-2', PreviousState: { Name: 'stopped' } },
      ],
    });
    await provider.act(resources, 'on');
    ec2.on(DescribeInstancesCommand).resolves(
      reservations(
        instance('i-1', 'pending'),
        instance('i-2', 'stopped', {
          StateReason: {
            Code: 'Client.InternalError',
            Message: 'Client.InternalError: Client error on launch',
          },
        }),
      ),
    );
    const states = await provider.observe(resources);
    expect(states.get(resources[0]!.id)).toBe('starting');
    expect(states.get(resources[1]!.id)).toEqual({
      state: 'failed',
      reason:
        'the instance stopped again while starting: Client.InternalError: Client error on launch',
    });
    expect(ec2.commandCalls(DescribeInstancesCommand).at(-1)!.args[0].input).toEqual({
      InstanceIds: ['i-1', 'i-2'],
    });
  });
});

describe('aws selectors in the config', () => {
  it.each([
    ['{ provider: aws, regions: [eu-west-3], tags: { env: dev } }', undefined],
    [
      '{ provider: aws, regions: [mars-1], tags: { env: dev } }',
      'write an AWS region code such as eu-west-3',
    ],
    ['{ provider: aws, regions: [eu-west-3] }', '"tags" is missing'],
    ['{ provider: aws, regions: [eu-west-3], tags: {} }', 'give at least one tag'],
    [
      '{ provider: aws, regions: [eu-west-3], kinds: [lambda], tags: { env: dev } }',
      'AWS kinds are ec2, asg, rds, aurora, ecs, stack',
    ],
  ])('%s', (select, error) => {
    const result = parseConfig(`environments:\n  dev:\n    select: ${select}\n`, 'x.yaml');
    if (error === undefined) expect(result.ok).toBe(true);
    else
      expect(result.ok ? '' : result.diagnostics.map((d) => d.message).join('\n')).toContain(error);
  });
});

describe('last-action tags', () => {
  it('tag the instances of a selector that asks for them, 100 ids a call, and only those', async () => {
    ec2.on(DescribeInstancesCommand).resolves(reservations(...ids(150).map((id) => instance(id))));
    ec2.on(CreateTagsCommand).resolves({});
    const provider = new AwsProvider();
    const tagged = await provider.discover(selector({ lastActionTags: true, alarms: false }));
    const notes = await provider.settled(tagged, 'off', {
      id: 'run-1',
      direction: 'stop',
      at: Date.parse('2026-11-25T18:00:00Z'),
    });
    expect(notes).toEqual([]);
    const calls = ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Resources?.length)).toEqual([100, 50]);
    expect(calls[0]?.Tags).toEqual([
      { Key: 'lightsout:last-action', Value: 'stop 2026-11-25T18:00:00.000Z run run-1' },
    ]);
    ec2.resetHistory();
    const plain = await provider.discover(selector({ alarms: false }));
    await provider.settled(plain, 'off', { id: 'run-2', direction: 'stop', at: 0 });
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });
});

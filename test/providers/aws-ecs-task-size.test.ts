/**
 * An ECS task's size from its task definition and where a service's tasks run,
 * as the Amazon ECS API Reference describes them (see ecs-task-size.ts): pure
 * functions over DescribeTaskDefinition's and DescribeServices' answers.
 */
import { describe, expect, it } from 'vitest';
import { capacityOf, taskSizeOf } from '../../src/providers/aws/ecs-task-size.js';

describe('the size of a task', () => {
  it('takes the task-level size: CPU units over 1,024 and MiB over 1,024', () => {
    expect(taskSizeOf({ cpu: '256', memory: '512', containerDefinitions: [] })).toMatchObject({
      vcpu: 0.25,
      memoryGb: 0.5,
    });
  });

  it('sums the containers for a part the task does not give, memoryReservation before memory', () => {
    const size = taskSizeOf({
      memory: '3072',
      containerDefinitions: [
        { name: 'app', cpu: 1024, memory: 2048, memoryReservation: 1024 },
        { name: 'proxy', cpu: 512, memory: 512 },
      ],
    });
    expect(size).toMatchObject({ vcpu: 1.5, memoryGb: 3 });
    expect(
      taskSizeOf({
        containerDefinitions: [
          { name: 'app', cpu: 1024, memory: 2048, memoryReservation: 1024 },
          { name: 'proxy', memory: 512 },
        ],
      }),
    ).toMatchObject({ vcpu: 1, memoryGb: 1.5 });
  });

  it('leaves unknown what neither the task nor every container says', () => {
    // A container reserving no memory: the sum would be a guess.
    expect(
      taskSizeOf({ containerDefinitions: [{ name: 'app', cpu: 256, memory: 512 }, { name: 'x' }] })
        .memoryGb,
    ).toBeUndefined();
    // No container reserves CPU.
    expect(
      taskSizeOf({ containerDefinitions: [{ name: 'app', memory: 512 }] }).vcpu,
    ).toBeUndefined();
    // A task-level value that is not a whole number of units falls back to the containers.
    expect(taskSizeOf({ cpu: 'lots', containerDefinitions: [] }).vcpu).toBeUndefined();
    expect(taskSizeOf({})).toEqual({
      vcpu: undefined,
      memoryGb: undefined,
      cpuArchitecture: undefined,
      os: undefined,
    });
  });

  it('keeps the runtime platform as the definition states it, and nothing when it states none', () => {
    expect(
      taskSizeOf({
        cpu: '1024',
        memory: '2048',
        runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      }),
    ).toEqual({ vcpu: 1, memoryGb: 2, cpuArchitecture: 'ARM64', os: 'LINUX' });
  });
});

describe('where a service’s tasks run', () => {
  it('is its launch type, else the providers of its strategy (sorted, once each), else unknown', () => {
    expect(capacityOf({ launchType: 'EC2' })).toEqual(['EC2']);
    expect(
      capacityOf({
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE_SPOT', weight: 4 },
          { capacityProvider: 'FARGATE', base: 1, weight: 1 },
        ],
      }),
    ).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect(capacityOf({ capacityProviderStrategy: [] })).toBeUndefined();
    expect(capacityOf({})).toBeUndefined();
  });
});

/**
 * The size of an ECS service's tasks, read from their task definitions, and where
 * the tasks run, read from the service: what savings price an ECS service by.
 *
 * AWS semantics (Amazon ECS API Reference):
 * - DescribeTaskDefinition takes one task definition (family, family:revision or
 *   ARN) a call; an INACTIVE revision can still be described "while an active task
 *   or service references them"
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html).
 * - A task definition's `cpu` (CPU units, 1,024 to a vCPU) and `memory` (MiB) are
 *   strings; "1 vCPU" or "1 GB" given at registration are converted to units and
 *   MiB then. Both are required for Fargate and optional for the EC2 and external
 *   launch types, so a task may have no task-level size at all
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html).
 * - Surprising: without a task-level size, the task's size is its containers'
 *   reservations. A container's `memoryReservation`, when set, "is subtracted from
 *   the available memory resources for the container instance", otherwise its
 *   `memory`; its `cpu` units are optional
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
 *   So a part missing at task level is the sum over the containers, and unknown
 *   when a container reserves no memory or none reserves CPU.
 * - A service runs on its `launchType` or, when it has none, on its
 *   `capacityProviderStrategy` (the two exclude each other); FARGATE and
 *   FARGATE_SPOT are the Fargate capacity providers, any other name is an Auto
 *   Scaling group's (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html,
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_definition_parameters.html).
 * - `runtimePlatform` says the CPU architecture (X86_64, ARM64) and the operating
 *   system family; both optional, with no default the reference states, so an
 *   absent one is recorded as absent
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html).
 */
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { ContainerDefinition, ECSClient, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { ResourceSize } from '../../core/glossary.js';

/** What a task definition says of one task's size and platform; a part it does not say is undefined. */
export type TaskSize = Pick<ResourceSize, 'vcpu' | 'memoryGb' | 'cpuArchitecture' | 'os'>;

const UNITS_PER_VCPU = 1024;
const MIB_PER_GB = 1024;

/** Every part of a task's size unknown: written out so the inventory forgets a size it knew. */
export const UNKNOWN_TASK_SIZE: TaskSize = {
  vcpu: undefined,
  memoryGb: undefined,
  cpuArchitecture: undefined,
  os: undefined,
};

/**
 * Reads each distinct task definition once (many services share one), one call
 * after another, through the client's own retries (adaptive, see clients.ts), and
 * keeps what it read in `known`. A revision never changes once registered ("to
 * update a task definition, create a task definition revision",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/update-task-definition-console-v2.html),
 * so a definition named by its full ARN with a revision is read once for good; one
 * named otherwise (a family alone means its latest revision) is read again each
 * time. A definition that cannot be read, even after those retries, is absent
 * from the result: its services' task size is unknown, never guessed, and the
 * savings report lists them as unpriced.
 */
export async function readTaskSizes(
  client: ECSClient,
  taskDefinitions: Iterable<string>,
  known: Map<string, TaskSize> = new Map(),
): Promise<Map<string, TaskSize>> {
  const sizes = new Map<string, TaskSize>();
  for (const name of new Set(taskDefinitions)) {
    const kept = known.get(name);
    if (kept !== undefined) {
      sizes.set(name, kept);
      continue;
    }
    try {
      const { taskDefinition } = await client.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: name }),
      );
      if (taskDefinition === undefined) continue;
      const size = taskSizeOf(taskDefinition);
      sizes.set(name, size);
      if (REVISION_ARN.test(name)) known.set(name, size);
    } catch {
      // Unknown it stays: a discovery does not fail for want of a price.
    }
  }
  return sizes;
}

/** arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION */
const REVISION_ARN = /^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition\/[^:/]+:\d+$/;

/** One task's vCPUs and GB of memory: task-level when given, else its containers' reservations. */
export function taskSizeOf(definition: TaskDefinition): TaskSize {
  const containers = definition.containerDefinitions ?? [];
  const units = parsedAmount(definition.cpu) ?? containerCpu(containers);
  const mib = parsedAmount(definition.memory) ?? containerMemory(containers);
  const platform = definition.runtimePlatform;
  return {
    vcpu: units === undefined ? undefined : units / UNITS_PER_VCPU,
    memoryGb: mib === undefined ? undefined : mib / MIB_PER_GB,
    cpuArchitecture: platform?.cpuArchitecture,
    os: platform?.operatingSystemFamily,
  };
}

/**
 * Where a service's tasks run: its launch type, else the capacity providers of its
 * strategy; undefined when it shows neither (the cluster's default strategy
 * applies, which the service does not tell).
 */
export function capacityOf(service: Service): readonly string[] | undefined {
  if (service.launchType !== undefined) return [service.launchType];
  const providers = (service.capacityProviderStrategy ?? []).flatMap((s) =>
    s.capacityProvider === undefined ? [] : [s.capacityProvider],
  );
  return providers.length === 0 ? undefined : [...new Set(providers)].sort();
}

/** A positive whole number in a string (as DescribeTaskDefinition returns them), else undefined. */
function parsedAmount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text);
  return value > 0 ? value : undefined;
}

function containerCpu(containers: readonly ContainerDefinition[]): number | undefined {
  const units = containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
  return units > 0 ? units : undefined;
}

function containerMemory(containers: readonly ContainerDefinition[]): number | undefined {
  if (containers.length === 0) return undefined;
  let mib = 0;
  for (const c of containers) {
    const reserved = c.memoryReservation ?? c.memory;
    if (reserved === undefined) return undefined;
    mib += reserved;
  }
  return mib;
}

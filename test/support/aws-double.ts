/**
 * A stateful double of the AWS APIs lightsout calls: EC2 instances, Auto Scaling
 * groups (whose instances come and go as capacity changes), RDS DB instances and
 * Aurora clusters, ECS services with their Application Auto Scaling targets, and
 * CloudWatch metric alarms. It is installed with `aws-sdk-client-mock` on the SDK
 * clients' `send`, so the real `AwsProvider` and its kinds run unchanged against it.
 *
 * What it does like AWS:
 * - filters (`tag:KEY`, `instance-id`, `instance-state-name`, `db-instance-id`,
 *   `db-cluster-id`...), unknown filters refused;
 * - pagination with each API's token (NextToken, Marker, nextToken) and its
 *   documented default and maximum page sizes; a listing is taken once, at its
 *   first page, so paging through 10,000 instances costs one scan, not one per page;
 * - AWS's documented limits on a call's size (`documentedLimitError`: 1,000 ids per
 *   StartInstances/StopInstances and DescribeInstances, 10 services per
 *   DescribeServices, 100 alarm names, each API's page-size bounds), refused with
 *   the error AWS answers;
 * - the errors AWS returns for a resource in the wrong state (IncorrectInstanceState,
 *   InvalidDBInstanceStateFault, InvalidDBClusterStateFault...) or that does not exist;
 * - changes that take time: a change is reported in progress by the next
 *   `settleAfter` describes of that resource (default 1), and done at the one after
 *   (stop → `stopping`, then `stopped`). Deterministic, and independent of any clock.
 *
 * - optionally (`throttleLikeAws`), AWS's token buckets on the test's clock:
 *   RequestLimitExceeded (EC2) or ThrottlingException (RDS) for a burst that
 *   ignores them (ThrottlingModel, at the end of this file).
 *
 * For tests: every call is counted and logged (`calls`, `inputs`, `changes`), a
 * command can be intercepted (fail before or after applying, or run a callback),
 * and the world can be changed "by hand" or "by AWS" without an API call.
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
  SuspendedState,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type {
  AutoScalingGroup,
  CreateOrUpdateTagsCommandInput,
  DeleteTagsCommandInput,
  DescribeAutoScalingGroupsCommandInput,
  ResumeProcessesCommandInput,
  SuspendProcessesCommandInput,
  UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
} from '@aws-sdk/client-cloudwatch';
import type { DescribeAlarmsCommandInput, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type {
  CreateTagsCommandInput,
  DescribeInstancesCommandInput,
  Filter as Ec2Filter,
  Instance,
  InstanceStateChange,
  InstanceStateName,
  StartInstancesCommandInput,
  StopInstancesCommandInput,
} from '@aws-sdk/client-ec2';
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
  ContainerDefinition,
  CPUArchitecture,
  DescribeServicesCommandInput,
  DescribeTaskDefinitionCommandInput,
  LaunchType,
  ListClustersCommandInput,
  ListServicesCommandInput,
  OSFamily,
  Service,
  TagResourceCommandInput,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import {
  AddTagsToResourceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  StartDBClusterCommand,
  StartDBInstanceCommand,
  StopDBClusterCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import type {
  AddTagsToResourceCommandInput,
  DBCluster,
  DBInstance,
  DescribeDBClustersCommandInput,
  DescribeDBInstancesCommandInput,
  Filter as RdsFilter,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';

// ---------------------------------------------------------------------------
// Shared machinery: errors, progress, pages, the call log
// ---------------------------------------------------------------------------

/** An error shaped like the SDK's service exceptions (name = AWS error code). */
export function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** A dropped connection, as the SDK reports one: retryable, and says nothing of what AWS did. */
export function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/**
 * A change in progress: reported as such by the next `left` describes of its
 * resource, then done (the describe after that sees the final state).
 */
interface Progress {
  left: number;
  /** With `settleMs`: the change is done at this instant of the clock, however often it is described. */
  readonly doneAt?: number;
  readonly clock?: () => number;
}

/** Counts one describe of a resource with a change in progress; true once the change is done. */
function seen(progress: Progress | undefined): boolean {
  if (progress === undefined) return false;
  if (progress.doneAt !== undefined && progress.clock !== undefined)
    return progress.clock() >= progress.doneAt;
  if (progress.left > 0) {
    progress.left -= 1;
    return false;
  }
  return true;
}

/**
 * Pages of a listing. The first page takes the listing (a list of keys) and keeps
 * it under a token; later pages read the kept list, so a listing costs one scan.
 */
class Pages {
  private readonly open = new Map<string, readonly string[]>();
  private issued = 0;

  constructor(private readonly prefix: string) {}

  page(
    token: string | undefined,
    size: number,
    list: () => readonly string[],
    invalid: (token: string) => Error,
  ): { keys: readonly string[]; next?: string } {
    let keys: readonly string[] | undefined;
    let listing: string;
    let offset = 0;
    if (token === undefined) {
      keys = list();
      listing = `${this.prefix}${++this.issued}`;
    } else {
      const [id = '', at = ''] = token.split('.');
      keys = this.open.get(id);
      offset = Number(at);
      listing = id;
      if (keys === undefined || !Number.isInteger(offset)) throw invalid(token);
    }
    const end = offset + size;
    if (end >= keys.length) {
      this.open.delete(listing);
      return { keys: keys.slice(offset) };
    }
    this.open.set(listing, keys);
    return { keys: keys.slice(offset, end), next: `${listing}.${end}` };
  }

  clear(): void {
    this.open.clear();
  }
}

/** A page size: the caller's, checked against the API's bounds, or the API's default. */
function pageSize(
  asked: number | undefined,
  bounds: { min: number; max: number; fallback: number },
  invalid: (message: string) => Error,
): number {
  if (asked === undefined) return bounds.fallback;
  if (!Number.isInteger(asked) || asked < bounds.min || asked > bounds.max)
    throw invalid(`page size ${asked} is not between ${bounds.min} and ${bounds.max}`);
  return asked;
}

/** One call the double answered (or refused), in order. */
export interface Call {
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** The injected clock's time of the call, when a clock was given. */
  readonly at?: number;
  /** The error name, when the call failed. */
  readonly error?: string;
}

/**
 * Runs instead of a command: `apply` performs what AWS would do and returns its
 * answer. Throw before `apply` for a request that never reached AWS; after it, for
 * one that AWS carried out but whose answer was lost.
 */
export type Interceptor = (input: Record<string, unknown>, apply: () => unknown) => unknown;

type Handler = (input: Record<string, unknown>) => unknown;

interface CommandSpec {
  readonly name: string;
  readonly command: abstract new (...args: never[]) => unknown;
  readonly handle: Handler;
  /** A line for `changes()`; only for commands that change something. */
  readonly describe?: (input: Record<string, unknown>) => string;
}

/** A typed command spec: the handler sees the SDK's input type. */
function spec<I extends object>(
  name: string,
  command: abstract new (input: I) => unknown,
  handle: (input: I) => unknown,
  describe?: (input: I) => string,
): CommandSpec {
  return {
    name,
    command,
    handle: handle as Handler,
    ...(describe === undefined
      ? {}
      : { describe: describe as (input: Record<string, unknown>) => string }),
  };
}

/** The page-size field of each listing the double answers. */
const PAGE_SIZE_FIELDS: Readonly<Record<string, string>> = {
  DescribeInstances: 'MaxResults',
  DescribeAlarms: 'MaxRecords',
  DescribeAutoScalingGroups: 'MaxRecords',
  DescribeDBInstances: 'MaxRecords',
  DescribeDBClusters: 'MaxRecords',
  ListClusters: 'maxResults',
  ListServices: 'maxResults',
  DescribeScalableTargets: 'MaxResults',
};

function countOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function outside(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && (!Number.isInteger(value) || value < min || value > max);
}

/**
 * AWS's documented limits on one call's size, checked before the call is answered
 * (and apart from any throttling of the request rate): the error AWS answers an
 * oversized call with, or undefined. Each limit cites its page.
 */
export function documentedLimitError(
  command: string,
  input: Readonly<Record<string, unknown>>,
): Error | undefined {
  const refuse = (code: string, message: string) => awsError(code, message);
  switch (command) {
    case 'StartInstances':
    case 'StopInstances':
      // Each instance takes a token from the action's resource bucket, which holds
      // 1,000 (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
      // a call for more can never be served, and EC2 answers throttling so.
      if (countOf(input.InstanceIds) > 1000)
        return refuse(
          'RequestLimitExceeded',
          `Request limit exceeded: ${countOf(input.InstanceIds)} instances exceed the ${command} resource bucket of 1000.`,
        );
      return undefined;
    case 'DescribeInstances':
      // "you should not specify more than 1,000 IDs in a single call"
      // (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html);
      // MaxResults 5-1000, not with InstanceIds
      // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
      if (countOf(input.InstanceIds) > 1000)
        return refuse('InvalidParameterValue', 'At most 1000 instance IDs per call.');
      if (input.MaxResults !== undefined && input.InstanceIds !== undefined)
        return refuse(
          'InvalidParameterCombination',
          'The parameter instancesSet cannot be used with the parameter maxResults',
        );
      if (outside(input.MaxResults, 5, 1000))
        return refuse('InvalidParameterValue', 'MaxResults must be between 5 and 1000.');
      return undefined;
    case 'DescribeAlarms':
      // MaxRecords 1-100, AlarmNames at most 100
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
      if (outside(input.MaxRecords, 1, 100))
        return refuse('InvalidParameterValue', 'MaxRecords must be between 1 and 100.');
      if (countOf(input.AlarmNames) > 100)
        return refuse('InvalidParameterValue', 'At most 100 alarm names per call.');
      return undefined;
    case 'DisableAlarmActions':
    case 'EnableAlarmActions':
      // AlarmNames: "Maximum number of 100 items"
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html).
      if (countOf(input.AlarmNames) > 100)
        return refuse('InvalidParameterValue', 'At most 100 alarm names per call.');
      return undefined;
    case 'DescribeDBInstances':
    case 'DescribeDBClusters':
      // MaxRecords: "Minimum 20, maximum 100"
      // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html).
      if (outside(input.MaxRecords, 20, 100))
        return refuse('InvalidParameterValue', 'MaxRecords must be between 20 and 100.');
      return undefined;
    case 'DescribeServices':
      // services: "up to 10 services"
      // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html).
      if (countOf(input.services) > 10)
        return refuse(
          'InvalidParameterException',
          'DescribeServices takes at most 10 services per call.',
        );
      return undefined;
    case 'ListServices':
    case 'ListClusters':
      // maxResults 1-100 (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html).
      if (outside(input.maxResults, 1, 100))
        return refuse('InvalidParameterException', 'maxResults must be between 1 and 100.');
      return undefined;
    case 'DescribeAutoScalingGroups':
      // MaxRecords at most 100; up to 50 group names by default
      // (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html).
      if (outside(input.MaxRecords, 1, 100))
        return refuse('ValidationError', 'MaxRecords must be between 1 and 100.');
      if (countOf(input.AutoScalingGroupNames) > 50)
        return refuse('ValidationError', 'At most 50 Auto Scaling group names per call.');
      return undefined;
    case 'DescribeScalableTargets':
      // MaxResults 1-50
      // (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalableTargets.html).
      if (outside(input.MaxResults, 1, 50))
        return refuse('ValidationException', 'MaxResults must be between 1 and 50.');
      return undefined;
    default:
      return undefined;
  }
}

type Tags = Record<string, string>;

const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function matchesTags(tags: Tags, filters: readonly { key: string; values: readonly string[] }[]) {
  return filters.every((f) => f.values.includes(tags[f.key] ?? '\u0000'));
}

export interface AwsDoubleOptions {
  readonly region?: string;
  readonly account?: string;
  /** Describes of a resource that see a change in progress before it is done (default 1). */
  readonly settleAfter?: number;
  /** A clock for the `at` of logged calls (the engine's virtual clock, say). */
  readonly now?: () => number;
  /**
   * With `now`: a change takes this long on that clock (an EC2 stop, say 40 s),
   * instead of `settleAfter` describes: for tests of when verification polls.
   */
  readonly settleMs?: number;
}

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

export interface Ec2InstanceState {
  readonly id: string;
  state: InstanceStateName;
  readonly tags: Tags;
  readonly rootDeviceType: 'ebs' | 'instance-store';
  readonly spot: boolean;
  readonly hibernationConfigured: boolean;
  /** InstanceType, as DescribeInstances reports it (default t3.micro). */
  readonly instanceType: string;
  /** The state a change in progress ends in. */
  next?: InstanceStateName;
  progress?: Progress;
}

export interface GroupState {
  readonly name: string;
  readonly arn: string;
  min: number;
  max: number;
  desired: number;
  readonly tags: Map<string, { value: string; propagate: boolean }>;
  /** Instance ids and their lifecycle state (Pending, InService, Terminating). */
  readonly instances: Map<string, 'Pending' | 'InService' | 'Terminating'>;
  /** Suspended processes (SuspendProcesses), e.g. ScheduledActions. */
  readonly suspended: Set<string>;
  /** The type its instances launch as (default t3.micro). */
  readonly instanceType: string;
  /** The instance types of a mixed instances policy's overrides, if it has one. */
  readonly overrides?: readonly string[];
  progress?: Progress;
}

/** Every process SuspendProcesses and ResumeProcesses take (their API references). */
const SCALING_PROCESSES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions',
];

export interface DatabaseState {
  readonly name: string;
  readonly arn: string;
  status: string;
  readonly engine: string;
  readonly tags: Tags;
  readonly cluster?: string;
  /** DBInstanceClass (default db.t3.micro; a cluster's members db.r6g.large). */
  readonly instanceClass: string;
  readonly multiAz?: boolean;
  next?: string;
  progress?: Progress;
}

export interface ClusterState {
  readonly name: string;
  readonly arn: string;
  status: string;
  readonly engine: string;
  /** StorageType, reported when given (`aurora`, `aurora-iopt1`). */
  readonly storageType?: string;
  readonly tags: Tags;
  readonly members: string[];
  next?: string;
  progress?: Progress;
}

export interface ServiceState {
  readonly cluster: string;
  readonly name: string;
  readonly arn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desired: number;
  running: number;
  readonly tags: Tags;
  progress?: Progress;
  /** The ARN of the task definition revision its tasks run. */
  taskDefinition?: string;
  /** Its launch type, or the capacity providers of its strategy (never both, as in ECS). */
  launchType?: LaunchType;
  capacityProviders?: readonly string[];
}

/** A registered task definition revision, as DescribeTaskDefinition returns it. */
export interface TaskDefinitionState {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly cpu?: string;
  readonly memory?: string;
  readonly containers: readonly ContainerDefinition[];
  readonly cpuArchitecture?: CPUArchitecture;
  readonly os?: OSFamily;
}

export interface TargetState {
  readonly resourceId: string;
  min: number;
  max: number;
  suspended: Required<SuspendedState>;
}

export interface AlarmState {
  readonly name: string;
  actionsEnabled: boolean;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { Name: string; Value: string }[];
}

const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const NOT_SUSPENDED: Required<SuspendedState> = {
  DynamicScalingInSuspended: false,
  DynamicScalingOutSuspended: false,
  ScheduledScalingSuspended: false,
};

export class AwsDouble {
  readonly region: string;
  readonly account: string;
  private readonly settleAfter: number;
  private readonly settleMs: number | undefined;
  private readonly now: (() => number) | undefined;

  readonly instances = new Map<string, Ec2InstanceState>();
  readonly groups = new Map<string, GroupState>();
  readonly databases = new Map<string, DatabaseState>();
  readonly clusters = new Map<string, ClusterState>();
  /** ECS services by `CLUSTER/SERVICE`, and the clusters (even empty ones) by name. */
  readonly services = new Map<string, ServiceState>();
  readonly ecsClusters = new Set<string>();
  /** Task definition revisions by ARN. */
  readonly taskDefinitions = new Map<string, TaskDefinitionState>();
  readonly targets = new Map<string, TargetState>();
  readonly alarms = new Map<string, AlarmState>();

  private readonly log: Call[] = [];
  private readonly counts = new Map<string, number>();
  private readonly interceptors = new Map<string, { fn: Interceptor; left: number }[]>();
  private readonly pages = new Pages('p');
  private readonly specs = new Map<string, CommandSpec>();
  private mocks: { restore(): void }[] = [];
  private launched = 0;
  /** Each command's service, for the throttling model. */
  private readonly serviceOf = new Map<string, string>();
  private throttling: ThrottlingModel | undefined;

  constructor(options: AwsDoubleOptions = {}) {
    this.region = options.region ?? 'eu-west-3';
    this.account = options.account ?? '123456789012';
    this.settleAfter = options.settleAfter ?? 1;
    this.settleMs = options.settleMs;
    this.now = options.now;
  }

  // -------------------------------------------------------------------------
  // Installing, resetting, the call log, interceptors
  // -------------------------------------------------------------------------

  /** Replaces `send` of every client class this double answers for. */
  install(): this {
    this.restore();
    const clients: [object, CommandSpec[], string][] = [
      [EC2Client, this.ec2Commands(), 'ec2'],
      [AutoScalingClient, this.autoScalingCommands(), 'autoscaling'],
      [RDSClient, this.rdsCommands(), 'rds'],
      [ECSClient, this.ecsCommands(), 'ecs'],
      [
        ApplicationAutoScalingClient,
        this.applicationAutoScalingCommands(),
        'application-autoscaling',
      ],
      [CloudWatchClient, this.cloudWatchCommands(), 'cloudwatch'],
    ];
    for (const [client, specs, service] of clients) {
      for (const s of specs) this.serviceOf.set(s.name, service);
      const mock = mockClient(client as typeof EC2Client);
      mock.onAnyCommand().callsFake((input: object) => {
        throw new Error(
          `the AWS double does not implement this command (input ${JSON.stringify(input)})`,
        );
      });
      for (const s of specs) {
        this.specs.set(s.name, s);
        mock
          .on(s.command as typeof DescribeInstancesCommand)
          .callsFake((input: Record<string, unknown>) => this.dispatch(s, input));
      }
      this.mocks.push(mock);
    }
    return this;
  }

  /** Empties the world, the call log and the interceptors; stays installed. */
  reset(): void {
    for (const map of [
      this.instances,
      this.groups,
      this.databases,
      this.clusters,
      this.services,
      this.taskDefinitions,
      this.targets,
      this.alarms,
    ])
      map.clear();
    this.ecsClusters.clear();
    this.interceptors.clear();
    this.pages.clear();
    this.clearCalls();
  }

  /** Gives the SDK clients their real `send` back. */
  restore(): void {
    for (const mock of this.mocks) mock.restore();
    this.mocks = [];
  }

  /** How many times a command was called (`calls('StopInstances')`), failed calls included. */
  calls(command: string): number {
    return this.counts.get(command) ?? 0;
  }

  /** Calls per command (`{ StopInstances: 3, DescribeInstances: 8 }`), failed calls included. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Every call, all commands together. */
  totalCalls(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Listing calls that left the page size to the server's default (no
   * MaxResults/MaxRecords/maxResults): lightsout sets it on every one, so that a
   * changed default never changes its request count. Calls that name their ids
   * (DescribeInstances by InstanceIds, where MaxResults is not allowed) are exempt.
   */
  unsizedListings(): Call[] {
    return this.log.filter((c) => {
      const field = PAGE_SIZE_FIELDS[c.command];
      if (field === undefined || c.input[field] !== undefined) return false;
      return !(c.command === 'DescribeInstances' && c.input.InstanceIds !== undefined);
    });
  }

  /** The inputs of a command's calls, in order. */
  inputs(command: string): Record<string, unknown>[] {
    return this.log.filter((c) => c.command === command).map((c) => ({ ...c.input }));
  }

  /** Every call, in order. */
  history(): readonly Call[] {
    return this.log;
  }

  /**
   * The calls that change something, one readable line each, in order
   * (`UpdateAutoScalingGroup dev-workers 0/0/0`); a failed one ends with `✗ ErrorName`.
   */
  changes(): string[] {
    return this.log.flatMap((c) => {
      const describe = this.specs.get(c.command)?.describe;
      if (describe === undefined) return [];
      const line = describe(c.input);
      return [c.error === undefined ? line : `${line} ✗ ${c.error}`];
    });
  }

  clearCalls(): void {
    this.log.length = 0;
    this.counts.clear();
  }

  /**
   * From now on, answers like AWS's token buckets on the test's clock: a call that
   * finds its EC2 request or resource bucket empty fails with RequestLimitExceeded,
   * an RDS call with ThrottlingException, changing nothing (see ThrottlingModel).
   */
  throttleLikeAws(now: () => number): ThrottlingModel {
    this.throttling = new ThrottlingModel(now);
    return this.throttling;
  }

  /** Runs `fn` instead of the next `times` calls of `command` (every call by default). */
  intercept(command: string, fn: Interceptor, times = Number.POSITIVE_INFINITY): void {
    const list = this.interceptors.get(command) ?? [];
    list.push({ fn, left: times });
    this.interceptors.set(command, list);
  }

  /** The next `times` calls of `command` fail with `error`, changing nothing. */
  fail(command: string, error: Error, times = 1): void {
    this.intercept(
      command,
      () => {
        throw error;
      },
      times,
    );
  }

  private async dispatch(s: CommandSpec, raw: Record<string, unknown>): Promise<unknown> {
    // The SDK's paginators reuse one input object for every page: keep a copy.
    const input = { ...raw };
    this.counts.set(s.name, this.calls(s.name) + 1);
    const at = this.now?.();
    const apply = () => {
      const oversized = documentedLimitError(s.name, input);
      if (oversized !== undefined) throw oversized;
      return s.handle(input);
    };
    const interceptor = this.interceptors.get(s.name)?.find((i) => i.left > 0);
    try {
      let output: unknown;
      const refusal = this.throttling?.refuse(this.serviceOf.get(s.name) ?? '', s.name, input);
      if (refusal !== undefined) throw refusal;
      if (interceptor === undefined) output = apply();
      else {
        interceptor.left -= 1;
        output = await interceptor.fn(input, apply);
      }
      this.log.push({ command: s.name, input, ...(at === undefined ? {} : { at }) });
      return output;
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const code = (error as { code?: string }).code;
      this.log.push({
        command: s.name,
        input,
        ...(at === undefined ? {} : { at }),
        error: name === 'Error' && code !== undefined ? code : name,
      });
      throw error;
    }
  }

  // -------------------------------------------------------------------------
  // EC2
  // -------------------------------------------------------------------------

  /** Adds an instance (running by default); its id is generated unless given. */
  addInstance(spec: {
    id?: string;
    name?: string;
    tags?: Tags;
    state?: InstanceStateName;
    rootDeviceType?: 'ebs' | 'instance-store';
    spot?: boolean;
    hibernationConfigured?: boolean;
    instanceType?: string;
  }): Ec2InstanceState {
    const id = spec.id ?? this.nextInstanceId();
    const instance: Ec2InstanceState = {
      id,
      state: spec.state ?? 'running',
      tags: { ...(spec.name === undefined ? {} : { Name: spec.name }), ...spec.tags },
      rootDeviceType: spec.rootDeviceType ?? 'ebs',
      spot: spec.spot ?? false,
      hibernationConfigured: spec.hibernationConfigured ?? false,
      instanceType: spec.instanceType ?? 't3.micro',
    };
    this.instances.set(id, instance);
    return instance;
  }

  /** Adds `count` running instances named `${prefix}-N` with these tags; returns their ids. */
  seedInstances(count: number, tags: Tags, prefix = 'node'): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(this.addInstance({ name: `${prefix}-${i}`, tags }).id);
    return ids;
  }

  /** An instance by id, or by its Name tag. */
  instance(idOrName: string): Ec2InstanceState {
    const found =
      this.instances.get(idOrName) ??
      [...this.instances.values()].find((i) => i.tags.Name === idOrName);
    if (found === undefined) throw new Error(`the double has no EC2 instance ${idOrName}`);
    return found;
  }

  /** A person (or anything but lightsout) sets an instance's state, settled at once. */
  setInstanceState(idOrName: string, state: InstanceStateName): void {
    const instance = this.instance(idOrName);
    instance.state = state;
    delete instance.next;
    delete instance.progress;
  }

  /** A change starting now: done after `settleAfter` describes, or `settleMs` of the clock. */
  private progress(): Progress {
    const clock = this.now;
    return this.settleMs === undefined || clock === undefined
      ? { left: this.settleAfter }
      : { left: 0, doneAt: clock() + this.settleMs, clock };
  }

  private nextInstanceId(): string {
    this.launched += 1;
    return `i-${this.launched.toString(16).padStart(17, '0')}`;
  }

  private ec2Commands(): CommandSpec[] {
    return [
      spec('DescribeInstances', DescribeInstancesCommand, (input: DescribeInstancesCommandInput) =>
        this.describeInstances(input),
      ),
      spec(
        'StartInstances',
        StartInstancesCommand,
        (input: StartInstancesCommandInput) => ({
          StartingInstances: this.changeInstances(input.InstanceIds ?? [], 'on', false),
        }),
        (input) => `StartInstances ${this.instanceNames(input.InstanceIds)}`,
      ),
      spec(
        'StopInstances',
        StopInstancesCommand,
        (input: StopInstancesCommandInput) => ({
          StoppingInstances: this.changeInstances(
            input.InstanceIds ?? [],
            'off',
            input.Hibernate === true,
          ),
        }),
        (input) =>
          `StopInstances ${this.instanceNames(input.InstanceIds)}${input.Hibernate === true ? ' (hibernate)' : ''}`,
      ),
      spec(
        'CreateTags',
        CreateTagsCommand,
        (input: CreateTagsCommandInput) => {
          const instances = this.knownInstances(input.Resources ?? []);
          for (const i of instances)
            for (const t of input.Tags ?? []) i.tags[t.Key ?? ''] = t.Value ?? '';
          return {};
        },
        (input) =>
          `CreateTags ${this.instanceNames(input.Resources)} ${(input.Tags ?? []).map((t) => `${t.Key ?? ''}=${t.Value ?? ''}`).join(',')}`,
      ),
    ];
  }

  private instanceNames(ids: readonly string[] | undefined): string {
    return (ids ?? []).map((id) => this.instances.get(id)?.tags.Name ?? id).join(',');
  }

  private describeInstances(input: DescribeInstancesCommandInput) {
    const invalid = (message: string) => awsError('InvalidParameterValue', message);
    const size = pageSize(input.MaxResults, { min: 5, max: 1000, fallback: 1000 }, invalid);
    const { keys, next } = this.pages.page(
      input.NextToken,
      size,
      () => this.matchingInstances(input),
      (token) => invalid(`Invalid NextToken ${token}`),
    );
    const instances = keys.flatMap((id) => {
      const i = this.instances.get(id);
      if (i === undefined) return [];
      this.advanceInstance(i);
      return [this.instanceOutput(i)];
    });
    return {
      Reservations: instances.map((i) => ({
        ReservationId: `r-${(i.InstanceId ?? '').slice(2)}`,
        OwnerId: this.account,
        Instances: [i],
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  /** Ids matching the input's InstanceIds and filters; an id filter is looked up, not scanned. */
  private matchingInstances(input: DescribeInstancesCommandInput): string[] {
    const filters = input.Filters ?? [];
    const idValues = [
      ...(input.InstanceIds === undefined ? [] : [input.InstanceIds]),
      ...filters.filter((f) => f.Name === 'instance-id').map((f) => f.Values ?? []),
    ];
    if (input.InstanceIds !== undefined) this.knownInstances(input.InstanceIds);
    const candidates =
      idValues.length === 0
        ? this.instances.keys()
        : idValues
            .reduce((a, b) => a.filter((id) => b.includes(id)))
            .filter((id) => this.instances.has(id));
    const predicate = this.instanceFilter(filters);
    return [...candidates].filter((id) => predicate(this.instances.get(id)!));
  }

  private instanceFilter(filters: readonly Ec2Filter[]): (i: Ec2InstanceState) => boolean {
    const tests = filters.map((f): ((i: Ec2InstanceState) => boolean) => {
      const name = f.Name ?? '';
      const values = f.Values ?? [];
      if (name === 'instance-id') return () => true; // applied when listing candidates
      if (name === 'instance-state-name') return (i) => values.includes(i.state);
      if (name.startsWith('tag:')) {
        const key = name.slice(4);
        return (i) => matchesTags(i.tags, [{ key, values }]);
      }
      throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    });
    return (i) => tests.every((t) => t(i));
  }

  private instanceOutput(i: Ec2InstanceState): Instance {
    return {
      InstanceId: i.id,
      State: { Name: i.state, Code: STATE_CODES[i.state] },
      Tags: tagList(i.tags),
      RootDeviceType: i.rootDeviceType,
      InstanceType: i.instanceType as Instance['InstanceType'],
      ...(i.spot ? { InstanceLifecycle: 'spot' } : {}),
      HibernationOptions: { Configured: i.hibernationConfigured },
      ...(i.state === 'stopped'
        ? {
            StateReason: {
              Code: 'Client.UserInitiatedShutdown',
              Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
            },
          }
        : {}),
    };
  }

  private advanceInstance(i: Ec2InstanceState): void {
    if (i.next !== undefined && seen(i.progress)) {
      i.state = i.next;
      delete i.next;
      delete i.progress;
    }
  }

  /** Every id must exist, or the whole call fails (InvalidInstanceID.NotFound). */
  private knownInstances(ids: readonly string[]): Ec2InstanceState[] {
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length > 0)
      throw awsError(
        'InvalidInstanceID.NotFound',
        `The instance IDs '${missing.join(', ')}' do not exist`,
      );
    return ids.map((id) => this.instances.get(id)!);
  }

  /**
   * StartInstances/StopInstances: checked as a whole first (one bad instance fails
   * the call and changes nothing), then applied.
   */
  private changeInstances(
    ids: readonly string[],
    target: 'on' | 'off',
    hibernate: boolean,
  ): InstanceStateChange[] {
    const instances = this.knownInstances(ids);
    for (const i of instances) this.checkChange(i, target, hibernate);
    return instances.map((i) => {
      const previous = i.state;
      if (target === 'off' && previous === 'running') this.move(i, 'stopping', 'stopped');
      if (target === 'on' && previous === 'stopped') this.move(i, 'pending', 'running');
      return {
        InstanceId: i.id,
        PreviousState: { Name: previous, Code: STATE_CODES[previous] },
        CurrentState: { Name: i.state, Code: STATE_CODES[i.state] },
      };
    });
  }

  private checkChange(i: Ec2InstanceState, target: 'on' | 'off', hibernate: boolean): void {
    if (target === 'off' && i.rootDeviceType === 'instance-store')
      throw awsError(
        'UnsupportedOperation',
        `The instance '${i.id}' does not have an 'ebs' root device type and cannot be stopped.`,
      );
    if (target === 'off' && i.spot)
      throw awsError(
        'UnsupportedOperation',
        `You can't stop the Spot Instance '${i.id}' because it is associated with a one-time Spot Instance request.`,
      );
    if (target === 'off' && hibernate && !i.hibernationConfigured)
      throw awsError(
        'UnsupportedHibernationConfiguration',
        `The instance '${i.id}' does not have hibernation configured.`,
      );
    const refused =
      target === 'off'
        ? ['pending', 'shutting-down', 'terminated']
        : ['stopping', 'shutting-down', 'terminated'];
    if (refused.includes(i.state))
      throw awsError(
        'IncorrectInstanceState',
        `The instance '${i.id}' is not in a state from which it can be ${target === 'off' ? 'stopped' : 'started'}.`,
      );
  }

  private move(i: Ec2InstanceState, now: InstanceStateName, next: InstanceStateName): void {
    i.state = now;
    i.next = next;
    i.progress = this.progress();
  }

  // -------------------------------------------------------------------------
  // Auto Scaling
  // -------------------------------------------------------------------------

  /**
   * Adds a group with `desired` InService instances (each also an EC2 instance
   * tagged aws:autoscaling:groupName, carrying the group's propagated tags).
   */
  addGroup(spec: {
    name: string;
    min: number;
    max: number;
    desired: number;
    tags?: Tags;
    suspended?: readonly string[];
    instanceType?: string;
    overrides?: readonly string[];
  }): GroupState {
    const group: GroupState = {
      name: spec.name,
      arn: `arn:aws:autoscaling:${this.region}:${this.account}:autoScalingGroup:${spec.name}-uuid:autoScalingGroupName/${spec.name}`,
      min: spec.min,
      max: spec.max,
      desired: spec.desired,
      tags: new Map(
        Object.entries(spec.tags ?? {}).map(([k, value]) => [k, { value, propagate: true }]),
      ),
      instances: new Map(),
      suspended: new Set(spec.suspended ?? []),
      instanceType: spec.instanceType ?? 't3.micro',
      ...(spec.overrides === undefined ? {} : { overrides: spec.overrides }),
    };
    this.groups.set(spec.name, group);
    for (let n = 0; n < spec.desired; n++) group.instances.set(this.launch(group), 'InService');
    return group;
  }

  group(name: string): GroupState {
    const found = this.groups.get(name);
    if (found === undefined) throw new Error(`the double has no Auto Scaling group ${name}`);
    return found;
  }

  /** The group's capacity as `min/max/desired`. */
  capacity(name: string): string {
    const g = this.group(name);
    return `${g.min}/${g.max}/${g.desired}`;
  }

  /**
   * A scheduled action of the group comes due "by AWS": it sets the capacity,
   * unless the group's ScheduledActions process is suspended. True if it ran.
   */
  runScheduledAction(
    name: string,
    capacity: { min: number; max: number; desired: number },
  ): boolean {
    const g = this.group(name);
    if (g.suspended.has('ScheduledActions')) return false;
    Object.assign(g, capacity);
    g.progress = this.progress();
    return true;
  }

  private launch(group: GroupState): string {
    const propagated = Object.fromEntries(
      [...group.tags].filter(([, t]) => t.propagate).map(([k, t]) => [k, t.value]),
    );
    return this.addInstance({
      tags: { ...propagated, 'aws:autoscaling:groupName': group.name },
      instanceType: group.instanceType,
    }).id;
  }

  private autoScalingCommands(): CommandSpec[] {
    return [
      spec(
        'DescribeAutoScalingGroups',
        DescribeAutoScalingGroupsCommand,
        (input: DescribeAutoScalingGroupsCommandInput) => this.describeGroups(input),
      ),
      spec(
        'UpdateAutoScalingGroup',
        UpdateAutoScalingGroupCommand,
        (input: UpdateAutoScalingGroupCommandInput) => {
          this.updateGroup(input);
          return {};
        },
        (input) =>
          `UpdateAutoScalingGroup ${input.AutoScalingGroupName ?? ''} ${input.MinSize ?? '-'}/${input.MaxSize ?? '-'}/${input.DesiredCapacity ?? '-'}`,
      ),
      spec(
        'CreateOrUpdateTags',
        CreateOrUpdateTagsCommand,
        (input: CreateOrUpdateTagsCommandInput) => {
          const tags = input.Tags ?? [];
          const groups = tags.map((t) => this.existingGroup(t.ResourceId ?? ''));
          tags.forEach((t, n) =>
            groups[n]!.tags.set(t.Key ?? '', {
              value: t.Value ?? '',
              propagate: t.PropagateAtLaunch === true,
            }),
          );
          return {};
        },
        (input) =>
          `CreateOrUpdateTags ${(input.Tags ?? []).map((t) => `${t.ResourceId ?? ''} ${t.Key ?? ''}=${t.Value ?? ''}`).join('; ')}`,
      ),
      spec(
        'DeleteTags',
        DeleteTagsCommand,
        (input: DeleteTagsCommandInput) => {
          const tags = input.Tags ?? [];
          const groups = tags.map((t) => this.existingGroup(t.ResourceId ?? ''));
          // Deleting a tag the group does not carry changes nothing.
          tags.forEach((t, n) => groups[n]!.tags.delete(t.Key ?? ''));
          return {};
        },
        (input) =>
          `DeleteTags ${(input.Tags ?? []).map((t) => `${t.ResourceId ?? ''} ${t.Key ?? ''}`).join('; ')}`,
      ),
      spec(
        'SuspendProcesses',
        SuspendProcessesCommand,
        (input: SuspendProcessesCommandInput) => {
          const g = this.existingGroup(input.AutoScalingGroupName ?? '');
          for (const p of this.processes(input.ScalingProcesses)) g.suspended.add(p);
          return {};
        },
        (input) =>
          `SuspendProcesses ${input.AutoScalingGroupName ?? ''} ${(input.ScalingProcesses ?? ['(all)']).join(',')}`,
      ),
      spec(
        'ResumeProcesses',
        ResumeProcessesCommand,
        (input: ResumeProcessesCommandInput) => {
          const g = this.existingGroup(input.AutoScalingGroupName ?? '');
          for (const p of this.processes(input.ScalingProcesses)) g.suspended.delete(p);
          return {};
        },
        (input) =>
          `ResumeProcesses ${input.AutoScalingGroupName ?? ''} ${(input.ScalingProcesses ?? ['(all)']).join(',')}`,
      ),
    ];
  }

  /** The processes named, or all of them when none is: "If you omit this property, all processes are specified". */
  private processes(names: readonly string[] | undefined): readonly string[] {
    for (const name of names ?? [])
      if (!SCALING_PROCESSES.includes(name))
        throw awsError('ValidationError', `Invalid processes: ${name}`);
    return names === undefined || names.length === 0 ? SCALING_PROCESSES : names;
  }

  private existingGroup(name: string): GroupState {
    const group = this.groups.get(name);
    if (group === undefined)
      throw awsError('ValidationError', `AutoScalingGroup name not found - ${name}`);
    return group;
  }

  private describeGroups(input: DescribeAutoScalingGroupsCommandInput) {
    const invalid = (message: string) => awsError('ValidationError', message);
    const size = pageSize(input.MaxRecords, { min: 1, max: 100, fallback: 50 }, invalid);
    const { keys, next } = this.pages.page(
      input.NextToken,
      size,
      () => this.matchingGroups(input),
      (token) => awsError('InvalidNextToken', `The token '${token}' is invalid.`),
    );
    return {
      AutoScalingGroups: keys.flatMap((name) => {
        const g = this.groups.get(name);
        if (g === undefined) return [];
        this.advanceGroup(g);
        return [this.groupOutput(g)];
      }),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }

  private matchingGroups(input: DescribeAutoScalingGroupsCommandInput): string[] {
    const names = input.AutoScalingGroupNames ?? [...this.groups.keys()];
    const filters = (input.Filters ?? []).map((f) => {
      const name = f.Name ?? '';
      if (!name.startsWith('tag:'))
        throw awsError('ValidationError', `Filter ${name} is not supported by the AWS double`);
      return { key: name.slice(4), values: f.Values ?? [] };
    });
    return names.filter((n) => {
      const g = this.groups.get(n);
      if (g === undefined) return false;
      const tags = Object.fromEntries([...g.tags].map(([k, t]) => [k, t.value]));
      return matchesTags(tags, filters);
    });
  }

  private groupOutput(g: GroupState): AutoScalingGroup {
    return {
      AutoScalingGroupName: g.name,
      AutoScalingGroupARN: g.arn,
      MinSize: g.min,
      MaxSize: g.max,
      DesiredCapacity: g.desired,
      Instances: [...g.instances].map(([InstanceId, LifecycleState]) => ({
        InstanceId,
        InstanceType: this.instances.get(InstanceId)?.instanceType ?? g.instanceType,
        LifecycleState,
        HealthStatus: 'Healthy',
        AvailabilityZone: `${this.region}a`,
        ProtectedFromScaleIn: false,
      })),
      ...(g.overrides === undefined
        ? {}
        : {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: { LaunchTemplateName: `${g.name}-template` },
                Overrides: g.overrides.map((InstanceType) => ({ InstanceType })),
              },
            },
          }),
      Tags: [...g.tags].map(([Key, t]) => ({
        ResourceId: g.name,
        ResourceType: 'auto-scaling-group',
        Key,
        Value: t.value,
        PropagateAtLaunch: t.propagate,
      })),
      SuspendedProcesses: [...g.suspended].map((ProcessName) => ({
        ProcessName,
        SuspensionReason: 'User suspended at 2026-01-01T00:00:00Z',
      })),
    } as AutoScalingGroup;
  }

  private updateGroup(input: UpdateAutoScalingGroupCommandInput): void {
    const g = this.existingGroup(input.AutoScalingGroupName ?? '');
    const min = input.MinSize ?? g.min;
    const max = input.MaxSize ?? g.max;
    const desired = input.DesiredCapacity ?? Math.min(Math.max(g.desired, min), max);
    if (min > max)
      throw awsError(
        'ValidationError',
        `The max size (${max}) must be at least the min size (${min}).`,
      );
    if (desired < min || desired > max)
      throw awsError(
        'ValidationError',
        `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
      );
    Object.assign(g, { min, max, desired });
    g.progress = this.progress();
  }

  /**
   * A capacity change in progress: the first describes see instances launching
   * (Pending) or terminating; once done they are InService, or gone (terminated in EC2).
   */
  private advanceGroup(g: GroupState): void {
    if (g.progress === undefined) return;
    const done = seen(g.progress);
    const live = [...g.instances].filter(([, s]) => s !== 'Terminating').map(([id]) => id);
    for (const id of live.slice(g.desired)) {
      g.instances.set(id, 'Terminating');
      this.instances.get(id)!.state = 'shutting-down';
    }
    for (let n = live.length; n < g.desired; n++) {
      const id = this.launch(g);
      this.instances.get(id)!.state = 'pending';
      g.instances.set(id, 'Pending');
    }
    if (!done) return;
    for (const [id, state] of [...g.instances]) {
      if (state === 'Terminating') {
        g.instances.delete(id);
        this.instances.get(id)!.state = 'terminated';
      } else if (state === 'Pending') {
        g.instances.set(id, 'InService');
        this.instances.get(id)!.state = 'running';
      }
    }
    delete g.progress;
  }

  // -------------------------------------------------------------------------
  // RDS
  // -------------------------------------------------------------------------

  /** A standalone DB instance (available by default). */
  addDatabase(spec: {
    name: string;
    tags?: Tags;
    status?: string;
    engine?: string;
    instanceClass?: string;
    multiAz?: boolean;
  }) {
    const db: DatabaseState = {
      name: spec.name,
      arn: `arn:aws:rds:${this.region}:${this.account}:db:${spec.name}`,
      status: spec.status ?? 'available',
      engine: spec.engine ?? 'postgres',
      tags: { ...spec.tags },
      instanceClass: spec.instanceClass ?? 'db.t3.micro',
      ...(spec.multiAz === undefined ? {} : { multiAz: spec.multiAz }),
    };
    this.databases.set(spec.name, db);
    return db;
  }

  /**
   * An Aurora cluster and its member instances (the first is the writer);
   * `memberTags` go on the members only, `memberClasses` by member (default db.r6g.large).
   */
  addCluster(spec: {
    name: string;
    members: readonly string[];
    tags?: Tags;
    memberTags?: Tags;
    status?: string;
    engine?: string;
    storageType?: string;
    memberClasses?: readonly string[];
  }): ClusterState {
    const cluster: ClusterState = {
      name: spec.name,
      arn: `arn:aws:rds:${this.region}:${this.account}:cluster:${spec.name}`,
      status: spec.status ?? 'available',
      engine: spec.engine ?? 'aurora-postgresql',
      ...(spec.storageType === undefined ? {} : { storageType: spec.storageType }),
      tags: { ...spec.tags },
      members: [...spec.members],
    };
    this.clusters.set(spec.name, cluster);
    spec.members.forEach((member, n) =>
      this.databases.set(member, {
        name: member,
        arn: `arn:aws:rds:${this.region}:${this.account}:db:${member}`,
        status: cluster.status,
        engine: cluster.engine,
        tags: { ...spec.memberTags },
        cluster: spec.name,
        instanceClass: spec.memberClasses?.[n] ?? 'db.r6g.large',
      }),
    );
    return cluster;
  }

  database(name: string): DatabaseState {
    const found = this.databases.get(name);
    if (found === undefined) throw new Error(`the double has no DB instance ${name}`);
    this.syncMember(found);
    return found;
  }

  cluster(name: string): ClusterState {
    const found = this.clusters.get(name);
    if (found === undefined) throw new Error(`the double has no DB cluster ${name}`);
    return found;
  }

  /**
   * What AWS does to a database stopped for seven days: starts it (`starting`,
   * then `available`), with no API call from anyone.
   */
  startByItself(name: string): void {
    const db = this.databases.get(name) ?? this.cluster(name);
    if (db.status !== 'stopped') throw new Error(`${name} is ${db.status}, not stopped`);
    db.status = 'starting';
    db.next = 'available';
    db.progress = this.progress();
  }

  private rdsCommands(): CommandSpec[] {
    const instanceName = (input: { DBInstanceIdentifier?: string | undefined }) =>
      input.DBInstanceIdentifier ?? '';
    const clusterName = (input: { DBClusterIdentifier?: string | undefined }) =>
      input.DBClusterIdentifier ?? '';
    return [
      spec(
        'DescribeDBInstances',
        DescribeDBInstancesCommand,
        (input: DescribeDBInstancesCommandInput) => this.describeDatabases(input),
      ),
      spec(
        'DescribeDBClusters',
        DescribeDBClustersCommand,
        (input: DescribeDBClustersCommandInput) => this.describeClusters(input),
      ),
      spec(
        'StopDBInstance',
        StopDBInstanceCommand,
        (input) => ({ DBInstance: this.changeDatabase(instanceName(input), 'off') }),
        (input) => `StopDBInstance ${instanceName(input)}`,
      ),
      spec(
        'StartDBInstance',
        StartDBInstanceCommand,
        (input) => ({ DBInstance: this.changeDatabase(instanceName(input), 'on') }),
        (input) => `StartDBInstance ${instanceName(input)}`,
      ),
      spec(
        'StopDBCluster',
        StopDBClusterCommand,
        (input) => ({ DBCluster: this.changeCluster(clusterName(input), 'off') }),
        (input) => `StopDBCluster ${clusterName(input)}`,
      ),
      spec(
        'StartDBCluster',
        StartDBClusterCommand,
        (input) => ({ DBCluster: this.changeCluster(clusterName(input), 'on') }),
        (input) => `StartDBCluster ${clusterName(input)}`,
      ),
      spec(
        'AddTagsToResource',
        AddTagsToResourceCommand,
        (input: AddTagsToResourceCommandInput) => {
          const arn = input.ResourceName ?? '';
          const target =
            [...this.databases.values()].find((d) => d.arn === arn) ??
            [...this.clusters.values()].find((c) => c.arn === arn);
          if (target === undefined)
            throw awsError('DBInstanceNotFoundFault', `Resource ${arn} not found.`, 404);
          for (const t of input.Tags ?? []) target.tags[t.Key ?? ''] = t.Value ?? '';
          return {};
        },
        (input) =>
          `AddTagsToResource ${(input.ResourceName ?? '').split(':').pop() ?? ''} ${(input.Tags ?? []).map((t) => `${t.Key ?? ''}=${t.Value ?? ''}`).join(',')}`,
      ),
    ];
  }

  private describeDatabases(input: DescribeDBInstancesCommandInput) {
    const size = this.rdsPageSize(input.MaxRecords);
    let list: () => string[];
    if (input.DBInstanceIdentifier !== undefined) {
      const name = input.DBInstanceIdentifier;
      if (!this.databases.has(name))
        throw awsError('DBInstanceNotFoundFault', `DBInstance ${name} not found.`, 404);
      list = () => [name];
    } else list = () => this.filterDatabases(input.Filters ?? []);
    const { keys, next } = this.pages.page(input.Marker, size, list, (m) =>
      awsError('InvalidParameterValue', `Invalid marker ${m}`),
    );
    return {
      DBInstances: keys.flatMap((name) => {
        const db = this.databases.get(name);
        if (db === undefined) return [];
        this.advanceDatabase(db);
        return [this.databaseOutput(db)];
      }),
      ...(next === undefined ? {} : { Marker: next }),
    };
  }

  private filterDatabases(filters: readonly RdsFilter[]): string[] {
    let names: Iterable<string> = this.databases.keys();
    const rest: ((db: DatabaseState) => boolean)[] = [];
    for (const f of filters) {
      const values = f.Values ?? [];
      if (f.Name === 'db-instance-id')
        names = values.map((v) => v.split(':').pop() ?? v).filter((n) => this.databases.has(n));
      else if (f.Name === 'db-cluster-id')
        rest.push((db) => db.cluster !== undefined && values.includes(db.cluster));
      else if (f.Name === 'engine') rest.push((db) => values.includes(db.engine));
      else throw awsError('InvalidParameterValue', `Unrecognized filter name: ${f.Name ?? ''}`);
    }
    return [...new Set(names)].filter((n) => rest.every((test) => test(this.databases.get(n)!)));
  }

  private describeClusters(input: DescribeDBClustersCommandInput) {
    const size = this.rdsPageSize(input.MaxRecords);
    const list = () => {
      if (input.DBClusterIdentifier !== undefined) {
        if (!this.clusters.has(input.DBClusterIdentifier))
          throw awsError(
            'DBClusterNotFoundFault',
            `DBCluster ${input.DBClusterIdentifier} not found.`,
            404,
          );
        return [input.DBClusterIdentifier];
      }
      let names: string[] = [...this.clusters.keys()];
      for (const f of input.Filters ?? []) {
        if (f.Name !== 'db-cluster-id')
          throw awsError('InvalidParameterValue', `Unrecognized filter name: ${f.Name ?? ''}`);
        const wanted = new Set((f.Values ?? []).map((v) => v.split(':').pop() ?? v));
        names = names.filter((n) => wanted.has(n));
      }
      return names;
    };
    const { keys, next } = this.pages.page(input.Marker, size, list, (m) =>
      awsError('InvalidParameterValue', `Invalid marker ${m}`),
    );
    return {
      DBClusters: keys.flatMap((name) => {
        const c = this.clusters.get(name);
        if (c === undefined) return [];
        this.advanceDatabase(c);
        return [this.clusterOutput(c)];
      }),
      ...(next === undefined ? {} : { Marker: next }),
    };
  }

  /** MaxRecords: 20 to 100, default 100. */
  private rdsPageSize(asked: number | undefined): number {
    return pageSize(asked, { min: 20, max: 100, fallback: 100 }, (m) =>
      awsError('InvalidParameterValue', m),
    );
  }

  private databaseOutput(db: DatabaseState): DBInstance {
    this.syncMember(db);
    return {
      DBInstanceIdentifier: db.name,
      DBInstanceArn: db.arn,
      DBInstanceStatus: db.status,
      Engine: db.engine,
      MultiAZ: db.multiAz ?? false,
      TagList: tagList(db.tags),
      ReadReplicaDBInstanceIdentifiers: [],
      DBInstanceClass: db.instanceClass,
      ...(db.cluster === undefined ? {} : { DBClusterIdentifier: db.cluster }),
    };
  }

  private clusterOutput(c: ClusterState): DBCluster {
    return {
      DBClusterIdentifier: c.name,
      DBClusterArn: c.arn,
      Status: c.status,
      Engine: c.engine,
      EngineMode: 'provisioned',
      ...(c.storageType === undefined ? {} : { StorageType: c.storageType }),
      TagList: tagList(c.tags),
      ReadReplicaIdentifiers: [],
      DBClusterMembers: c.members.map((m, n) => ({
        DBInstanceIdentifier: m,
        IsClusterWriter: n === 0,
      })),
    };
  }

  /** A cluster's members are in their cluster's state. */
  private syncMember(db: DatabaseState): void {
    const cluster = db.cluster === undefined ? undefined : this.clusters.get(db.cluster);
    if (cluster !== undefined) db.status = cluster.status;
  }

  private advanceDatabase(db: DatabaseState | ClusterState): void {
    if (db.next !== undefined && seen(db.progress)) {
      db.status = db.next;
      delete db.next;
      delete db.progress;
    }
  }

  /** Stop from available, start from stopped; anything else is InvalidDBInstanceState. */
  private changeDatabase(name: string, target: 'on' | 'off'): DBInstance {
    const db = this.databases.get(name);
    if (db === undefined)
      throw awsError('DBInstanceNotFoundFault', `DBInstance ${name} not found.`, 404);
    if (db.cluster !== undefined)
      throw awsError(
        'InvalidParameterCombination',
        `${name} is part of the Aurora cluster ${db.cluster}; stop or start the cluster instead.`,
      );
    const from = target === 'off' ? 'available' : 'stopped';
    if (db.status !== from)
      throw awsError(
        'InvalidDBInstanceStateFault',
        `Instance ${name} is not in ${from} state (it is ${db.status}).`,
      );
    this.moveDatabase(db, target);
    return this.databaseOutput(db);
  }

  private changeCluster(name: string, target: 'on' | 'off'): DBCluster {
    const c = this.clusters.get(name);
    if (c === undefined)
      throw awsError('DBClusterNotFoundFault', `DBCluster ${name} not found.`, 404);
    const from = target === 'off' ? 'available' : 'stopped';
    if (c.status !== from)
      throw awsError(
        'InvalidDBClusterStateFault',
        `DbCluster ${name} is in ${c.status} state but expected it to be ${from}.`,
      );
    this.moveDatabase(c, target);
    return this.clusterOutput(c);
  }

  private moveDatabase(db: DatabaseState | ClusterState, target: 'on' | 'off'): void {
    db.status = target === 'off' ? 'stopping' : 'starting';
    db.next = target === 'off' ? 'stopped' : 'available';
    db.progress = this.progress();
  }

  // -------------------------------------------------------------------------
  // ECS
  // -------------------------------------------------------------------------

  /** A service in a cluster (created if new), ACTIVE, with `desired` tasks running. */
  addService(spec: {
    cluster: string;
    name: string;
    desired: number;
    tags?: Tags;
    taskDefinition?: string;
    launchType?: LaunchType;
    capacityProviders?: readonly string[];
  }): ServiceState {
    this.ecsClusters.add(spec.cluster);
    const service: ServiceState = {
      cluster: spec.cluster,
      name: spec.name,
      arn: `arn:aws:ecs:${this.region}:${this.account}:service/${spec.cluster}/${spec.name}`,
      status: 'ACTIVE',
      desired: spec.desired,
      running: spec.desired,
      tags: { ...spec.tags },
      ...(spec.taskDefinition === undefined ? {} : { taskDefinition: spec.taskDefinition }),
      ...(spec.launchType === undefined ? {} : { launchType: spec.launchType }),
      ...(spec.capacityProviders === undefined
        ? {}
        : { capacityProviders: spec.capacityProviders }),
    };
    this.services.set(`${spec.cluster}/${spec.name}`, service);
    return service;
  }

  /**
   * Registers the next revision of a task definition family; returns its ARN.
   * `cpu` in CPU units and `memory` in MiB, strings as ECS returns them.
   */
  addTaskDefinition(spec: {
    family: string;
    cpu?: string;
    memory?: string;
    containers?: readonly ContainerDefinition[];
    cpuArchitecture?: CPUArchitecture;
    os?: OSFamily;
  }): string {
    const revision =
      [...this.taskDefinitions.values()].filter((t) => t.family === spec.family).length + 1;
    const arn = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${spec.family}:${revision}`;
    this.taskDefinitions.set(arn, {
      ...spec,
      arn,
      revision,
      containers: spec.containers ?? [{ name: 'app', image: 'app:latest', cpu: 0 }],
    });
    return arn;
  }

  service(cluster: string, name: string): ServiceState {
    const found = this.services.get(`${cluster}/${name}`);
    if (found === undefined) throw new Error(`the double has no ECS service ${cluster}/${name}`);
    return found;
  }

  private clusterArn(name: string): string {
    return `arn:aws:ecs:${this.region}:${this.account}:cluster/${name}`;
  }

  /** A cluster given by name or ARN; ClusterNotFoundException when there is none. */
  private ecsCluster(nameOrArn: string | undefined): string {
    const name = (nameOrArn ?? 'default').split('/').pop() ?? '';
    if (!this.ecsClusters.has(name))
      throw awsError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  private ecsCommands(): CommandSpec[] {
    const invalid = (message: string) => awsError('InvalidParameterException', message);
    return [
      spec('ListClusters', ListClustersCommand, (input: ListClustersCommandInput) => {
        const size = pageSize(input.maxResults, { min: 1, max: 100, fallback: 100 }, invalid);
        const { keys, next } = this.pages.page(
          input.nextToken,
          size,
          () => [...this.ecsClusters],
          (t) => invalid(`Invalid token ${t}`),
        );
        return {
          clusterArns: keys.map((c) => this.clusterArn(c)),
          ...(next === undefined ? {} : { nextToken: next }),
        };
      }),
      spec('ListServices', ListServicesCommand, (input: ListServicesCommandInput) => {
        const cluster = this.ecsCluster(input.cluster);
        const size = pageSize(input.maxResults, { min: 1, max: 100, fallback: 10 }, invalid);
        const { keys, next } = this.pages.page(
          input.nextToken,
          size,
          () =>
            [...this.services.values()]
              .filter((s) => s.cluster === cluster && s.status === 'ACTIVE')
              .map((s) => `${s.cluster}/${s.name}`),
          (t) => invalid(`Invalid token ${t}`),
        );
        return {
          serviceArns: keys.map((k) => this.services.get(k)?.arn ?? ''),
          ...(next === undefined ? {} : { nextToken: next }),
        };
      }),
      spec('DescribeServices', DescribeServicesCommand, (input: DescribeServicesCommandInput) =>
        this.describeServices(input),
      ),
      spec(
        'DescribeTaskDefinition',
        DescribeTaskDefinitionCommand,
        (input: DescribeTaskDefinitionCommandInput) => this.describeTaskDefinition(input),
      ),
      spec(
        'UpdateService',
        UpdateServiceCommand,
        (input: UpdateServiceCommandInput) => ({ service: this.updateService(input) }),
        (input) =>
          `UpdateService ${(input.cluster ?? '').split('/').pop() ?? ''}/${(input.service ?? '').split('/').pop() ?? ''} desiredCount=${input.desiredCount ?? '-'}`,
      ),
      spec(
        'TagResource',
        TagResourceCommand,
        (input: TagResourceCommandInput) => {
          const s = [...this.services.values()].find((x) => x.arn === input.resourceArn);
          if (s === undefined)
            throw awsError('InvalidParameterException', 'The specified resource is not found.');
          for (const t of input.tags ?? []) s.tags[t.key ?? ''] = t.value ?? '';
          return {};
        },
        (input) => `TagResource ${input.resourceArn ?? ''}`,
      ),
    ];
  }

  /** Up to 10 services of one cluster; those not found come back in `failures` as MISSING. */
  private describeServices(input: DescribeServicesCommandInput) {
    const cluster = this.ecsCluster(input.cluster);
    const names = input.services ?? [];
    if (names.length > 10)
      throw awsError(
        'InvalidParameterException',
        'DescribeServices takes at most 10 services per call.',
      );
    const withTags = input.include?.includes('TAGS') === true;
    const services: Service[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const nameOrArn of names) {
      const name = nameOrArn.split('/').pop() ?? '';
      const s = this.services.get(`${cluster}/${name}`);
      if (s === undefined) failures.push({ arn: nameOrArn, reason: 'MISSING' });
      else {
        this.advanceService(s);
        services.push(this.serviceOutput(s, withTags));
      }
    }
    return { services, failures };
  }

  /**
   * One task definition by ARN, family:revision or family (its latest revision);
   * ECS answers an unknown one with a ClientException.
   */
  private describeTaskDefinition(input: DescribeTaskDefinitionCommandInput) {
    const wanted = input.taskDefinition ?? '';
    const name = wanted.startsWith('arn:') ? (wanted.split('/').pop() ?? '') : wanted;
    const [family, revision] = name.split(':');
    const matching = [...this.taskDefinitions.values()]
      .filter(
        (t) => t.family === family && (revision === undefined || `${t.revision}` === revision),
      )
      .sort((a, b) => b.revision - a.revision);
    const found = matching[0];
    if (found === undefined)
      throw awsError('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: {
        taskDefinitionArn: found.arn,
        family: found.family,
        revision: found.revision,
        status: 'ACTIVE',
        containerDefinitions: found.containers,
        ...(found.cpu === undefined ? {} : { cpu: found.cpu }),
        ...(found.memory === undefined ? {} : { memory: found.memory }),
        ...(found.cpuArchitecture === undefined && found.os === undefined
          ? {}
          : {
              runtimePlatform: {
                ...(found.cpuArchitecture === undefined
                  ? {}
                  : { cpuArchitecture: found.cpuArchitecture }),
                ...(found.os === undefined ? {} : { operatingSystemFamily: found.os }),
              },
            }),
      },
    };
  }

  private serviceOutput(s: ServiceState, withTags: boolean): Service {
    return {
      ...(s.taskDefinition === undefined ? {} : { taskDefinition: s.taskDefinition }),
      ...(s.launchType === undefined ? {} : { launchType: s.launchType }),
      ...(s.capacityProviders === undefined
        ? {}
        : {
            capacityProviderStrategy: s.capacityProviders.map((capacityProvider) => ({
              capacityProvider,
              weight: 1,
            })),
          }),
      serviceName: s.name,
      serviceArn: s.arn,
      clusterArn: this.clusterArn(s.cluster),
      status: s.status,
      desiredCount: s.desired,
      runningCount: s.running,
      pendingCount: Math.max(0, s.desired - s.running),
      deployments: [
        {
          status: 'PRIMARY',
          rolloutState: 'COMPLETED',
          desiredCount: s.desired,
          runningCount: s.running,
        },
      ],
      ...(withTags ? { tags: Object.entries(s.tags).map(([key, value]) => ({ key, value })) } : {}),
    };
  }

  /**
   * Tasks follow the desired count after the change settles. While dynamic
   * scale-out is not suspended, a count below the target's MinCapacity is raised to
   * it (its scale-out alarm is in breach): what a stop must prevent by suspending.
   */
  private advanceService(s: ServiceState): void {
    const target = this.targets.get(`service/${s.cluster}/${s.name}`);
    if (
      target !== undefined &&
      !target.suspended.DynamicScalingOutSuspended &&
      s.desired < target.min
    ) {
      s.desired = target.min;
      s.progress = this.progress();
    }
    if (s.progress !== undefined && seen(s.progress)) {
      s.running = s.desired;
      delete s.progress;
    }
  }

  private updateService(input: UpdateServiceCommandInput): Service {
    const cluster = this.ecsCluster(input.cluster);
    const name = (input.service ?? '').split('/').pop() ?? '';
    const s = this.services.get(`${cluster}/${name}`);
    if (s === undefined) throw awsError('ServiceNotFoundException', 'Service not found.');
    if (s.status !== 'ACTIVE')
      throw awsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (input.desiredCount !== undefined) {
      s.desired = input.desiredCount;
      s.progress = this.progress();
    }
    return this.serviceOutput(s, false);
  }

  // -------------------------------------------------------------------------
  // Application Auto Scaling
  // -------------------------------------------------------------------------

  /** A scalable target for an ECS service (`service/CLUSTER/SERVICE`). */
  addTarget(spec: {
    cluster: string;
    service: string;
    min: number;
    max: number;
    suspended?: SuspendedState;
  }): TargetState {
    const target: TargetState = {
      resourceId: `service/${spec.cluster}/${spec.service}`,
      min: spec.min,
      max: spec.max,
      suspended: { ...NOT_SUSPENDED, ...spec.suspended },
    };
    this.targets.set(target.resourceId, target);
    return target;
  }

  target(resourceId: string): TargetState {
    const found = this.targets.get(resourceId);
    if (found === undefined) throw new Error(`the double has no scalable target ${resourceId}`);
    return found;
  }

  private applicationAutoScalingCommands(): CommandSpec[] {
    const invalid = (message: string) => awsError('ValidationException', message);
    return [
      spec(
        'DescribeScalableTargets',
        DescribeScalableTargetsCommand,
        (input: DescribeScalableTargetsCommandInput) => {
          if (input.ServiceNamespace !== 'ecs')
            throw invalid(`the double holds only ecs targets, not ${input.ServiceNamespace ?? ''}`);
          const size = pageSize(input.MaxResults, { min: 1, max: 50, fallback: 50 }, invalid);
          const { keys, next } = this.pages.page(
            input.NextToken,
            size,
            () =>
              input.ResourceIds === undefined
                ? [...this.targets.keys()]
                : input.ResourceIds.filter((id) => this.targets.has(id)),
            (t) => invalid(`Invalid NextToken ${t}`),
          );
          return {
            ScalableTargets: keys.map((id) => this.targetOutput(this.targets.get(id)!)),
            ...(next === undefined ? {} : { NextToken: next }),
          };
        },
      ),
      spec(
        'RegisterScalableTarget',
        RegisterScalableTargetCommand,
        (input: RegisterScalableTargetCommandInput) => {
          this.registerTarget(input);
          return {};
        },
        (input) => `RegisterScalableTarget ${input.ResourceId ?? ''} ${suspendedText(input)}`,
      ),
    ];
  }

  private targetOutput(t: TargetState): ScalableTarget {
    return {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceId: t.resourceId,
      MinCapacity: t.min,
      MaxCapacity: t.max,
      RoleARN: `arn:aws:iam::${this.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
      CreationTime: new Date(0),
      SuspendedState: { ...t.suspended },
    };
  }

  /** On an existing target only the parameters given change; absent SuspendedState flags are false. */
  private registerTarget(input: RegisterScalableTargetCommandInput): void {
    const id = input.ResourceId ?? '';
    const existing = this.targets.get(id);
    if (existing === undefined) {
      if (input.MinCapacity === undefined || input.MaxCapacity === undefined)
        throw awsError(
          'ValidationException',
          'MinCapacity and MaxCapacity are required to register a new scalable target.',
        );
      const [cluster = '', service = ''] = id.split('/').slice(1);
      this.addTarget({ cluster, service, min: input.MinCapacity, max: input.MaxCapacity });
    }
    const t = this.targets.get(id)!;
    if (input.MinCapacity !== undefined) t.min = input.MinCapacity;
    if (input.MaxCapacity !== undefined) t.max = input.MaxCapacity;
    if (input.SuspendedState !== undefined)
      t.suspended = {
        DynamicScalingInSuspended: input.SuspendedState.DynamicScalingInSuspended === true,
        DynamicScalingOutSuspended: input.SuspendedState.DynamicScalingOutSuspended === true,
        ScheduledScalingSuspended: input.SuspendedState.ScheduledScalingSuspended === true,
      };
  }

  // -------------------------------------------------------------------------
  // CloudWatch
  // -------------------------------------------------------------------------

  /** A metric alarm on one metric with these dimensions (actions enabled by default). */
  addAlarm(spec: {
    name: string;
    dimensions: Record<string, string>;
    actionsEnabled?: boolean;
    namespace?: string;
    metricName?: string;
  }): AlarmState {
    const alarm: AlarmState = {
      name: spec.name,
      actionsEnabled: spec.actionsEnabled ?? true,
      namespace: spec.namespace ?? 'AWS/EC2',
      metricName: spec.metricName ?? 'CPUUtilization',
      dimensions: Object.entries(spec.dimensions).map(([Name, Value]) => ({ Name, Value })),
    };
    this.alarms.set(spec.name, alarm);
    return alarm;
  }

  /** Names of the alarms whose actions are enabled, sorted. */
  enabledAlarms(): string[] {
    return [...this.alarms.values()]
      .filter((a) => a.actionsEnabled)
      .map((a) => a.name)
      .sort();
  }

  private cloudWatchCommands(): CommandSpec[] {
    const setActions = (enabled: boolean) => (input: { AlarmNames?: string[] | undefined }) => {
      const names = input.AlarmNames ?? [];
      if (names.length > 100)
        throw awsError('InvalidParameterValue', 'At most 100 alarm names per call.');
      // Unknown names are ignored, as AWS documents no error for them.
      for (const name of names) {
        const alarm = this.alarms.get(name);
        if (alarm !== undefined) alarm.actionsEnabled = enabled;
      }
      return {};
    };
    const names = (input: { AlarmNames?: string[] | undefined }) =>
      [...(input.AlarmNames ?? [])].sort().join(',');
    return [
      spec('DescribeAlarms', DescribeAlarmsCommand, (input: DescribeAlarmsCommandInput) =>
        this.describeAlarms(input),
      ),
      spec(
        'DisableAlarmActions',
        DisableAlarmActionsCommand,
        setActions(false),
        (input) => `DisableAlarmActions ${names(input)}`,
      ),
      spec(
        'EnableAlarmActions',
        EnableAlarmActionsCommand,
        setActions(true),
        (input) => `EnableAlarmActions ${names(input)}`,
      ),
    ];
  }

  private describeAlarms(input: DescribeAlarmsCommandInput) {
    const invalid = (message: string) => awsError('InvalidParameterValue', message);
    const size = pageSize(input.MaxRecords, { min: 1, max: 100, fallback: 50 }, invalid);
    if ((input.AlarmNames?.length ?? 0) > 100) throw invalid('At most 100 alarm names per call.');
    const metricAlarms = input.AlarmTypes === undefined || input.AlarmTypes.includes('MetricAlarm');
    const { keys, next } = this.pages.page(
      input.NextToken,
      size,
      () =>
        !metricAlarms
          ? []
          : input.AlarmNames === undefined
            ? [...this.alarms.keys()]
            : input.AlarmNames.filter((n) => this.alarms.has(n)),
      (t) => awsError('InvalidNextToken', `Invalid token ${t}`),
    );
    return {
      MetricAlarms: keys.map((name) => alarmOutput(this.alarms.get(name)!)),
      CompositeAlarms: [],
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }
}

function alarmOutput(a: AlarmState): MetricAlarm {
  return {
    AlarmName: a.name,
    ActionsEnabled: a.actionsEnabled,
    Namespace: a.namespace,
    MetricName: a.metricName,
    Dimensions: a.dimensions.map((d) => ({ ...d })),
    StateValue: 'OK',
  };
}

function suspendedText(input: RegisterScalableTargetCommandInput): string {
  const s = input.SuspendedState;
  if (s === undefined) return '';
  const flags = [
    s.DynamicScalingInSuspended === true ? 'in' : '',
    s.DynamicScalingOutSuspended === true ? 'out' : '',
    s.ScheduledScalingSuspended === true ? 'scheduled' : '',
  ].filter((f) => f !== '');
  return `suspended=${flags.length === 0 ? 'none' : flags.join(',')}`;
}

// ---------------------------------------------------------------------------
// Throttling: AWS's token buckets
// ---------------------------------------------------------------------------

/** A bucket as AWS documents it: `burst` tokens when full, `perSecond` added each second. */
interface DoubleBucketRate {
  readonly burst: number;
  readonly perSecond: number;
}

/**
 * AWS's token buckets, on the test's clock, written apart from src/core/token-bucket.ts
 * so that a mistake there is not repeated here. EC2 (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
 * each API its own request bucket (Describe* 100 / 20 a second, StartInstances 5 / 2,
 * StopInstances and other mutating calls 50 / 5), and resource buckets counting
 * instances (StartInstances 1,000 / 2, StopInstances 1,000 / 20); an empty bucket
 * answers RequestLimitExceeded. RDS
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html):
 * 300 / 12 a second, ThrottlingException. A refused call takes no token.
 */
export class ThrottlingModel {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Calls refused, by error name. */
  readonly refused = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** The error AWS would answer this call with, taking its tokens when it has them. */
  refuse(service: string, command: string, input: Record<string, unknown>): Error | undefined {
    const wanted = this.wanted(service, command, input);
    if (wanted.length === 0) return undefined;
    const t = this.now();
    const levels = wanted.map(({ key, rate, n }) => {
      const b = this.buckets.get(key) ?? { tokens: rate.burst, at: t };
      const tokens = Math.min(
        rate.burst,
        b.tokens + (Math.max(0, t - b.at) * rate.perSecond) / 1000,
      );
      return { key, tokens, n };
    });
    if (levels.some((l) => l.tokens + 1e-6 < l.n)) {
      for (const l of levels) this.buckets.set(l.key, { tokens: l.tokens, at: t });
      const name = service === 'ec2' ? 'RequestLimitExceeded' : 'ThrottlingException';
      this.refused.set(name, (this.refused.get(name) ?? 0) + 1);
      return service === 'ec2'
        ? awsError(name, 'Request limit exceeded.', 503)
        : awsError(name, 'Rate exceeded', 400);
    }
    for (const l of levels) this.buckets.set(l.key, { tokens: Math.max(0, l.tokens - l.n), at: t });
    return undefined;
  }

  private wanted(
    service: string,
    command: string,
    input: Record<string, unknown>,
  ): { key: string; rate: DoubleBucketRate; n: number }[] {
    if (service === 'rds') return [{ key: 'rds', rate: { burst: 300, perSecond: 12 }, n: 1 }];
    if (service !== 'ec2') return [];
    const ids = Array.isArray(input.InstanceIds) ? input.InstanceIds.length : 0;
    const request: DoubleBucketRate = command.startsWith('Describe')
      ? { burst: 100, perSecond: 20 }
      : command === 'StartInstances'
        ? { burst: 5, perSecond: 2 }
        : { burst: 50, perSecond: 5 };
    const wanted = [{ key: command, rate: request, n: 1 }];
    if (command === 'StartInstances')
      wanted.push({ key: `${command}:instances`, rate: { burst: 1_000, perSecond: 2 }, n: ids });
    if (command === 'StopInstances')
      wanted.push({ key: `${command}:instances`, rate: { burst: 1_000, perSecond: 20 }, n: ids });
    return wanted;
  }
}

/**
 * The AWS provider (AWS SDK for JavaScript v3). It finds resources of each kind a
 * selector names in each of its regions, remembers how each was reached (region,
 * endpoint, role), and hands observation and action to the kind, grouped by
 * connection so each call carries as many resources as the API takes.
 */
import type { PowerState, Selector } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Provider,
  Resource,
  RestoreData,
  RunRef,
  SettledNote,
  SettlePolls,
} from '../../engine/ports.js';
import type { AwsLimiter } from './buckets.js';
import { AWS_BUCKETS } from './buckets.js';
import { actCost } from './act-cost.js';
import type { TierCost } from '../../core/ready-by.js';
import { AwsClients, connectionKey } from './clients.js';
import type { Connection } from './clients.js';
import type { AlarmListing } from './alarms.js';
import type { AwsKind, KindContext } from './kind.js';
import { messageOf } from './kind.js';

export interface AwsSettings {
  readonly regions: readonly string[];
  readonly endpoint?: string;
  readonly hibernate?: boolean;
  /** The account to act in; checked against the credentials' account when no role is given. */
  readonly account?: string;
  readonly role?: string;
  readonly externalId?: string;
  /** Disable the actions of a stopped resource's CloudWatch alarms (default true). */
  readonly alarms?: boolean;
  /** Tag acted resources with `lightsout:last-action` (default false). */
  readonly lastActionTags?: boolean;
}

/** A resource whose alarms follow its state, with its kind (which names its dimensions). */
interface AlarmResource {
  readonly resource: Resource;
  readonly kind: AwsKind;
}

/**
 * How long a run's alarm listing is reused: long enough for the tiers of a stop
 * (a database's stop takes minutes), short enough that an alarm created since is
 * seen by the next run.
 */
const ALARM_LISTING_MS = 30 * 60_000;

interface FollowUps {
  readonly alarms: boolean;
  readonly lastActionTags: boolean;
}

/**
 * Each kind's module (and its SDK) is loaded on first use: a process that drives
 * no AWS resource of that kind does not carry its memory.
 */
const KINDS: Readonly<Record<string, () => Promise<AwsKind>>> = {
  ec2: async () => new (await import('./ec2.js')).Ec2Kind(),
  asg: async () => (await import('./asg.js')).asgKind,
  rds: async () => (await import('./rds.js')).rdsKind,
  aurora: async () => (await import('./rds.js')).auroraKind,
  ecs: async () => new (await import('./ecs.js')).EcsKind(),
  stack: async () => new (await import('./stack.js')).StackKind(),
};

export const AWS_KINDS = Object.keys(KINDS);

export interface AwsProviderOptions {
  /** Where what a stop saved is kept (capacities, desired counts, templates, alarms). */
  readonly restore?: RestoreData;
  readonly clients?: AwsClients;
  readonly now?: () => number;
  /** Waits for AWS's token buckets before every call (ignored with `clients`); without one, calls go at once. */
  readonly limiter?: AwsLimiter;
}

/** Restore data kept in memory only: for tests and previews without a store. */
export function memoryRestoreData(): RestoreData {
  const saved = new Map<string, unknown>();
  return {
    save: (id, key, data) => {
      if (data === undefined) saved.delete(`${id}|${key}`);
      else saved.set(`${id}|${key}`, data);
      return Promise.resolve();
    },
    saveMany: (entries) => {
      for (const { id, key, data } of entries) {
        if (data === undefined) saved.delete(`${id}|${key}`);
        else saved.set(`${id}|${key}`, data);
      }
      return Promise.resolve();
    },
    load: (id, key) => Promise.resolve(saved.get(`${id}|${key}`)),
    find: (prefix, key) =>
      Promise.resolve(
        [...saved]
          .filter(([k]) => k.startsWith(prefix) && k.endsWith(`|${key}`))
          .map(([k, data]) => ({ id: k.slice(0, -key.length - 1), data })),
      ),
  };
}

export class AwsProvider implements Provider {
  readonly name = 'aws';
  /**
   * "You can stop a DB instance for up to seven days. If you don't manually start
   * your DB instance after seven days, your DB instance is automatically started"
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html);
   * the same holds for Aurora clusters.
   */
  readonly restartsByItself = ['rds', 'aurora'];
  readonly context: KindContext;
  private readonly kinds = new Map<string, Promise<AwsKind>>();
  private readonly connections = new Map<string, Connection>();
  private readonly followUps = new Map<string, FollowUps>();
  /** Alarm listings shared by a run, by run and connection (see `alarmListing`). */
  private readonly alarmListings = new Map<string, { at: number; listing: AlarmListing }>();
  /** Accounts whose default credentials were checked, by connection. */
  private readonly checkedAccounts = new Map<string, Promise<void>>();

  /** AWS's buckets with the config's overrides, for planning starts (the clients' limiter, if any). */
  private readonly limiter: AwsLimiter | undefined;

  constructor(options: AwsProviderOptions = {}) {
    const now = options.now ?? Date.now;
    this.limiter = options.limiter;
    this.context = {
      clients: options.clients ?? new AwsClients(now, options.limiter),
      restore: options.restore ?? memoryRestoreData(),
      now,
    };
  }

  async discover(selector: Selector): Promise<Resource[]> {
    const settings = selector.settings as AwsSettings | undefined;
    const found: Resource[] = [];
    for (const region of settings?.regions ?? []) {
      const connection: Connection = {
        region,
        endpoint: settings?.endpoint,
        role: settings?.role,
        externalId: settings?.externalId,
        account: settings?.account,
      };
      if (settings?.account !== undefined && settings.role === undefined)
        await this.checkAccount(connection, settings.account);
      for (const kindName of selector.kinds ?? ['ec2']) {
        const kind = await this.kind(kindName);
        const resources = await kind.discover(this.context, {
          connection,
          tags: selector.tags ?? {},
          hibernate: settings?.hibernate === true,
        });
        const followUps = {
          alarms: settings?.alarms !== false,
          lastActionTags: settings?.lastActionTags === true,
        };
        for (const r of resources) {
          this.connections.set(r.id, connection);
          this.followUps.set(r.id, followUps);
        }
        found.push(...resources);
      }
    }
    return found;
  }

  async observe(resources: readonly Resource[]): Promise<Map<string, Observation>> {
    const states = new Map<string, Observation>();
    for (const { kind, connection, group } of this.grouped(resources)) {
      const observed = await (await this.kind(kind)).observe(this.context, connection, group);
      for (const [id, state] of observed) states.set(id, state);
    }
    return states;
  }

  async act(resources: readonly Resource[], target: PowerState): Promise<ActOutcome[]> {
    const outcomes: ActOutcome[] = [];
    for (const { kind, connection, group } of this.grouped(resources))
      outcomes.push(
        ...(await (await this.kind(kind)).act(this.context, connection, group, target)),
      );
    return outcomes;
  }

  /**
   * Once resources are verified: alarms of stopped resources disabled (and the
   * same ones enabled again after a start), what a stop saved forgotten after a
   * start, and the optional last-action tags.
   */
  async settled(
    resources: readonly Resource[],
    state: PowerState,
    run: RunRef,
  ): Promise<SettledNote[]> {
    const notes: SettledNote[] = [];
    // Alarms by connection, every kind together: one listing serves them all.
    const alarmGroups = new Map<string, { connection: Connection; targets: AlarmResource[] }>();
    for (const { kind: kindName, connection, group } of this.grouped(resources)) {
      const kind = await this.kind(kindName);
      const withAlarms = group.filter((r) => this.followUps.get(r.id)?.alarms !== false);
      if (kind.alarmDimensions !== undefined && withAlarms.length > 0) {
        const key = connectionKey(connection);
        const entry = alarmGroups.get(key) ?? { connection, targets: [] };
        for (const resource of withAlarms) entry.targets.push({ resource, kind });
        alarmGroups.set(key, entry);
      }
    }
    for (const { connection, targets } of alarmGroups.values())
      notes.push(...(await this.followAlarms(connection, targets, state, run)));
    for (const { kind: kindName, connection, group } of this.grouped(resources)) {
      const kind = await this.kind(kindName);
      if (state === 'on' && kind.forgetRestore !== undefined)
        notes.push(
          ...(await kind.forgetRestore(this.context, connection, group).catch((error: unknown) =>
            group.map((r) => ({
              id: r.id,
              kind: 'restore.forget-failed',
              detail: { error: messageOf(error) },
            })),
          )),
        );
      const tagged = group.filter((r) => this.followUps.get(r.id)?.lastActionTags === true);
      if (kind.tagLastAction !== undefined && tagged.length > 0) {
        const value = `${run.direction} ${new Date(run.at).toISOString()} run ${run.id}`;
        await kind.tagLastAction(this.context, connection, tagged, value).then(
          () => undefined,
          (error: unknown) =>
            notes.push(
              ...tagged.map((r) => ({
                id: r.id,
                kind: 'resource.tag-failed',
                detail: { error: messageOf(error) },
              })),
            ),
        );
      }
    }
    return notes;
  }

  private async followAlarms(
    connection: Connection,
    targets: readonly AlarmResource[],
    state: PowerState,
    run: RunRef,
  ): Promise<SettledNote[]> {
    const { disableAlarms, enableAlarms } = await import('./alarms.js');
    const changes =
      state === 'off'
        ? await disableAlarms(
            this.context,
            connection,
            targets.map(({ resource, kind }) => ({
              resource,
              dimensions: kind.alarmDimensions?.(resource) ?? [],
            })),
            this.alarmListing(connection, run),
          )
        : await enableAlarms(
            this.context,
            connection,
            targets.map((t) => t.resource),
          );
    return changes.flatMap((c): SettledNote[] => {
      if (c.error !== undefined)
        return [{ id: c.id, kind: 'alarms.failed', detail: { state, error: c.error } }];
      if (c.alarms.length === 0) return [];
      return [
        {
          id: c.id,
          kind: state === 'off' ? 'alarms.disabled' : 'alarms.enabled',
          detail: { alarms: c.alarms },
        },
      ];
    });
  }

  /**
   * The alarm listing a run shares in one account and region, across its kinds
   * and tiers. A listing is dropped `ALARM_LISTING_MS` after it was made, so an
   * alarm created since is seen by later runs; a run that spans more than that
   * lists again.
   */
  private alarmListing(connection: Connection, run: RunRef): AlarmListing {
    const now = this.context.now();
    for (const [key, entry] of this.alarmListings)
      if (now - entry.at >= ALARM_LISTING_MS) this.alarmListings.delete(key);
    const key = `${run.id}|${connectionKey(connection)}`;
    let entry = this.alarmListings.get(key);
    if (entry === undefined) {
      entry = { at: now, listing: {} };
      this.alarmListings.set(key, entry);
    }
    return entry.listing;
  }

  /** ECS services: scale-in paused and scaled to the autoscaling target's maximum. */
  readonly boostKinds = ['ecs'];

  async boost(resources: readonly Resource[], phase: 'begin' | 'end'): Promise<ActOutcome[]> {
    const outcomes: ActOutcome[] = [];
    for (const { kind: kindName, connection, group } of this.grouped(resources)) {
      const kind = await this.kind(kindName);
      outcomes.push(
        ...(kind.boost === undefined
          ? group.map((r) => ({
              id: r.id,
              result: 'failed' as const,
              reason: `${kindName} resources cannot be boosted`,
            }))
          : await kind.boost(this.context, connection, group, phase)),
      );
    }
    return outcomes;
  }

  settleTimeoutMs(kind: string): number {
    return SETTLE_TIMEOUTS[kind] ?? 10 * 60_000;
  }

  settlePolls(kind: string): SettlePolls {
    return SETTLE_POLLS[kind] ?? DEFAULT_POLLS;
  }

  actCost(resources: readonly Resource[], target: PowerState): TierCost {
    return actCost(
      resources,
      target,
      (account) => this.limiter?.ratesFor(account) ?? AWS_BUCKETS,
      (kind) => this.settlePolls(kind),
    );
  }

  private kind(name: string): Promise<AwsKind> {
    let kind = this.kinds.get(name);
    if (kind === undefined) {
      const load = KINDS[name];
      if (load === undefined) throw new Error(`the AWS provider has no kind "${name}"`);
      kind = load();
      this.kinds.set(name, kind);
    }
    return kind;
  }

  /**
   * With `account` and no role, the default credentials must belong to that
   * account: lightsout never acts in an account the config did not name.
   */
  private checkAccount(connection: Connection, account: string): Promise<void> {
    const key = connectionKey(connection);
    let check = this.checkedAccounts.get(key);
    if (check === undefined) {
      check = (async () => {
        const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
        const sts = await this.context.clients.get('sts', connection);
        const { Account } = await sts.send(new GetCallerIdentityCommand({}));
        if (Account !== account)
          throw new Error(
            `the AWS credentials belong to account ${Account ?? 'unknown'}, not ${account}; set role: to an IAM role in ${account}, or correct account:`,
          );
      })();
      check.catch(() => this.checkedAccounts.delete(key));
      this.checkedAccounts.set(key, check);
    }
    return check;
  }

  /** Resources grouped by kind and by the connection that reaches them. */
  private grouped(
    resources: readonly Resource[],
  ): { kind: string; connection: Connection; group: Resource[] }[] {
    const groups = new Map<string, { kind: string; connection: Connection; group: Resource[] }>();
    for (const r of resources) {
      const connection = this.connections.get(r.id) ?? { region: r.id.split(':')[2] ?? '' };
      const key = `${r.kind}|${connectionKey(connection)}`;
      const entry = groups.get(key) ?? { kind: r.kind, connection, group: [] };
      entry.group.push(r);
      groups.set(key, entry);
    }
    return [...groups.values()];
  }
}

/** Known without loading the kind's module (the engine asks before any discovery). */
const SETTLE_TIMEOUTS: Readonly<Record<string, number>> = {
  ec2: 10 * 60_000,
  // Groups drain their instances (lifecycle hooks, deregistration delays) before reaching 0.
  asg: 20 * 60_000,
  // Starting a stopped database takes minutes, Aurora clusters often 10 or more.
  rds: 30 * 60_000,
  aurora: 30 * 60_000,
  ecs: 15 * 60_000,
  // Recreating a stack creates every resource in it.
  stack: 60 * 60_000,
};

/**
 * Verification's first look and pace per kind, after the kind's typical transition
 * time, so that a large stop is seen settled in one or two polls (1,000 instances
 * are 1 DescribeInstances a poll) instead of one every few seconds. AWS documents
 * no transition times: these are lightsout's, from how long each kind commonly
 * takes; a slower resource is polled again, the interval growing by half each time
 * up to the maximum, until the settle timeout above.
 */
const DEFAULT_POLLS: SettlePolls = { firstMs: 15_000, intervalMs: 10_000, maxIntervalMs: 60_000 };
const SETTLE_POLLS: Readonly<Record<string, SettlePolls>> = {
  // An EBS-backed instance stops or starts in tens of seconds (a graceful OS shutdown first).
  ec2: { firstMs: 45_000, intervalMs: 15_000, maxIntervalMs: 60_000 },
  // A group drains and launches its instances: a minute or more.
  asg: { firstMs: 60_000, intervalMs: 20_000, maxIntervalMs: 2 * 60_000 },
  // A database stops or starts in minutes, an Aurora cluster often ten or more.
  rds: { firstMs: 4 * 60_000, intervalMs: 30_000, maxIntervalMs: 2 * 60_000 },
  aurora: { firstMs: 5 * 60_000, intervalMs: 30_000, maxIntervalMs: 2 * 60_000 },
  // Tasks drain from their load balancer (300 s deregistration delay by default) or start.
  ecs: { firstMs: 30_000, intervalMs: 15_000, maxIntervalMs: 60_000 },
  // A stack creates or deletes every resource in it.
  stack: { firstMs: 2 * 60_000, intervalMs: 30_000, maxIntervalMs: 2 * 60_000 },
};

/**
 * The sandbox provider: a simulated fleet of EC2-like instances, ASG-like groups,
 * RDS-like databases and ECS-like services, persisted in the store so a demo
 * survives a restart. Resources pass through realistic transitional states with
 * per-kind delays; latency, permanent failures, throttling and resources that
 * never settle can be injected; every call is counted. The demo, previews and the
 * engine's tests use it; environments select it by tags exactly as AWS resources.
 */
import type { Kysely } from 'kysely';
import pLimit from 'p-limit';
import type { PowerState, Selector } from '../../core/glossary.js';
import { matches } from '../../core/selection.js';
import type { TierCost } from '../../core/ready-by.js';
import type { BucketRate } from '../../core/token-bucket.js';
import { MemoryBuckets } from '../../core/token-bucket.js';
import { beforeSending } from '../../engine/act-gate.js';
import type { ActOutcome, Clock, Observed, Provider, Resource } from '../../engine/ports.js';
import type { Database, SandboxResourceRow } from '../../store/schema.js';

export const SANDBOX_KINDS = ['ec2', 'asg', 'rds', 'ecs'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

/** Seconds each kind takes to settle, in the order of magnitude AWS takes. */
const SETTLE_MS: Partial<Record<string, { start: number; stop: number }>> = {
  ec2: { start: 30_000, stop: 45_000 },
  asg: { start: 90_000, stop: 60_000 },
  rds: { start: 300_000, stop: 240_000 },
  ecs: { start: 45_000, stop: 30_000 },
};

const DEFAULT_SETTLE = { start: 30_000, stop: 30_000 };

/** Resources per call, as the matching AWS APIs take them: EC2 many ids, the rest one. */
const BATCH_SIZE: Partial<Record<string, number>> = { ec2: 50, asg: 1, rds: 1, ecs: 1 };

export interface SandboxSeed {
  readonly kind: SandboxKind;
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly state?: PowerState;
  /** asg and ecs: instances or tasks when on (default 2). */
  readonly capacity?: number | undefined;
  /** The instance type (or class) it stands for: its size in the inventory. */
  readonly type?: string | undefined;
}

export type Fault =
  | { readonly kind: 'fail'; readonly reason: string }
  | { readonly kind: 'throttle'; readonly times: number }
  | { readonly kind: 'stuck' };

export interface SandboxOptions {
  /** Simulated API latency per call. */
  readonly latencyMs?: number;
  /** Scales every settle delay (0 settles at once). */
  readonly settleScale?: number;
  /** Calls in flight at once. */
  readonly concurrency?: number;
  /**
   * EC2 starts wait for a token per instance from this bucket, like EC2's
   * StartInstances resource bucket; with it, the provider tells the engine what
   * starts cost (`actCost`), so large starts are planned ready by their instant.
   */
  readonly startBucket?: BucketRate;
}

const START_BUCKET = 'sandbox|ec2:start';

/** What sandbox starts cost with a start bucket: a token per EC2 instance; each kind's settle time. */
export function sandboxActCost(
  bucket: BucketRate,
  settleScale = 1,
): (resources: readonly Resource[], target: PowerState) => TierCost {
  return (resources, target) => {
    const ec2 = resources.filter((r) => r.kind === 'ec2').length;
    const phase = target === 'on' ? 'start' : 'stop';
    const settles = resources.map(
      (r) => (SETTLE_MS[r.kind] ?? DEFAULT_SETTLE)[phase] * settleScale,
    );
    return {
      takes:
        target === 'on' && ec2 > 0 ? [{ bucket: START_BUCKET, rate: bucket, tokens: ec2 }] : [],
      settleMs: Math.max(0, ...settles),
    };
  };
}

export function sandboxId(kind: string, name: string): string {
  return `sandbox:${kind}:${name}`;
}

export class SandboxProvider implements Provider {
  readonly name = 'sandbox';
  /** Calls made, by operation: what a benchmark compares with the minimum. */
  readonly calls = { discover: 0, observe: 0, act: 0 };
  /** Like RDS, a sandbox database may start by itself (see setStateByHand). */
  readonly restartsByItself = ['rds'];
  private readonly faults = new Map<string, Fault>();
  private inventoryLoad: Promise<Inventory> | undefined;
  private readonly limit;
  private readonly buckets = new MemoryBuckets();
  /** What a start or stop costs (only with a start bucket: otherwise starts begin at their instant). */
  readonly actCost?: (resources: readonly Resource[], target: PowerState) => TierCost;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: SandboxOptions = {},
  ) {
    this.limit = pLimit(options.concurrency ?? 32);
    if (options.startBucket !== undefined)
      this.actCost = sandboxActCost(options.startBucket, options.settleScale ?? 1);
  }

  /** Waits for a start's tokens in the start bucket, if there is one. */
  private async startTokens(batch: readonly Resource[]): Promise<void> {
    const bucket = this.options.startBucket;
    const n = batch.filter((r) => r.kind === 'ec2').length;
    if (bucket === undefined || n === 0) return;
    for (;;) {
      const wait = await this.buckets.take(START_BUCKET, bucket, n, this.clock.now());
      if (wait === 0) return;
      await this.clock.sleep(wait);
    }
  }

  /** Adds resources that do not exist yet; existing ones keep their state (and take the seed's type). */
  async seed(seeds: readonly SandboxSeed[]): Promise<void> {
    this.inventoryLoad = undefined;
    const now = this.clock.now();
    for (let i = 0; i < seeds.length; i += 500) {
      await this.db
        .insertInto('sandbox_resources')
        .values(
          seeds.slice(i, i + 500).map((s) => {
            const on = (s.state ?? 'on') === 'on';
            const capacity = s.kind === 'asg' || s.kind === 'ecs' ? (s.capacity ?? 2) : 1;
            return {
              id: sandboxId(s.kind, s.name),
              kind: s.kind,
              name: s.name,
              tags: JSON.stringify(s.tags ?? {}),
              state: on ? ('on' as const) : ('off' as const),
              capacity: on ? capacity : 0,
              on_capacity: capacity,
              settles_at: null,
              type: s.type ?? null,
              updated_at: now,
            };
          }),
        )
        // An existing resource keeps its state; its type follows the config.
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({ type: eb.ref('excluded.type') })),
        )
        .execute();
    }
  }

  /** Injects a fault for a resource (by name); `undefined` clears it. */
  inject(name: string, fault: Fault | undefined): void {
    if (fault === undefined) this.faults.delete(name);
    else this.faults.set(name, fault);
  }

  /** Changes a resource's state behind lightsout's back (a person at the console). */
  async setStateByHand(name: string, state: PowerState): Promise<void> {
    const row = await this.db
      .selectFrom('sandbox_resources')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    await this.db
      .updateTable('sandbox_resources')
      .set({
        state,
        capacity: state === 'on' ? row.on_capacity : 0,
        settles_at: null,
        updated_at: this.clock.now(),
      })
      .where('id', '=', row.id)
      .execute();
  }

  async discover(selector: Selector): Promise<Resource[]> {
    await this.call('discover');
    const inventory = await this.inventory();
    // Narrow by one tag through the index, then check the whole selector.
    const [first] = Object.entries(selector.tags ?? {});
    const candidates =
      first === undefined ? inventory.all : (inventory.byTag.get(tagKey(...first)) ?? []);
    return candidates.filter((r) => matches(selector, r));
  }

  /**
   * What the fleet holds never changes while it runs (only states do), so it is
   * read once and indexed by tag: discovery for 100 environments of 100 resources
   * would otherwise read the whole table 200 times.
   */
  private inventory(): Promise<Inventory> {
    this.inventoryLoad ??= (async () => {
      const rows = await this.db
        .selectFrom('sandbox_resources')
        .selectAll()
        .orderBy('id')
        .execute();
      const all = rows.map(toResource);
      const byTag = new Map<string, Resource[]>();
      for (const r of all) {
        for (const [key, value] of Object.entries(r.tags)) {
          const list = byTag.get(tagKey(key, value));
          if (list === undefined) byTag.set(tagKey(key, value), [r]);
          else list.push(r);
        }
      }
      return { all, byTag };
    })();
    return this.inventoryLoad;
  }

  async observe(resources: readonly Resource[]): Promise<Map<string, Observed>> {
    const states = new Map<string, Observed>();
    for (const batch of chunks(
      resources.map((r) => r.id),
      500,
    )) {
      await this.call('observe');
      const rows = await this.db
        .selectFrom('sandbox_resources')
        .selectAll()
        .where('id', 'in', batch)
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of batch) {
        const row = byId.get(id);
        states.set(id, row === undefined ? 'missing' : await this.settle(row));
      }
    }
    return states;
  }

  async act(resources: readonly Resource[], target: PowerState): Promise<ActOutcome[]> {
    const byKind = new Map<string, Resource[]>();
    for (const r of resources) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
    const batches = [...byKind].flatMap(([kind, list]) => chunks(list, BATCH_SIZE[kind] ?? 1));
    const results = await Promise.all(
      batches.map((batch) => this.limit(() => this.actOnBatch(batch, target))),
    );
    return results.flat();
  }

  /** Services scale out to twice their usual capacity, taking as long as a start. */
  readonly boostKinds = ['ecs'];

  async boost(resources: readonly Resource[], phase: 'begin' | 'end'): Promise<ActOutcome[]> {
    const outcomes: ActOutcome[] = [];
    for (const resource of resources) {
      await this.call('act');
      const fault = this.faults.get(resource.name);
      const row = await this.db
        .selectFrom('sandbox_resources')
        .selectAll()
        .where('id', '=', resource.id)
        .executeTakeFirst();
      const state = row === undefined ? 'missing' : await this.settle(row);
      if (fault?.kind === 'fail' || row === undefined || state !== 'on') {
        const reason =
          fault?.kind === 'fail' ? fault.reason : `${resource.name} is ${state}, not running`;
        outcomes.push({ id: resource.id, result: 'failed', reason });
        continue;
      }
      const now = this.clock.now();
      const settle =
        (SETTLE_MS[row.kind] ?? DEFAULT_SETTLE).start * (this.options.settleScale ?? 1);
      await this.db
        .updateTable('sandbox_resources')
        .set(
          phase === 'begin'
            ? {
                state: 'starting',
                capacity: 2 * row.on_capacity,
                settles_at: now + settle,
                updated_at: now,
              }
            : { capacity: row.on_capacity, updated_at: now },
        )
        .where('id', '=', row.id)
        .execute();
      outcomes.push({ id: resource.id, result: 'accepted' });
    }
    return outcomes;
  }

  /** Current capacities by name (asg instances, ecs tasks): what a boost test looks at. */
  async capacities(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('sandbox_resources')
      .select(['name', 'capacity'])
      .execute();
    return Object.fromEntries(rows.map((r) => [r.name, r.capacity]));
  }

  settleTimeoutMs(kind: string): number {
    const settle = SETTLE_MS[kind] ?? DEFAULT_SETTLE;
    return Math.max(
      60_000,
      3 * Math.max(settle.start, settle.stop) * (this.options.settleScale ?? 1),
    );
  }

  private async actOnBatch(batch: readonly Resource[], target: PowerState): Promise<ActOutcome[]> {
    if (target === 'on' && this.options.startBucket !== undefined) {
      await this.startTokens(batch);
      // After the wait, the run acting is asked again (act-gate.ts).
      await beforeSending();
    }
    await this.call('act');
    const now = this.clock.now();
    const outcomes: ActOutcome[] = [];
    const rows = await this.db
      .selectFrom('sandbox_resources')
      .selectAll()
      .where(
        'id',
        'in',
        batch.map((r) => r.id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const resource of batch) {
      const fault = this.faults.get(resource.name);
      if (fault?.kind === 'fail') {
        outcomes.push({ id: resource.id, result: 'failed', reason: fault.reason });
        continue;
      }
      if (fault?.kind === 'throttle' && fault.times > 0) {
        this.faults.set(resource.name, { kind: 'throttle', times: fault.times - 1 });
        outcomes.push({
          id: resource.id,
          result: 'transient',
          reason: 'ThrottlingException: Rate exceeded',
        });
        continue;
      }
      const row = byId.get(resource.id);
      if (row === undefined) {
        outcomes.push({
          id: resource.id,
          result: 'failed',
          reason: `${resource.id} does not exist`,
        });
        continue;
      }
      const state = await this.settle(row);
      if (state === target || state === (target === 'on' ? 'starting' : 'stopping')) {
        outcomes.push({ id: resource.id, result: 'already' });
        continue;
      }
      if (state === 'starting' || state === 'stopping') {
        outcomes.push({
          id: resource.id,
          result: 'transient',
          reason: `IncorrectState: ${resource.name} is ${state}`,
        });
        continue;
      }
      const settle = SETTLE_MS[row.kind] ?? DEFAULT_SETTLE;
      const delay =
        (target === 'on' ? settle.start : settle.stop) * (this.options.settleScale ?? 1);
      await this.db
        .updateTable('sandbox_resources')
        .set({
          state: target === 'on' ? 'starting' : 'stopping',
          capacity: target === 'on' ? row.on_capacity : 0,
          settles_at: fault?.kind === 'stuck' ? Number.MAX_SAFE_INTEGER : now + delay,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      outcomes.push({ id: resource.id, result: 'accepted' });
    }
    return outcomes;
  }

  /** A transitional state that has run its time becomes settled. */
  private async settle(row: SandboxResourceRow): Promise<Observed> {
    if (row.settles_at === null || row.settles_at > this.clock.now()) return row.state;
    const state = row.state === 'starting' ? 'on' : row.state === 'stopping' ? 'off' : row.state;
    await this.db
      .updateTable('sandbox_resources')
      .set({ state, settles_at: null, updated_at: this.clock.now() })
      .where('id', '=', row.id)
      .execute();
    return state;
  }

  private async call(operation: keyof SandboxProvider['calls']): Promise<void> {
    this.calls[operation]++;
    const latency = this.options.latencyMs ?? 0;
    if (latency > 0) await this.clock.sleep(latency);
  }
}

interface Inventory {
  readonly all: readonly Resource[];
  readonly byTag: ReadonlyMap<string, readonly Resource[]>;
}

function tagKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function toResource(row: SandboxResourceRow): Resource {
  // asg and ecs run `on_capacity` instances or tasks when on, whatever their state now.
  const count = row.kind === 'asg' || row.kind === 'ecs' ? row.on_capacity : undefined;
  const size = {
    ...(row.type === null ? {} : { type: row.type }),
    ...(count === undefined ? {} : { count }),
  };
  return {
    id: row.id,
    provider: 'sandbox',
    kind: row.kind,
    name: row.name,
    tags: JSON.parse(row.tags) as Record<string, string>,
    ...(Object.keys(size).length === 0 ? {} : { size }),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

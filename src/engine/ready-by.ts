/**
 * Starts that are ready *by* their instant: for every environment whose next start
 * falls within the horizon, what it asks of the account's token buckets (from the
 * inventory, through each provider's `actCost`), and when it must begin so that it
 * and the starts sharing its buckets are all running on time (core/ready-by.ts).
 *
 * The pass begins a start at its `beginAt` (pass.ts); the run is wanted as long as
 * the plan is on at its instant and no hold keeps the environment off now
 * (changes.ts `whyUnwanted`), which the runner asks again before every tier and
 * every batch of a tier.
 */
import type { Environment, Instant, PowerState } from '../core/glossary.js';
import type { Timeline } from '../core/planner.js';
import type { StartPlan, TierCost } from '../core/ready-by.js';
import { planStarts } from '../core/ready-by.js';
import { matches } from '../core/selection.js';
import type { Store } from '../store/store.js';
import type { StoredResource } from '../store/queries/resources.js';
import type { EngineContext } from './context.js';
import { HOUR } from './context.js';
import type { Provider, Resource } from './ports.js';

/**
 * How far ahead starts are planned. A start that would need to begin earlier than
 * this (tens of thousands of instances in one account) begins this early and is
 * late; `lightsout plan` says so.
 */
export const READY_BY_HORIZON_MS = 12 * HOUR;
/**
 * A pass reuses each environment's start costs (read from the inventory) until a
 * run of it was committed or ended (only runs discover, so only they change what
 * the inventory holds), and at most this long.
 */
const RECOST_MS = 10 * 60_000;
/** Above this many environments to cost, the whole inventory is read in one query. */
const ONE_QUERY_ABOVE = 50;

/** Each environment's start costs and when they were read, per engine context. */
interface CostEntry {
  readonly at: Instant;
  readonly version: string;
  readonly tiers: TierCost[];
}

const costCache = new WeakMap<EngineContext, Map<string, CostEntry>>();

/** The environments whose starts are planned early: a provider of theirs says what starts cost. */
export function costedEnvironments(ctx: EngineContext): Environment[] {
  return [...ctx.environments.values()].filter((e) => hasCostedProvider(ctx.providers, e));
}

/**
 * The start plans a pass acts on, from its own timelines (which reach the horizon
 * for the environments planned early) and the start costs of those whose next
 * start falls within it, read from the inventory again only when a run of the
 * environment may have changed it.
 */
export async function startPlans(
  ctx: EngineContext,
  costed: readonly Environment[],
  timelines: ReadonlyMap<string, Timeline>,
  now: Instant,
  /** What the environment's runs are up to (its applied sequences and open runs): a change means a run may have discovered. */
  versionOf: (environment: string) => string,
): Promise<ReadonlyMap<string, StartPlan>> {
  const upcoming = costed.flatMap((environment) => {
    const timeline = timelines.get(environment.name);
    const readyBy = timeline === undefined ? undefined : nextStart(timeline, now);
    return readyBy === undefined ? [] : [{ environment, timeline: timeline!, readyBy }];
  });
  if (upcoming.length === 0) return new Map();
  const costs = await costsOf(
    ctx,
    upcoming.map((u) => u.environment),
    now,
    versionOf,
  );
  return planStarts(
    upcoming.map(({ environment, timeline, readyBy }) => ({
      environment: environment.name,
      readyBy,
      tiers: costs.get(environment.name) ?? [],
      notBefore: heldOffUntil(timeline, readyBy),
    })),
  );
}

/** The start costs of `environments`, read from the inventory again only when it may have changed. */
async function costsOf(
  ctx: EngineContext,
  environments: readonly Environment[],
  now: Instant,
  versionOf: (environment: string) => string,
): Promise<ReadonlyMap<string, TierCost[]>> {
  const cache = costCache.get(ctx) ?? new Map<string, CostEntry>();
  costCache.set(ctx, cache);
  const stale = environments.filter((e) => {
    const entry = cache.get(e.name);
    return (
      entry === undefined ||
      entry.version !== versionOf(e.name) ||
      now < entry.at ||
      now - entry.at >= RECOST_MS
    );
  });
  if (stale.length > 0)
    for (const [name, tiers] of await startCosts(ctx, stale))
      cache.set(name, { at: now, version: versionOf(name), tiers });
  return new Map(environments.map((e) => [e.name, cache.get(e.name)!.tiers]));
}

async function startCosts(
  ctx: EngineContext,
  environments: readonly Environment[],
): Promise<Map<string, TierCost[]>> {
  const inventory = await inventoryOf(ctx.store, environments);
  return new Map(
    environments.map((e) => [
      e.name,
      tierCosts(ctx.providers, e, inventory.get(e.name) ?? [], 'on'),
    ]),
  );
}

/** The next instant the plan turns on after `now`, if any within the timeline's window. */
export function nextStart(timeline: Timeline, now: Instant): Instant | undefined {
  return timeline.plan().transitions.find((t) => t.state === 'on' && t.at > now)?.at;
}

/** The end of the last hold-off before `at`: no early start begins inside it. */
export function heldOffUntil(timeline: Timeline, at: Instant): Instant {
  let until = Number.NEGATIVE_INFINITY;
  for (const interval of timeline.heldOff) if (interval.end <= at) until = interval.end;
  return until;
}

/**
 * Each tier's cost to move its resources (those the inventory holds) to `target`,
 * tiers in start order: the providers' costs of the tier's resources, added up.
 */
export function tierCosts(
  providers: ReadonlyMap<string, Pick<Provider, 'actCost'>>,
  environment: Environment,
  resources: readonly Resource[],
  target: PowerState,
): TierCost[] {
  const tiers = environment.tiers ?? [];
  const byTier = tiers.map(() => new Map<string, Resource[]>());
  for (const resource of resources) {
    const index = tiers.findIndex((t) => t.select.some((s) => matches(s, resource)));
    if (index < 0) continue;
    const group = byTier[index]!.get(resource.provider) ?? [];
    group.push(resource);
    byTier[index]!.set(resource.provider, group);
  }
  return byTier.map((groups) => {
    const costs = [...groups].flatMap(([name, list]) => {
      const cost = providers.get(name)?.actCost?.(list, target);
      return cost === undefined ? [] : [cost];
    });
    return {
      takes: costs.flatMap((c) => c.takes),
      settleMs: Math.max(0, ...costs.map((c) => c.settleMs)),
    };
  });
}

/** Whether a provider of the environment says what its starts cost: only then is its start planned early. */
export function hasCostedProvider(
  providers: ReadonlyMap<string, Pick<Provider, 'actCost'>>,
  environment: Environment,
): boolean {
  return (environment.tiers ?? []).some((t) =>
    t.select.some((s) => providers.get(s.provider)?.actCost !== undefined),
  );
}

async function inventoryOf(
  store: Store,
  environments: readonly Environment[],
): Promise<Map<string, StoredResource[]>> {
  const rows =
    environments.length > ONE_QUERY_ABOVE
      ? await store.listResources()
      : (await Promise.all(environments.map((e) => store.listResources(e.name)))).flat();
  const byEnvironment = new Map<string, StoredResource[]>();
  for (const row of rows) {
    if (row.environment === null) continue;
    const list = byEnvironment.get(row.environment) ?? [];
    list.push(row);
    byEnvironment.set(row.environment, list);
  }
  return byEnvironment;
}

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
import { planFleet } from '../core/planner.js';
import type { StartDemand, StartPlan, TierCost } from '../core/ready-by.js';
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
/** A pass reuses the plan this long: it reads the inventory of every environment it plans. */
const REPLAN_MS = 60_000;
/** Above this many environments to plan, the whole inventory is read in one query. */
const ONE_QUERY_ABOVE = 50;

export interface PlanningParts {
  readonly store: Store;
  readonly schedules: EngineContext['schedules'];
  readonly providers: ReadonlyMap<string, Pick<Provider, 'actCost'>>;
}

const cache = new WeakMap<EngineContext, { at: Instant; plans: ReadonlyMap<string, StartPlan> }>();

/** The start plans a pass acts on: computed at most once a minute (and again when the clock ran back). */
export async function startPlans(
  ctx: EngineContext,
  now: Instant,
): Promise<ReadonlyMap<string, StartPlan>> {
  const cached = cache.get(ctx);
  if (cached !== undefined && now >= cached.at && now - cached.at < REPLAN_MS) return cached.plans;
  const plans = await planReadyBy(ctx, [...ctx.environments.values()], now);
  cache.set(ctx, { at: now, plans });
  return plans;
}

/** Forgets the cached plan (a test or a config reload that changed the inventory's meaning). */
export function replanStarts(ctx: EngineContext): void {
  cache.delete(ctx);
}

/** The start plans of `environments` whose next start falls within the horizon from `now`. */
export async function planReadyBy(
  parts: PlanningParts,
  environments: readonly Environment[],
  now: Instant,
  horizonMs = READY_BY_HORIZON_MS,
): Promise<Map<string, StartPlan>> {
  const costed = environments.filter((e) => hasCostedProvider(parts.providers, e));
  if (costed.length === 0) return new Map();
  const window = { start: now, end: now + horizonMs };
  const { reservations, holds } = await parts.store.activePlans(window.start, {
    until: window.end,
    environments: costed.map((e) => e.name),
  });
  const timelines = planFleet(
    { schedules: parts.schedules, environments: costed, reservations, holds },
    window,
  );
  const inventory = await inventoryOf(parts.store, costed);
  const demands: StartDemand[] = [];
  for (const environment of costed) {
    const timeline = timelines.get(environment.name)!;
    const readyBy = nextStart(timeline, now);
    if (readyBy === undefined) continue;
    const resources = inventory.get(environment.name) ?? [];
    demands.push({
      environment: environment.name,
      readyBy,
      tiers: tierCosts(parts.providers, environment, resources, 'on'),
      notBefore: Math.max(now, heldOffUntil(timeline, readyBy)),
    });
  }
  return planStarts(demands);
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

/**
 * `lightsout plan`'s account of large starts and stops: when each start begins to
 * be running by its instant (and why: the bucket it waits for, the starts sharing
 * it, the tiers' times to come up), how long each stop takes, and warnings when a
 * schedule cannot be met with the account's limits. Sized from the store's
 * inventory; the same planning as the engine's (src/engine/ready-by.ts).
 */
import type { Environment, Instant, Interval } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import type { Timeline } from '../core/planner.js';
import type { StartDemand, StartPlan, TierCost } from '../core/ready-by.js';
import { planStarts } from '../core/ready-by.js';
import { durationText } from '../core/time-text.js';
import { MemoryBuckets } from '../core/token-bucket.js';
import type { LoadedConfig } from '../config/load.js';
import { SystemClock } from '../engine/clock.js';
import type { Provider, Resource } from '../engine/ports.js';
import { hasCostedProvider, heldOffUntil, tierCosts } from '../engine/ready-by.js';
import { AwsProvider } from '../providers/aws/aws.js';
import { AwsLimiter } from '../providers/aws/buckets.js';
import { sandboxActCost } from '../providers/sandbox/sandbox.js';
import { storedInventory } from './inventory.js';

export interface PlannedStart {
  readonly at: Instant;
  readonly plan: StartPlan;
  /** Other environments whose starts ask for the same bucket's tokens just before or after it. */
  readonly sharedWith: readonly string[];
}

export interface PlannedStop {
  readonly at: Instant;
  readonly takesMs: number;
}

export interface ReadyByReport {
  readonly resources: number;
  readonly starts: readonly PlannedStart[];
  readonly stops: readonly PlannedStop[];
  readonly warnings: readonly string[];
}

/** What `plan` knows of starts: a report per environment whose providers cost starts, or why none. */
export type ReadyByReports =
  | { readonly kind: 'none' }
  | { readonly kind: 'no-inventory'; readonly environments: readonly string[] }
  | { readonly kind: 'reports'; readonly reports: ReadonlyMap<string, ReadyByReport> };

/** The providers' start and stop costs as `serve` would know them, without calling any cloud. */
export function planningProviders(
  config: LoadedConfig,
): ReadonlyMap<string, Pick<Provider, 'actCost'>> {
  const clock = new SystemClock();
  const aws = new AwsProvider({
    limiter: new AwsLimiter(new MemoryBuckets(), clock, config.document.aws),
  });
  const bucket = config.document.sandbox?.start_bucket;
  return new Map<string, Pick<Provider, 'actCost'>>([
    ['aws', aws],
    ...(bucket === undefined ? [] : [['sandbox', { actCost: sandboxActCost(bucket) }] as const]),
  ]);
}

/**
 * Reports for the `selected` environments over `window`. Every environment of the
 * config is planned, so that a start sharing a bucket with one not selected still
 * leaves it its share.
 */
export async function readyByReports(
  config: LoadedConfig,
  selected: readonly Environment[],
  window: Interval,
  db: string,
): Promise<ReadyByReports> {
  const providers = planningProviders(config);
  const costed = config.fleet.environments.filter((e) => hasCostedProvider(providers, e));
  const reported = selected.filter((e) => hasCostedProvider(providers, e));
  if (reported.length === 0) return { kind: 'none' };
  const inventory = await storedInventory(db);
  if (inventory === undefined)
    return { kind: 'no-inventory', environments: reported.map((e) => e.name) };
  const timelines = planFleet(config.fleet, window, new Set(costed.map((e) => e.name)));
  const costs = new Map(
    costed.map((e) => {
      const resources = inventory.get(e.name) ?? [];
      return [e.name, costsOf(providers, e, resources)] as const;
    }),
  );
  const demands: StartDemand[] = [];
  const keys = new Map<string, { environment: string; at: Instant }>();
  for (const environment of costed) {
    const timeline = timelines.get(environment.name)!;
    for (const t of timeline.plan().transitions) {
      if (t.state !== 'on') continue;
      const key = `${environment.name}@${t.at}`;
      keys.set(key, { environment: environment.name, at: t.at });
      demands.push({
        environment: key,
        readyBy: t.at,
        tiers: costs.get(environment.name)!.start,
        notBefore: heldOffUntil(timeline, t.at),
      });
    }
  }
  const plans = planStarts(demands);
  const byEnvironment = new Map<string, StartPlan[]>();
  for (const [key, plan] of plans) {
    const name = keys.get(key)!.environment;
    byEnvironment.set(name, [...(byEnvironment.get(name) ?? []), plan]);
  }
  const reports = new Map<string, ReadyByReport>();
  for (const environment of reported) {
    const timeline = timelines.get(environment.name)!;
    const starts = (byEnvironment.get(environment.name) ?? []).map((plan) => ({
      at: plan.readyBy,
      plan,
      // Neighbours in the bucket's queue, by name (other days of its own are not sharing).
      sharedWith: [
        ...new Set(
          (plan.bucket?.sharedWith ?? [])
            .map((key) => keys.get(key)!.environment)
            .filter((name) => name !== environment.name),
        ),
      ],
    }));
    const stopMs = durationOf(costs.get(environment.name)!.stop);
    const stops = timeline
      .plan()
      .transitions.filter((t) => t.state === 'off')
      .map((t) => ({ at: t.at, takesMs: stopMs }));
    reports.set(environment.name, {
      resources: inventory.get(environment.name)?.length ?? 0,
      starts,
      stops,
      warnings: warningsOf(environment, timeline, starts, stops),
    });
  }
  return { kind: 'reports', reports };
}

function costsOf(
  providers: ReadonlyMap<string, Pick<Provider, 'actCost'>>,
  environment: Environment,
  resources: readonly Resource[],
): { start: TierCost[]; stop: TierCost[] } {
  return {
    start: tierCosts(providers, environment, resources, 'on'),
    // A stop goes through the tiers in reverse.
    stop: tierCosts(providers, environment, resources, 'off').reverse(),
  };
}

/** How long moving every tier takes, one after another, from a full bucket. */
function durationOf(tiers: readonly TierCost[]): number {
  return planStarts([{ environment: '', readyBy: 0, tiers }]).get('')!.leadMs;
}

function warningsOf(
  environment: Environment,
  timeline: Timeline,
  starts: readonly PlannedStart[],
  stops: readonly PlannedStop[],
): string[] {
  const warnings: string[] = [];
  const transitions = timeline.plan().transitions;
  const at = (t: Instant) => new Date(t).toISOString();
  for (const { plan } of starts) {
    if (plan.lateUntil !== undefined)
      warnings.push(
        `the start at ${at(plan.readyBy)} needs ${durationText(plan.leadMs)}, but a hold keeps ${environment.name} off until ${at(plan.beginAt)}: expect it running at about ${at(plan.lateUntil)}`,
      );
    const beginsAt = plan.readyBy - plan.leadMs;
    const stopBefore = transitions.filter((t) => t.state === 'off' && t.at < plan.readyBy).at(-1);
    if (stopBefore !== undefined && beginsAt < stopBefore.at)
      warnings.push(
        `the stop at ${at(stopBefore.at)} is left out: the start for ${at(plan.readyBy)} must begin at ${at(beginsAt)}, before it (it needs ${durationText(plan.leadMs)})`,
      );
    const stopAfter = transitions.find((t) => t.state === 'off' && t.at > plan.readyBy);
    if (stopAfter !== undefined && stopAfter.at - plan.readyBy < plan.leadMs)
      warnings.push(
        `${environment.name} is on for ${durationText(stopAfter.at - plan.readyBy)} from ${at(plan.readyBy)}, but starting it takes ${durationText(plan.leadMs)} with the account's limits`,
      );
  }
  for (const stop of stops) {
    const next = starts.find((s) => s.at > stop.at);
    if (next === undefined) continue;
    const begins = next.plan.readyBy - next.plan.leadMs;
    if (begins >= stop.at && stop.at + stop.takesMs > begins)
      warnings.push(
        `the stop at ${at(stop.at)} takes ${durationText(stop.takesMs)} and is still under way when the start for ${at(next.at)} must begin (${at(begins)})`,
      );
  }
  return warnings;
}

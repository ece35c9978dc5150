/**
 * What the engine watches between changes of plan, from the applied state (never
 * from run history):
 * - `enforce` mode: resources found settled in the wrong state get a run that
 *   corrects them;
 * - `transitions` mode, while an environment should be off and lightsout stopped
 *   it: resources of kinds that start by themselves (AWS restarts a database
 *   stopped for 7 days) are looked at every `watchMs` and stopped again.
 * Both leave alone the resources reserved alone, which keep their own plan.
 */
import type { Environment, Instant, Selector } from '../core/glossary.js';
import type { Timeline } from '../core/planner.js';
import type { Applied } from '../store/queries/applied.js';
import { v7 as uuidv7 } from 'uuid';
import { commitRun } from './changes.js';
import type { EngineContext } from './context.js';
import { directionOf } from './context.js';
import { restartedAlert } from './notice-bodies.js';
import { addNotices } from './notices.js';
import type { Resource } from './ports.js';

/** When each environment's self-restarting resources were last looked at, per engine context. */
const watched = new WeakMap<EngineContext, Map<string, Instant>>();

export async function watch(
  ctx: EngineContext,
  environment: Environment,
  timeline: Timeline,
  applied: Applied | undefined,
  now: Instant,
  /**
   * Resources with a plan of their own: reserved alone in the window, or with an
   * applied state of their own still (a reservation deleted, its stop not yet due).
   */
  ownPlans: ReadonlySet<string> = new Set(timeline.resourceOn.keys()),
): Promise<void> {
  // Only a target at rest: its last run reached the state (or nothing was asked yet).
  if (applied === undefined || applied.state === 'follow' || applied.failures > 0) return;
  const desired = timeline.stateAt(now);
  if (applied.state !== desired) return;
  if (environment.mode === 'enforce')
    await enforce(ctx, environment, timeline, applied, now, ownPlans);
  else if (desired === 'off' && applied.run_id !== null)
    await watchWhileOff(ctx, environment, applied, now, ownPlans);
}

async function enforce(
  ctx: EngineContext,
  environment: Environment,
  timeline: Timeline,
  applied: Applied,
  now: Instant,
  ownPlans: ReadonlySet<string>,
): Promise<void> {
  const desired = applied.state === 'on' ? 'on' : 'off';
  const reserved = new Set(timeline.keptOnAt(now));
  const wrong = (
    await foundIn(ctx, environment, desired === 'on' ? ['off'] : ['on'], (selector) => selector)
  )
    .map((r) => r.id)
    .filter((id) => !reserved.has(id) && !ownPlans.has(id));
  if (wrong.length === 0) return;
  await commitRun(ctx, {
    environment,
    target: '',
    direction: directionOf(desired),
    expected: applied,
    dueAt: now,
    actAt: now,
    trigger: 'enforce',
    actor: 'scheduler',
    events: [
      {
        at: now,
        actor: 'scheduler',
        kind: 'drift.detected',
        environment: environment.name,
        payload: { desired, resources: wrong },
      },
    ],
  });
}

async function watchWhileOff(
  ctx: EngineContext,
  environment: Environment,
  applied: Applied,
  now: Instant,
  ownPlans: ReadonlySet<string>,
): Promise<void> {
  const seen = watched.get(ctx) ?? new Map<string, Instant>();
  watched.set(ctx, seen);
  if ((seen.get(environment.name) ?? -Infinity) > now - ctx.watchMs) return;
  seen.set(environment.name, now);
  const restarted = (
    await foundIn(ctx, environment, ['on', 'starting'], (selector) => {
      const kinds = ctx.providers.get(selector.provider)?.restartsByItself ?? [];
      const kept = (selector.kinds ?? kinds).filter((k: string) => kinds.includes(k));
      return kept.length === 0 ? undefined : { ...selector, kinds: kept };
    })
  ).filter((r) => !ownPlans.has(r.id));
  if (restarted.length === 0) return;
  // Being stopped again already (another replica's watch saw it first): one run, one alert.
  const last = await ctx.store.getRun(applied.run_id!);
  if (last?.trigger === 'auto-restart' && (last.status === 'grace' || last.status === 'acting'))
    return;
  const id = uuidv7();
  const ids = restarted.map((r) => r.id);
  // A database that started by itself is stopped alone, at once: it was off already. The
  // alert is recorded with its run, so it goes once per restart, never once per pass.
  await commitRun(ctx, {
    id,
    before: (tx) =>
      addNotices(
        tx,
        environment,
        {
          runId: id,
          kind: 'resource-restarted',
          environment: environment.name,
          team: environment.team ?? null,
          body: restartedAlert(environment, restarted),
        },
        now,
      ),
    environment,
    target: '',
    direction: 'stop',
    expected: applied,
    dueAt: now,
    actAt: now,
    trigger: 'auto-restart',
    actor: 'scheduler',
    scope: ids,
    events: [
      {
        at: now,
        actor: 'scheduler',
        kind: 'resource.restarted-by-itself',
        environment: environment.name,
        payload: { desired: 'off', resources: ids },
      },
    ],
  });
}

/** The environment's resources observed in one of `states`, through narrowed selectors. */
async function foundIn(
  ctx: EngineContext,
  environment: Environment,
  states: readonly string[],
  narrow: (selector: Selector) => Selector | undefined,
): Promise<Resource[]> {
  const resources = (
    await Promise.all(
      (environment.tiers ?? []).flatMap((tier) =>
        tier.select.map(async (selector) => {
          const provider = ctx.providers.get(selector.provider);
          const narrowed = narrow(selector);
          return provider === undefined || narrowed === undefined
            ? []
            : provider.discover(narrowed);
        }),
      ),
    )
  ).flat();
  const byProvider = new Map<string, typeof resources>();
  for (const r of resources) byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r]);
  const found: Resource[] = [];
  for (const [name, group] of byProvider) {
    const observed = await ctx.providers.get(name)!.observe(group);
    for (const r of group) {
      const state = observed.get(r.id);
      if (typeof state === 'string' && states.includes(state)) found.push(r);
    }
  }
  return found;
}

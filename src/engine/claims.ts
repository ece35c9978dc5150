/**
 * A resource two environments claim at once (overlapping AWS selectors, say) is
 * refused by the one that did not have it, with an event naming both, never
 * moved silently from one to the other. A resource whose tags moved it (the other
 * environment no longer finds it) simply changes hands.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { Store } from '../store/store.js';
import type { EngineContext } from './context.js';
import type { Resource } from './ports.js';

/**
 * Records what a run discovered in the inventory, and returns the ids among
 * `found` that another configured environment holds and still discovers.
 */
export async function claimedElsewhere(
  ctx: EngineContext,
  environment: Environment,
  found: readonly Resource[],
  runId: string,
  now: Instant,
  /** The store as the run uses it (its writes batched with other runs', see step-batches.ts). */
  store: Pick<
    Store,
    'recordDiscovered' | 'ownersOf' | 'appendEvents' | 'moveResources'
  > = ctx.store,
): Promise<Set<string>> {
  if (found.length === 0) return new Set();
  await store.recordDiscovered(environment.name, found, now);
  const owners = await store.ownersOf(found.map((r) => r.id));
  const byOther = new Map<string, string[]>();
  for (const [id, owner] of owners)
    if (owner !== environment.name) byOther.set(owner, [...(byOther.get(owner) ?? []), id]);
  const refused = new Set<string>();
  const moved: string[] = [];
  for (const [owner, ids] of byOther) {
    const other = ctx.environments.get(owner);
    const stillThere = other === undefined ? new Set<string>() : await discovered(ctx, other);
    const both = ids.filter((id) => stillThere.has(id));
    moved.push(...ids.filter((id) => !stillThere.has(id)));
    if (both.length === 0) continue;
    for (const id of both) refused.add(id);
    ctx.log.warn(
      { environment: environment.name, other: owner, resources: both },
      'resources claimed by two environments are left out',
    );
    await store.appendEvents([
      {
        at: now,
        actor: 'lightsout',
        kind: 'resource.claimed-twice',
        environment: environment.name,
        runId,
        payload: {
          resources: both,
          environments: [owner, environment.name],
          fix: `make the selectors of ${owner} and ${environment.name} select different resources`,
        },
      },
    ]);
  }
  if (moved.length > 0) await store.moveResources(environment.name, moved, now);
  return refused;
}

async function discovered(ctx: EngineContext, environment: Environment): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const tier of environment.tiers ?? [])
    for (const selector of tier.select) {
      const provider = ctx.providers.get(selector.provider);
      if (provider === undefined) continue;
      for (const r of await provider.discover(selector)) ids.add(r.id);
    }
  return ids;
}

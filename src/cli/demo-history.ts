/**
 * A new demo's past fortnight: the runs its schedules would have made over the
 * last 14 days, recorded as the engine records them (`run.finished` events
 * appended through the store, which keeps the power ledger in the same
 * transaction), so the savings page and `lightsout savings` have history to show
 * from the first minute, read the normal way. Only `lightsout demo` calls this,
 * once per data directory; `serve` never does. Every event says what it is:
 * actor `demo-history`, `demoHistory: true` and a note in its payload.
 */
import type { Environment, Instant } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import type { Service } from '../app/service.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const DEMO_HISTORY_DAYS = 14;
export const DEMO_HISTORY_ACTOR = 'demo-history';
const NOTE =
  'demo history: made up by lightsout demo at its first start, as its schedules would have run';

interface Step {
  readonly resource: string;
  readonly tier: string;
  readonly status: 'done' | 'already' | 'failed';
  readonly attempts: number;
  readonly error?: string;
}

/**
 * Records the plan's runs of the last fortnight for every environment: a stop or
 * a start a minute after each transition, and a stop at the start of the fortnight
 * for one planned off then. One night, staging's database refuses to stop (and
 * stays on until the next start), as real fleets do now and then.
 */
export async function seedDemoHistory(
  service: Pick<Service, 'engine' | 'store' | 'sandbox'>,
  environments: readonly Environment[],
  now: Instant,
): Promise<number> {
  const window = { start: now - DEMO_HISTORY_DAYS * DAY, end: now };
  const fleet = await service.engine.fleetFor(environments, window.start, window.end);
  const timelines = planFleet(fleet, window);
  const events = [];
  for (const environment of environments) {
    const members = await membersOf(service, environment);
    if (members.length === 0) continue;
    // In the inventory, as a run's discovery records them: the report reads their kinds and sizes.
    await service.store.upsertResources(
      environment.name,
      members.map((m) => m.resource),
      window.start,
    );
    const plan = timelines.get(environment.name)!.plan();
    const changes = [
      ...(plan.initial === 'off' ? [{ at: window.start, state: 'off' as const }] : []),
      ...plan.transitions,
    ];
    let stops = 0;
    let refused: string | undefined;
    for (const change of changes) {
      const at = Math.min(change.at + MINUTE, now - 1);
      if (at < window.start) continue;
      const direction = change.state === 'off' ? 'stop' : 'start';
      if (direction === 'stop') stops++;
      const steps: Step[] = members.map(({ resource, tier }): Step => {
        if (direction === 'start' && resource.id === refused)
          return { resource: resource.id, tier, status: 'already', attempts: 1 };
        // The third night, staging's database refuses to stop.
        if (
          direction === 'stop' &&
          environment.name === 'staging' &&
          stops === 3 &&
          resource.kind === 'rds'
        )
          return {
            resource: resource.id,
            tier,
            status: 'failed',
            attempts: 3,
            error: 'InvalidDBInstanceState: the instance is in a backup window (demo history)',
          };
        return { resource: resource.id, tier, status: 'done', attempts: 1 };
      });
      refused = steps.find((s) => s.status === 'failed')?.resource;
      const failures = steps.filter((s) => s.status === 'failed');
      const counts: Record<string, number> = {};
      for (const s of steps) counts[s.status] = (counts[s.status] ?? 0) + 1;
      events.push({
        at,
        actor: DEMO_HISTORY_ACTOR,
        kind: 'run.finished',
        environment: environment.name,
        payload: {
          environment: environment.name,
          direction,
          outcome: failures.length === 0 ? 'succeeded' : 'failed',
          durationMs: MINUTE,
          counts,
          resources: steps,
          failures,
          notes: [NOTE],
          demoHistory: true,
        },
      });
    }
  }
  events.sort((a, b) => a.at - b.at);
  await service.store.appendEvents(events);
  return events.length;
}

/** The sandbox resources of an environment's tiers, each once, with its tier. */
async function membersOf(
  service: Pick<Service, 'sandbox'>,
  environment: Environment,
): Promise<
  { resource: Awaited<ReturnType<Service['sandbox']['discover']>>[number]; tier: string }[]
> {
  const seen = new Map<
    string,
    { resource: Awaited<ReturnType<Service['sandbox']['discover']>>[number]; tier: string }
  >();
  for (const tier of environment.tiers ?? [])
    for (const selector of tier.select.filter((s) => s.provider === 'sandbox'))
      for (const resource of await service.sandbox.discover(selector))
        if (!seen.has(resource.id)) seen.set(resource.id, { resource, tier: tier.name });
  return [...seen.values()];
}

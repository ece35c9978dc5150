/**
 * Carries out one run: act tier by tier (start in order, stop in reverse), verify
 * every resource really reached its state, then report. Every step is persisted
 * before the provider is called and after it answers, so a restart resumes where
 * the run stopped and never repeats an action recorded as done.
 */
import type { Environment, PowerState, Tier } from '../core/glossary.js';
import { storeFaultOf } from '../store/faults.js';
import { LeaseLost, scopeOf } from '../store/queries/runs.js';
import type { Fence, Run, RunStep } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import type { ActOutcome, Clock, Observed, Provider, Resource, SettlePolls } from './ports.js';
import type { RetryPolicy } from './retry.js';
import { ActGate, withActGate } from './act-gate.js';
import { isTransient } from './retry.js';

export type EngineStore = Pick<
  Store,
  | 'appendEvents'
  | 'ensureSteps'
  | 'listSteps'
  | 'startSteps'
  | 'finishStep'
  | 'renewLease'
  | 'getRun'
  | 'upsertResources'
  | 'setLastState'
>;

export { LeaseLost };

export interface ExecutorDeps {
  readonly store: EngineStore;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  /** Time between two verification polls, for a provider that does not say (settlePolls). */
  readonly pollMs: number;
  readonly leaseMs: number;
  /** The lease this process holds on the run: every write of it is fenced by it. */
  readonly fence: Fence;
  /** Set on shutdown: the run stops at the next safe point and resumes after restart. */
  readonly signal?: AbortSignal;
  /**
   * Asked before each tier (also when a run resumes after a restart): why the run is
   * no longer wanted (the plan changed, a newer run took over), or undefined.
   */
  readonly stillWanted?: () => Promise<string | undefined>;
  /**
   * Records the resources a tier discovered in the inventory and returns those
   * another environment claims too: left out of the run (one event names both).
   */
  readonly claimedElsewhere?: (resources: readonly Resource[]) => Promise<Set<string>>;
}

/** Thrown at a checkpoint when the run is no longer wanted; it ends as `superseded`. */
export class Superseded extends Error {
  override readonly name = 'Superseded';
}

export interface StepSummary {
  readonly resource: string;
  readonly tier: string;
  readonly status: RunStep['status'];
  readonly attempts: number;
  /** From its first attempt to its outcome, when both were recorded. */
  readonly durationMs?: number;
  readonly error?: string;
}

export interface RunSummary {
  readonly environment: string;
  readonly direction: Run['direction'];
  readonly outcome: 'succeeded' | 'failed';
  readonly durationMs: number;
  readonly counts: Record<string, number>;
  readonly resources: readonly StepSummary[];
  readonly failures: readonly StepSummary[];
  /** What the report adds (a warning that reached no channel, say). */
  readonly notes?: readonly string[];
}

/** Thrown when shutdown interrupts a run; the run stays open and resumes after restart. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

export const DEFAULT_TIER: Tier = { name: 'default', select: [] };

/** The tiers of an environment in the order a run goes through them. */
export function orderedTiers(
  environment: Environment,
  direction: Run['direction'],
): { index: number; tier: Tier }[] {
  const tiers = (environment.tiers ?? []).map((tier, index) => ({ index, tier }));
  return direction === 'start' ? tiers : tiers.reverse();
}

export async function executeRun(
  deps: ExecutorDeps,
  run: Run,
  environment: Environment,
  /** Resources this run leaves as they are (reserved alone, they keep their own plan). */
  leave: ReadonlySet<string> = new Set(),
): Promise<RunSummary> {
  if (run.direction === 'boost') return executeBoost(deps, run, environment);
  const { store, clock, fence } = deps;
  const target: PowerState = run.direction === 'start' ? 'on' : 'off';
  const startedAt = clock.now();
  const tiers = orderedTiers(environment, run.direction);
  const resources = new Map<string, Resource>();
  const scope = scopeOf(run);
  for (const { index, tier } of tiers) {
    const discovered = (await discoverTier(deps, tier)).filter(
      (r) => (scope?.has(r.id) ?? true) && !leave.has(r.id),
    );
    const elsewhere = (await deps.claimedElsewhere?.(discovered)) ?? new Set<string>();
    const found = discovered.filter((r) => !elsewhere.has(r.id));
    for (const r of found) resources.set(r.id, r);
    // Claiming records the inventory itself: one write per resource, not two.
    if (deps.claimedElsewhere === undefined)
      await store.upsertResources(run.environment, found, clock.now());
    await store.ensureSteps(
      run.id,
      fence,
      found.map((r) => ({ tier: index, resource: r.id, action: run.direction })),
    );
  }
  let halted = false;
  for (const { index } of tiers) {
    checkpoint(deps);
    // The lease is renewed (and checked) right before each provider call (actOnTier, verifyTier).
    const steps = (await store.listSteps(run.id)).filter((s) => s.tier === index);
    if (halted) {
      const open = steps.filter((s) => s.status === 'pending').map((s) => s.id);
      if (open.length > 0)
        await store.finishStep(
          run.id,
          fence,
          open,
          'skipped',
          clock.now(),
          'an earlier tier failed',
        );
      continue;
    }
    if (steps.some((s) => s.status === 'pending' || s.status === 'acted')) {
      const reason = await deps.stillWanted?.();
      if (reason !== undefined) throw new Superseded(reason);
    }
    const settled = await settleInDoubt(deps, run, steps, resources, target);
    const batches = actBatches(
      run,
      settled ? (await store.listSteps(run.id)).filter((s) => s.tier === index) : steps,
    );
    for (const [i, batch] of batches.entries()) {
      if (i > 0) {
        const reason = await deps.stillWanted?.();
        if (reason !== undefined) throw new Superseded(reason);
      }
      await actOnTier(deps, run, batch, resources, (provider, list) =>
        actGated(deps, run, () => provider.act(list, target)),
      );
    }
    await verifyTier(deps, run, resources, target, index);
    await afterSettled(deps, run, resources, target, index);
    const failed = (await store.listSteps(run.id)).some(
      (s) => s.tier === index && s.status === 'failed',
    );
    if (failed && environment.onFailure !== 'continue') halted = true;
  }
  const reached = (await store.listSteps(run.id)).filter(
    (s) => s.status === 'done' || s.status === 'already',
  );
  await store.setLastState(
    reached.map((s) => s.resource),
    target,
    clock.now(),
  );
  return summarize(deps, run, environment, startedAt);
}

/**
 * A boost: the environment's boostable resources (ECS services) scale out to their
 * maximum with scale-in paused, verified, held until the run's end, then scale-in
 * resumes. Each phase is a recorded step, so a restart resumes in the right phase
 * and a crash during the hold still ends the boost.
 */
async function executeBoost(
  deps: ExecutorDeps,
  run: Run,
  environment: Environment,
): Promise<RunSummary> {
  const { store, clock } = deps;
  const startedAt = clock.now();
  const resources = new Map<string, Resource>();
  for (const { tier } of orderedTiers(environment, 'start'))
    for (const r of await discoverTier(deps, tier))
      if (providerOf(deps, r.provider).boostKinds?.includes(r.kind) === true)
        resources.set(r.id, r);
  await store.ensureSteps(
    run.id,
    deps.fence,
    [...resources.keys()].map((id) => ({ tier: 0, resource: id, action: 'boost' })),
  );
  const steps = async (action: 'boost' | 'unboost') =>
    (await store.listSteps(run.id)).filter((s) => s.action === action);
  const boost = (phase: 'begin' | 'end') => (provider: Provider, batch: readonly Resource[]) =>
    provider.boost?.(batch, phase) ??
    Promise.resolve(
      batch.map((r) => ({ id: r.id, result: 'failed' as const, reason: 'cannot be boosted' })),
    );
  await actOnTier(deps, run, await steps('boost'), resources, boost('begin'));
  if ((await steps('unboost')).length === 0) await verifyTier(deps, run, resources, 'on', 0);
  const until = run.until_at ?? clock.now();
  while (clock.now() < until) {
    checkpoint(deps);
    await clock.sleep(Math.min(until - clock.now(), deps.leaseMs / 3), deps.signal);
    await renewLease(deps, run);
  }
  const boosted = (await steps('boost')).filter(
    (s) => s.status === 'done' || s.status === 'already',
  );
  await store.ensureSteps(
    run.id,
    deps.fence,
    boosted.map((s) => ({ tier: 0, resource: s.resource, action: 'unboost' })),
  );
  await actOnTier(deps, run, await steps('unboost'), resources, boost('end'));
  const ended = (await steps('unboost')).filter((s) => s.status === 'acted').map((s) => s.id);
  // Scale-in resuming needs no verification: autoscaling takes the count down in its own time.
  if (ended.length > 0) await store.finishStep(run.id, deps.fence, ended, 'done', clock.now());
  return summarize(deps, run, environment, startedAt);
}

async function discoverTier(deps: ExecutorDeps, tier: Tier): Promise<Resource[]> {
  const found = new Map<string, Resource>();
  for (const selector of tier.select) {
    const provider = providerOf(deps, selector.provider);
    for (const r of await withRetry(deps, () => provider.discover(selector))) found.set(r.id, r);
  }
  return [...found.values()];
}

/**
 * Steps tried before whose outcome was never recorded (the process died, or lost
 * its lease, while the provider answered): a resource already in, or on its way
 * to, the target state is not asked again; verification follows. True when there
 * were any (the tier's steps changed).
 */
async function settleInDoubt(
  deps: ExecutorDeps,
  run: Run,
  steps: readonly RunStep[],
  resources: ReadonlyMap<string, Resource>,
  target: PowerState,
): Promise<boolean> {
  const inDoubt = steps.filter((s) => s.status === 'pending' && s.attempts > 0);
  if (inDoubt.length === 0) return false;
  const onItsWay = target === 'on' ? ['on', 'starting'] : ['off', 'stopping'];
  for (const [providerName, group] of groupByProvider(inDoubt, resources)) {
    const provider = providerOf(deps, providerName);
    const states = await withRetry(deps, () =>
      provider.observe(group.map((s) => resources.get(s.resource)!)),
    );
    const there = group
      .filter((s) => {
        const state = states.get(s.resource);
        return typeof state === 'string' && onItsWay.includes(state);
      })
      .map((s) => s.id);
    if (there.length > 0)
      await deps.store.finishStep(run.id, deps.fence, there, 'acted', deps.clock.now());
  }
  return true;
}

/**
 * A start's action, with the run asked again right before each call is sent (after
 * any wait for tokens: act-gate.ts); a run no longer wanted then ends as superseded,
 * and what the closed gate kept from being sent is not recorded as failed.
 */
async function actGated(
  deps: ExecutorDeps,
  run: Run,
  act: () => Promise<ActOutcome[]>,
): Promise<ActOutcome[]> {
  if (run.direction !== 'start' || deps.stillWanted === undefined) return act();
  const gate = new ActGate(deps.stillWanted);
  const outcomes = await withActGate(gate, act).catch((error: unknown) => {
    if (gate.closed === undefined) throw error;
    return [];
  });
  if (gate.closed !== undefined) throw new Superseded(gate.closed);
  return outcomes;
}

/**
 * A start of more than this many resources in one tier is asked for in batches of
 * it, and before each batch the run asks again whether it is still wanted: a start
 * begun early (ready-by.ts) may wait minutes for the account's tokens between
 * batches, and a hold-off or a deleted reservation meanwhile stops it there. 1,000
 * is what one EC2 StartInstances call carries and its resource bucket's burst.
 */
export const START_BATCH = 1_000;

function actBatches(run: Run, steps: readonly RunStep[]): (readonly RunStep[])[] {
  if (run.direction !== 'start' || steps.length <= START_BATCH) return [steps];
  const batches: RunStep[][] = [];
  for (let i = 0; i < steps.length; i += START_BATCH) batches.push(steps.slice(i, i + START_BATCH));
  return batches;
}

async function actOnTier(
  deps: ExecutorDeps,
  run: Run,
  steps: readonly RunStep[],
  resources: ReadonlyMap<string, Resource>,
  perform: (provider: Provider, batch: readonly Resource[]) => Promise<ActOutcome[]>,
): Promise<void> {
  const { store, clock, fence } = deps;
  // Attempts are counted in the store: a step is never tried more than its limit across restarts.
  const attempts = new Map(steps.map((s) => [s.id, s.attempts]));
  let pending = steps.filter((s) => s.status === 'pending');
  const lastReason = new Map<number, string>();
  for (let round = 1; pending.length > 0; round++) {
    checkpoint(deps);
    const exhausted = pending.filter((s) => attempts.get(s.id)! >= deps.retry.maxAttempts);
    for (const step of exhausted) {
      const reason = lastReason.get(step.id) ?? step.error ?? 'transient errors';
      await store.finishStep(
        run.id,
        fence,
        step.id,
        'failed',
        clock.now(),
        `gave up after ${deps.retry.maxAttempts} attempts: ${reason}`,
      );
    }
    pending = pending.filter((s) => attempts.get(s.id)! < deps.retry.maxAttempts);
    if (pending.length === 0) return;
    // The lease is checked right before the provider is called.
    await renewLease(deps, run);
    // On record before the call: a crash now leaves an attempt, never a lost action.
    await store.startSteps(
      run.id,
      fence,
      pending.map((s) => s.id),
      clock.now(),
    );
    for (const s of pending) attempts.set(s.id, attempts.get(s.id)! + 1);
    const retry: RunStep[] = [];
    for (const [providerName, group] of groupByProvider(pending, resources)) {
      const provider = providerOf(deps, providerName);
      const batch = group.map((s) => resources.get(s.resource)!);
      const outcomes: ActOutcome[] = await perform(provider, batch).catch((error: unknown) => {
        // The run is no longer wanted: it ends here, nothing of the batch recorded as failed.
        if (error instanceof Superseded) throw error;
        return batch.map((r) => ({
          id: r.id,
          result: isTransient(error) ? ('transient' as const) : ('failed' as const),
          reason: messageOf(error),
        }));
      });
      const byId = new Map(outcomes.map((o) => [o.id, o]));
      const outputs = outcomes.filter((o) => o.output !== undefined && o.output !== '');
      if (outputs.length > 0) {
        await store.appendEvents(
          outputs.map((o) => ({
            at: clock.now(),
            actor: 'lightsout',
            kind: 'resource.output',
            environment: run.environment,
            resource: o.id,
            runId: run.id,
            payload: { action: run.direction, result: o.result, output: o.output },
          })),
        );
      }
      const settled = { acted: [] as number[], already: [] as number[] };
      for (const step of group) {
        const outcome = byId.get(step.resource) ?? {
          id: step.resource,
          result: 'failed' as const,
          reason: 'the provider gave no outcome',
        };
        if (outcome.result === 'transient') {
          lastReason.set(step.id, outcome.reason ?? 'transient error');
          retry.push(step);
        } else if (outcome.result === 'failed') {
          await store.finishStep(
            run.id,
            fence,
            step.id,
            'failed',
            clock.now(),
            outcome.reason ?? 'failed',
          );
        } else {
          settled[outcome.result === 'already' ? 'already' : 'acted'].push(step.id);
        }
      }
      // One write per outcome rather than per resource: a tier may hold thousands.
      if (settled.acted.length > 0)
        await store.finishStep(run.id, fence, settled.acted, 'acted', clock.now());
      if (settled.already.length > 0)
        await store.finishStep(run.id, fence, settled.already, 'already', clock.now());
    }
    pending = retry;
    if (pending.length > 0) await clock.sleep(deps.retry.delayMs(round), deps.signal);
  }
}

async function verifyTier(
  deps: ExecutorDeps,
  run: Run,
  resources: ReadonlyMap<string, Resource>,
  target: PowerState,
  tier: number,
): Promise<void> {
  const { store, clock } = deps;
  let waiting = (await store.listSteps(run.id)).filter(
    (s) => s.tier === tier && (s.status === 'acted' || s.status === 'already'),
  );
  const started = clock.now();
  const deadline =
    started +
    Math.max(
      0,
      ...waiting.map((s) =>
        providerOf(deps, resources.get(s.resource)!.provider).settleTimeoutMs(
          resources.get(s.resource)!.kind,
        ),
      ),
    );
  // Each step is looked at when its kind's schedule says (settlePolls), not all at
  // every poll: an EC2 instance is not polled at a database's pace, nor the reverse.
  const polls = new Map<number, { schedule: SettlePolls; seen: number; due: number }>();
  for (const s of waiting) {
    const schedule = settlePollsOf(deps, resources.get(s.resource)!);
    polls.set(s.id, {
      schedule,
      seen: 0,
      due: s.status === 'already' ? started : started + schedule.firstMs,
    });
  }
  const lastSeen = new Map<number, Observed>();
  while (waiting.length > 0) {
    checkpoint(deps);
    const now = clock.now();
    const due = waiting.filter((s) => now >= deadline || polls.get(s.id)!.due <= now);
    if (due.length === 0) {
      const next = Math.min(deadline, ...waiting.map((s) => polls.get(s.id)!.due));
      await clock.sleep(Math.min(next - now, deps.leaseMs / 3), deps.signal);
      await renewLease(deps, run);
      continue;
    }
    const dueIds = new Set(due.map((s) => s.id));
    const still: RunStep[] = waiting.filter((s) => !dueIds.has(s.id));
    for (const [providerName, group] of groupByProvider(due, resources)) {
      const provider = providerOf(deps, providerName);
      const states = await withRetry(deps, () =>
        provider.observe(group.map((s) => resources.get(s.resource)!)),
      );
      const reached = { done: [] as number[], already: [] as number[] };
      for (const step of group) {
        const observation = states.get(step.resource) ?? 'missing';
        if (typeof observation === 'object') {
          await store.finishStep(
            run.id,
            deps.fence,
            step.id,
            'failed',
            clock.now(),
            observation.reason,
          );
          continue;
        }
        const state = observation;
        lastSeen.set(step.id, state);
        if (state === target) reached[step.status === 'already' ? 'already' : 'done'].push(step.id);
        else if (state === 'missing')
          await store.finishStep(
            run.id,
            deps.fence,
            step.id,
            'failed',
            clock.now(),
            `${step.resource} no longer exists`,
          );
        else {
          const poll = polls.get(step.id)!;
          const { intervalMs, maxIntervalMs } = poll.schedule;
          poll.due = now + Math.min(maxIntervalMs, intervalMs * 1.5 ** poll.seen);
          poll.seen += 1;
          still.push(step);
        }
      }
      if (reached.done.length > 0)
        await store.finishStep(run.id, deps.fence, reached.done, 'done', clock.now());
      if (reached.already.length > 0)
        await store.finishStep(run.id, deps.fence, reached.already, 'already', clock.now());
    }
    waiting = still;
    if (waiting.length === 0) return;
    if (now >= deadline) break;
  }
  for (const step of waiting) {
    const seen = lastSeen.get(step.id) ?? 'unknown';
    await store.finishStep(
      run.id,
      deps.fence,
      step.id,
      'failed',
      clock.now(),
      `did not reach ${target} in time (last seen ${seen})`,
    );
  }
}

/** The provider's polls for the resource's kind, or at once and then every `pollMs`. */
function settlePollsOf(deps: ExecutorDeps, resource: Resource): SettlePolls {
  return (
    providerOf(deps, resource.provider).settlePolls?.(resource.kind) ?? {
      firstMs: 0,
      intervalMs: deps.pollMs,
      maxIntervalMs: deps.pollMs,
    }
  );
}

/** Lets providers follow up on resources that reached their state; never fails the run. */
async function afterSettled(
  deps: ExecutorDeps,
  run: Run,
  resources: ReadonlyMap<string, Resource>,
  target: PowerState,
  tier: number,
): Promise<void> {
  const settled = (await deps.store.listSteps(run.id)).filter(
    (s) => s.tier === tier && (s.status === 'done' || s.status === 'already'),
  );
  for (const [providerName, group] of groupByProvider(settled, resources)) {
    const provider = providerOf(deps, providerName);
    if (provider.settled === undefined) continue;
    const ref = { id: run.id, direction: run.direction, at: run.due_at };
    const notes = await provider
      .settled(
        group.map((s) => resources.get(s.resource)!),
        target,
        ref,
      )
      .catch((error: unknown) => [
        {
          id: group[0]!.resource,
          kind: 'provider.follow-up-failed',
          detail: { error: messageOf(error) },
        },
      ]);
    if (notes.length === 0) continue;
    await deps.store.appendEvents(
      notes.map((n) => ({
        at: deps.clock.now(),
        actor: 'lightsout',
        kind: n.kind,
        environment: run.environment,
        resource: n.id,
        runId: run.id,
        payload: { ...n.detail },
      })),
    );
  }
}

/** What a run did, per resource; the caller records it with the run's end, in one transaction. */
async function summarize(
  deps: ExecutorDeps,
  run: Run,
  environment: Environment,
  startedAt: number,
): Promise<RunSummary> {
  const steps = await deps.store.listSteps(run.id);
  return summaryOf(run, environment, steps, deps.clock.now() - startedAt);
}

export function summaryOf(
  run: Run,
  environment: Environment,
  steps: readonly RunStep[],
  durationMs: number,
): RunSummary {
  const tierName = (index: number) => environment.tiers?.[index]?.name ?? String(index);
  const resources = steps.map((s): StepSummary => ({
    resource: s.resource,
    tier: tierName(s.tier),
    status: s.status,
    attempts: s.attempts,
    ...(s.started_at === null || s.finished_at === null
      ? {}
      : { durationMs: Math.max(0, s.finished_at - s.started_at) }),
    ...(s.error === null ? {} : { error: s.error }),
  }));
  const failures = resources.filter((r) => r.status === 'failed' || r.status === 'skipped');
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return {
    environment: run.environment,
    direction: run.direction,
    outcome: failures.length === 0 ? 'succeeded' : 'failed',
    durationMs,
    counts,
    resources,
    failures,
  };
}

/** The one line a run's summary notice says. */
export function summaryText(run: Run, summary: RunSummary): string {
  // Resources, not steps: a boost has two steps per service (boost, then unboost).
  const n = new Set(summary.resources.map((r) => r.resource)).size;
  const line =
    summary.outcome === 'succeeded'
      ? `${run.environment}: ${run.direction} succeeded (${n} ${n === 1 ? 'resource' : 'resources'})`
      : `${run.environment}: ${run.direction} failed for ${failureList(summary.failures)}`;
  return [line, ...(summary.notes ?? [])].join('; ');
}

/** The first few failures with their reasons (the failed before the skipped: cause first). */
function failureList(failures: readonly StepSummary[], shown = 3): string {
  const ordered = [
    ...failures.filter((f) => f.status === 'failed'),
    ...failures.filter((f) => f.status !== 'failed'),
  ];
  const listed = ordered
    .slice(0, shown)
    .map((f) => `${f.resource} (${f.error ?? f.status})`)
    .join(', ');
  return failures.length > shown ? `${listed} and ${failures.length - shown} more` : listed;
}

async function withRetry<T>(deps: ExecutorDeps, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error) || attempt >= deps.retry.maxAttempts) throw error;
      await deps.clock.sleep(deps.retry.delayMs(attempt), deps.signal);
    }
  }
}

function groupByProvider(
  steps: readonly RunStep[],
  resources: ReadonlyMap<string, Resource>,
): Map<string, RunStep[]> {
  const groups = new Map<string, RunStep[]>();
  for (const step of steps) {
    const provider = resources.get(step.resource)?.provider ?? step.resource.split(':')[0] ?? '';
    // Pushed, not copied: a tier of thousands of steps is grouped at every poll.
    const group = groups.get(provider);
    if (group === undefined) groups.set(provider, [step]);
    else group.push(step);
  }
  return groups;
}

function providerOf(deps: ExecutorDeps, name: string): Provider {
  const provider = deps.providers.get(name);
  if (provider === undefined)
    throw new Error(
      `no provider "${name}" is configured; known: ${[...deps.providers.keys()].join(', ')}`,
    );
  return provider;
}

/** Renews this replica's lease on the run, or stops the run here when another holds it. */
export async function renewLease(deps: ExecutorDeps, run: Run): Promise<void> {
  await deps.store.renewLease(run.id, deps.fence, deps.leaseMs);
}

function checkpoint(deps: ExecutorDeps): void {
  if (deps.signal?.reason instanceof LeaseLost) throw deps.signal.reason;
  // The lease could not be renewed because the store failed: the runner pauses the run.
  if (storeFaultOf(deps.signal?.reason) !== undefined) throw deps.signal?.reason;
  if (deps.signal?.aborted === true)
    throw new Interrupted('shutting down; the run resumes after restart');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

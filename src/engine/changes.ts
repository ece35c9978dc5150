/**
 * Every change of applied state, in one transaction each: the compare-and-set on
 * the target's sequence, the run keyed by it, the stop warning it owes, its
 * events, and the announcement that wakes every replica. A writer that lost the
 * compare-and-set changes nothing; its next pass sees the winner's change.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Environment, Instant } from '../core/glossary.js';
import { covers } from '../core/intervals.js';
import type { Timeline } from '../core/planner.js';
import type { StartPlan } from '../core/ready-by.js';
import type { Applied, AppliedChange } from '../store/queries/applied.js';
import type { EventInput } from '../store/queries/events.js';
import type { Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import type { EngineContext } from './context.js';
import { iso, stateOf } from './context.js';
import { warningBody, warningFacts } from './notice-bodies.js';
import type { WarningFacts } from './notice-bodies.js';
import { addNotices } from './notices.js';
import { cancelKeepsOnUntil } from './planning.js';

/** Another writer changed the row first; the transaction rolls back. */
class LostRace extends Error {
  override readonly name = 'LostRace';
}

export interface RunChange {
  /** The run's id, when the caller names it in other writes of the change (default: a new UUIDv7). */
  readonly id?: string;
  readonly environment: Environment;
  /** '' for the environment, or the resource reserved alone. */
  readonly target: string;
  readonly direction: 'start' | 'stop';
  /** The target's applied row as the caller saw it. */
  readonly expected: Applied | undefined;
  readonly dueAt: Instant;
  readonly actAt: Instant;
  readonly trigger: Run['trigger'];
  readonly actor: string;
  readonly scope?: readonly string[];
  /** The target's effective state before the change (default: the expected row's, when on or off). */
  readonly prior?: 'on' | 'off';
  /** Runs in a row that failed to reach this state (a retry carries the count on; a change starts at 0). */
  readonly failures?: number;
  /** Whether a stop acting later than now is warned (default true; a stop committed ahead with no grace is not). */
  readonly warns?: boolean;
  /** Other targets' rows changed with it (resources reserved alone kept on, or following again). */
  readonly alongside?: readonly AppliedChange[];
  /** Open runs in grace this change makes unnecessary: they end as superseded in the same transaction. */
  readonly supersedes?: readonly Run[];
  readonly events?: readonly EventInput[];
  /** A start begun ahead of its instant to be running by it: why so early (kept in `run.created`). */
  readonly readyBy?: StartPlan;
  /** Further writes of the same change (a hold, say), in the same transaction. */
  readonly before?: (tx: Store) => Promise<void>;
}

/** Why a start begins early, as `run.created` records it. */
function readyByPayload(plan: StartPlan): Record<string, unknown> {
  return {
    waitMs: Math.round(plan.waitMs),
    settleMs: plan.settleMs,
    ...(plan.bucket === undefined
      ? {}
      : {
          bucket: plan.bucket.key,
          tokens: plan.bucket.tokens,
          ...(plan.bucket.sharedWith.length === 0 ? {} : { sharedWith: plan.bucket.sharedWith }),
        }),
  };
}

/** Commits the change and its run; undefined when another writer changed the target first. */
export async function commitRun(ctx: EngineContext, change: RunChange): Promise<Run | undefined> {
  const now = ctx.clock.now();
  const environment = change.environment;
  try {
    const run = await ctx.store.atomically(async (tx) => {
      await change.before?.(tx);
      for (const old of change.supersedes ?? [])
        await endSuperseded(tx, old, now, 'a newer change');
      const id = change.id ?? uuidv7();
      const prior = await priorOf(tx, change);
      const seq = await tx.advanceApplied(
        {
          environment: environment.name,
          resource: change.target,
          expectedSeq: change.expected?.seq,
          state: stateOf(change.direction),
          runId: id,
          actor: change.actor,
          failures: change.failures ?? 0,
        },
        now,
      );
      if (seq === undefined) throw new LostRace();
      for (const other of change.alongside ?? [])
        if ((await tx.advanceApplied(other, now)) === undefined) throw new LostRace();
      const created = await tx.createRun(
        {
          id,
          environment: environment.name,
          direction: change.direction,
          dueAt: change.dueAt,
          actAt: change.actAt,
          trigger: change.trigger,
          actor: change.actor,
          target: change.target,
          seq,
          ...prior,
          ...(change.scope === undefined ? {} : { scope: change.scope }),
        },
        now,
      );
      if (change.direction === 'stop' && change.actAt > now && change.warns !== false)
        await addNotices(
          tx,
          environment,
          warningFor(
            environment,
            created,
            cancelKeepsOnUntil(ctx, environment, created.act_at),
            await warningFacts(tx, environment, created),
            now,
          ),
          now,
        );
      await tx.appendEvents([
        ...(change.events ?? []),
        {
          at: now,
          actor: change.actor,
          kind: 'run.created',
          environment: environment.name,
          runId: id,
          payload: {
            direction: change.direction,
            trigger: change.trigger,
            seq,
            dueAt: iso(change.dueAt),
            actAt: iso(change.actAt),
            ...(change.target === '' ? {} : { target: change.target }),
            ...(change.scope === undefined ? {} : { scope: change.scope }),
            ...(change.readyBy === undefined ? {} : { readyBy: readyByPayload(change.readyBy) }),
          },
        },
      ]);
      await tx.announceChange();
      return created;
    });
    ctx.log.info(
      {
        environment: environment.name,
        run: run.id,
        direction: run.direction,
        trigger: run.trigger,
        actAt: iso(run.act_at),
      },
      'run created',
    );
    ctx.changed();
    return run;
  } catch (error) {
    if (error instanceof LostRace) return undefined;
    throw error;
  }
}

/** A change of applied state that needs no run (adopting, following the environment again). */
export async function commitApplied(
  ctx: EngineContext,
  change: AppliedChange,
  events: readonly EventInput[] = [],
): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.store.atomically(async (tx) => {
    if ((await tx.advanceApplied(change, now)) === undefined) return false;
    if (events.length > 0) await tx.appendEvents(events);
    return true;
  });
}

/**
 * Ends a run still in its grace period as superseded and, when it was its
 * target's latest change, puts the applied state back to what it was before it:
 * the run never acted, so that is still what lightsout last brought about.
 */
export async function supersedeInGrace(
  ctx: EngineContext,
  run: Run,
  current: Applied | undefined,
  reason: string,
): Promise<boolean> {
  const now = ctx.clock.now();
  const ended = await ctx.store.atomically(async (tx) => {
    // Decided on what the caller saw: when the target changed since, it decides again.
    const fresh = await tx.getApplied(run.environment, run.target);
    if (fresh?.seq !== current?.seq) return false;
    if (!(await endSuperseded(tx, run, now, reason))) return false;
    await revertApplied(tx, run, now, 'scheduler');
    await tx.announceChange();
    return true;
  });
  if (ended) ctx.changed();
  return ended;
}

async function endSuperseded(tx: Store, run: Run, now: Instant, reason: string): Promise<boolean> {
  if (!(await tx.endInGrace(run.id, 'superseded', now))) return false;
  await tx.appendEvents([supersededEvent(run, now, reason)]);
  return true;
}

/**
 * The state the target was last brought to, and whether it got there: the
 * expected row's (reached when its run succeeded, or it was adopted); or, when
 * that row's change was a run this change supersedes before it acted, that run's
 * own prior state. A run that never acts gives this back (see revertApplied).
 */
async function priorOf(
  tx: Store,
  change: RunChange,
): Promise<{ priorState?: 'on' | 'off'; priorReached?: boolean }> {
  const { expected } = change;
  const replaced = change.supersedes?.find((r) => r.id === expected?.run_id);
  if (replaced !== undefined)
    return { priorState: stateBefore(replaced), priorReached: replaced.prior_reached !== 0 };
  const state = change.prior ?? expected?.state;
  if (state !== 'on' && state !== 'off') return {};
  if (expected === undefined || expected.run_id === null)
    return { priorState: state, priorReached: (expected?.failures ?? 0) === 0 };
  const run = await tx.getRun(expected.run_id);
  return {
    priorState: state,
    priorReached: expected.failures === 0 && run?.status === 'succeeded',
  };
}

/**
 * A run that never acted (cancelled, or superseded before acting) gives its target
 * back the applied state it had before it, when it is still the target's latest
 * change. When that state had not been reached (a run was on its way to it), a
 * retry is due at once, so it is.
 */
export async function revertApplied(
  tx: Store,
  run: Run,
  now: Instant,
  actor: string,
): Promise<void> {
  if (run.seq === null) return;
  const applied = await tx.getApplied(run.environment, run.target);
  if (applied === undefined || applied.seq !== run.seq) return;
  const reached = run.prior_reached !== 0;
  const back = (resource: string, expectedSeq: number) =>
    tx.advanceApplied(
      {
        environment: run.environment,
        resource,
        expectedSeq,
        state: stateBefore(run),
        runId: null,
        failures: reached ? 0 : 1,
        retryAt: reached ? null : now,
        actor,
      },
      now,
    );
  await back(run.target, applied.seq);
  // Resources reserved alone that changed with it (one run for several) go back too.
  if (run.target === '' || run.scope === null) return;
  for (const resource of JSON.parse(run.scope) as string[]) {
    if (resource === run.target) continue;
    const row = await tx.getApplied(run.environment, resource);
    if (row?.run_id === run.id) await back(resource, row.seq);
  }
}

/** A run that ended because the plan or a newer change no longer wants it. */
export function supersededEvent(run: Run, now: Instant, reason: string): EventInput {
  return {
    at: now,
    actor: 'scheduler',
    kind: 'run.superseded',
    environment: run.environment,
    runId: run.id,
    payload: { reason },
  };
}

/** The applied state before a run (recorded with it; for older runs, inferred from its kind). */
export function stateBefore(run: Run): 'on' | 'off' {
  if (run.prior_state !== null) return run.prior_state;
  const kept =
    run.trigger === 'enforce' || run.trigger === 'auto-restart' || run.trigger === 'retry';
  const after = stateOf(run.direction);
  return kept ? after : after === 'on' ? 'off' : 'on';
}

/**
 * Why a run is no longer wanted, or undefined: a newer change of its target took
 * over (its sequence moved on), or the plan wants the other state at the instant
 * it acts. A boost is always wanted.
 */
export function whyUnwanted(
  run: Run,
  applied: Applied | undefined,
  timeline: Timeline,
  now: Instant,
): string | undefined {
  if (run.direction === 'boost') return undefined;
  if (run.seq !== null && applied !== undefined && applied.seq > run.seq)
    return `a newer change (${applied.seq}) of ${run.target === '' ? run.environment : run.target} took over`;
  if (run.direction === 'start' && run.target === '' && run.due_at > now)
    return whyEarlyStartUnwanted(run, timeline, now);
  // A stop warned further ahead than the planned window (stop --grace 2h) is judged
  // at the window's end; the runner checks it again at its own instant.
  const at = Math.min(
    run.status === 'grace' ? Math.max(run.act_at, now) : now,
    timeline.window.end - 1,
  );
  const target = stateOf(run.direction);
  if (run.target === '') {
    const wanted = timeline.stateAt(at);
    return wanted === target ? undefined : `the plan wants it ${wanted} now`;
  }
  // Resources reserved alone that change together: wanted while one of them wants it.
  const scope = run.scope === null ? [run.target] : (JSON.parse(run.scope) as string[]);
  const wants = scope.some((r) => covers(timeline.onOf(r), at) === (target === 'on'));
  return wants
    ? undefined
    : `the plan wants ${scope.join(', ')} ${target === 'on' ? 'off' : 'on'} now`;
}

/**
 * A start committed ahead of its instant (to be ready by it: ready-by.ts; or to
 * act at it with nothing left to commit: COMMIT_AHEAD_MS) is judged at that
 * instant, not now (when the plan still says off): wanted while the plan is on
 * then and no hold keeps the environment off when it acts.
 */
export function whyEarlyStartUnwanted(
  run: Run,
  timeline: Timeline,
  now: Instant,
): string | undefined {
  // From when it acts (now, once begun): a start committed ahead acts once a hold ending then is over.
  const acting = Math.max(now, run.act_at);
  if (acting < timeline.window.end && timeline.heldOffAt(acting)) return 'a hold keeps it off now';
  // Beyond what this timeline planned: the runner, which plans up to the instant, judges it.
  if (run.due_at >= timeline.window.end) return undefined;
  return timeline.stateAt(run.due_at) === 'on'
    ? undefined
    : `the plan no longer wants it on at ${iso(run.due_at)}`;
}

/** The warning a stop owes; `keepsOnUntil` is what cancelling it does by default. */
export function warningFor(
  environment: Environment,
  run: Run,
  keepsOnUntil: Instant,
  facts: WarningFacts = { kinds: {} },
  now: Instant = run.created_at,
) {
  return {
    runId: run.id,
    kind: 'stop-warning' as const,
    environment: environment.name,
    team: environment.team ?? null,
    body: warningBody(environment, run, keepsOnUntil, facts, now),
  };
}

/** Resources with reservations of their own in the window, or an applied state of their own. */
export function reservedTargets(
  timeline: Timeline,
  applied: ReadonlyMap<string, Applied>,
): string[] {
  const targets = new Set(timeline.resourceOn.keys());
  for (const [resource, row] of applied)
    if (resource !== '' && (row.state !== 'follow' || targets.has(resource))) targets.add(resource);
  return [...targets].sort();
}

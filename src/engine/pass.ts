/**
 * The reconciler pass: desired versus applied state, per target.
 *
 * For each environment (and each resource of it reserved alone) the pass computes
 * the desired state now (the planner) and compares it with the applied state the
 * store records. When they differ and no run is open for the target, it commits
 * the change with a compare-and-set on the target's sequence and creates the run
 * keyed by it: every pass, restart and replica derives the same key, and a change
 * of plan (a hold made or deleted, a late reservation, a command) always yields a
 * new one. Runs in grace that are no longer wanted end as superseded first.
 *
 * A stop is committed `grace` before its instant, so its warning goes out and it
 * still acts on time; a stop that was missed (lightsout was down, a hold was
 * deleted) is warned and waits its grace like any other. A scheduled start, and a
 * stop with a shorter grace, is committed COMMIT_AHEAD_MS before its instant and
 * acts at it: many transitions on one instant are committed before it, not at it.
 */
import type { Environment, Instant, Transition } from '../core/glossary.js';
import { covers } from '../core/intervals.js';
import type { Timeline } from '../core/planner.js';
import type { StartPlan } from '../core/ready-by.js';
import type { Applied } from '../store/queries/applied.js';
import { storeFaultOf } from '../store/faults.js';
import type { EventInput } from '../store/queries/events.js';
import type { Run } from '../store/queries/runs.js';
import { scopeOf } from '../store/queries/runs.js';
import { v7 as uuidv7 } from 'uuid';
import {
  commitApplied,
  commitRun,
  reservedTargets,
  supersedeInGrace,
  whyUnwanted,
} from './changes.js';
import type { EngineContext } from './context.js';
import { COMMIT_AHEAD_MS, directionOf, graceOf, iso, leadOf, stateOf } from './context.js';
import { messageOf } from './executor.js';
import { PlanCache } from './plan-cache.js';
import { fleetFor } from './planning.js';
import { costedEnvironments, READY_BY_HORIZON_MS, startPlans } from './ready-by.js';
import { watch } from './watches.js';

/** The engine_state key of the instant of the last pass (any replica's). */
export const LAST_PASS = 'last_pass_at';
/** How far back a pass names transitions missed while lightsout was down. */
const MISSED_LOOKBACK_MS = 35 * 24 * 3_600_000;

/**
 * One pass over every environment; returns when the next one is due. `plans` keeps
 * timelines from pass to pass: only environments whose plan inputs changed are planned.
 */
export async function reconcile(
  ctx: EngineContext,
  now: Instant,
  plans: PlanCache = new PlanCache(),
): Promise<Instant> {
  const environments = [...ctx.environments.values()];
  const maxLead = Math.max(0, ...environments.map(leadOf));
  const lastPass = await ctx.store.readValue(LAST_PASS);
  // A transition is on time when a pass sees it within this; later, it was missed.
  const tolerance = 2 * ctx.safetyTickMs;
  const since = Math.max(now - MISSED_LOOKBACK_MS, Math.min(lastPass ?? now, now - tolerance));
  // Environments whose starts begin early are planned up to the horizon, to see their next start.
  const costed = costedEnvironments(ctx);
  const window = {
    start: since,
    end: Math.max(
      now + maxLead + ctx.safetyTickMs + 1,
      costed.length === 0 ? 0 : now + READY_BY_HORIZON_MS,
    ),
  };
  // One snapshot: a change committed meanwhile is seen whole (its plan, its applied state, its run) or not at all.
  const [fleet, appliedRows, openRuns] = await ctx.store.snapshot((tx) =>
    Promise.all([
      fleetFor(ctx, window.start, plans.readWindow(window).end, undefined, tx),
      tx.listApplied(),
      tx.openRuns(),
    ]),
  );
  const timelines = plans.timelines(fleet, window);
  const applied = byEnvironment(appliedRows, (a) => a.environment);
  const open = byEnvironment(openRuns, (r) => r.environment);
  const starts = await startPlans(ctx, costed, timelines, now, (name) => {
    const seqs = (applied.get(name) ?? []).map((a) => a.seq);
    return `${Math.max(0, ...seqs)}:${open.get(name)?.length ?? 0}`;
  });
  let wake = now + ctx.safetyTickMs;
  for (const environment of environments) {
    const timeline = timelines.get(environment.name);
    if (timeline === undefined) continue;
    try {
      const target = new EnvironmentPass(
        ctx,
        environment,
        timeline,
        new Map((applied.get(environment.name) ?? []).map((a) => [a.resource, a])),
        open.get(environment.name) ?? [],
        now,
        tolerance,
        starts.get(environment.name),
      );
      wake = Math.min(wake, await target.run());
    } catch (error) {
      // The store failing is no environment's failure: the pass stops, and the service backs off.
      if (storeFaultOf(error) !== undefined) throw error;
      // One environment's failure (a provider refusing discovery, say) never stops the others.
      ctx.log.error(
        { environment: environment.name, error: messageOf(error) },
        'reconciling this environment failed',
      );
      await ctx.store
        .appendEvents([
          {
            at: now,
            actor: 'scheduler',
            kind: 'reconcile.failed',
            environment: environment.name,
            payload: { error: messageOf(error) },
          },
        ])
        .catch(() => undefined);
    }
  }
  await recordMissed(ctx, timelines, lastPass, now, tolerance);
  return wake;
}

/**
 * Every transition that passed between the last pass and this one, when that gap
 * is longer than a pass may be late: one `transition.missed` event each. The
 * replica whose compare-and-set moves the last-pass instant records them, once.
 */
async function recordMissed(
  ctx: EngineContext,
  timelines: ReadonlyMap<string, Timeline>,
  lastPass: Instant | undefined,
  now: Instant,
  tolerance: number,
): Promise<void> {
  if (lastPass !== undefined && lastPass >= now) return;
  if (!(await ctx.store.swapValue(LAST_PASS, lastPass, now))) return;
  // A pass on time (the usual case) has nothing to record: no plan is read.
  if (lastPass === undefined || now - lastPass <= tolerance) return;
  const missed: EventInput[] = [];
  for (const [name, timeline] of timelines)
    for (const t of timeline.plan().transitions)
      if (t.at > lastPass && t.at <= now - tolerance)
        missed.push({
          at: now,
          actor: 'scheduler',
          kind: 'transition.missed',
          environment: name,
          payload: { at: iso(t.at), state: t.state },
        });
  if (missed.length > 0) await ctx.store.appendEvents(missed);
}

/** One environment's targets in one pass. */
class EnvironmentPass {
  private readonly grace: number;
  /** How far ahead of its instant a scheduled stop is committed (leadOf). */
  private readonly lead: number;
  private readonly desired: 'on' | 'off';
  /** The instant a start begun early now must be ready by (ready-by.ts), if it begins now. */
  private readonly readyBy: Instant | undefined;
  /** The environment's transitions in the window, computed once per pass. */
  private readonly transitions: readonly Transition[];

  constructor(
    private readonly ctx: EngineContext,
    private readonly environment: Environment,
    private readonly timeline: Timeline,
    /** Applied rows by target ('' for the environment). */
    private readonly applied: Map<string, Applied>,
    private open: readonly Run[],
    private readonly now: Instant,
    private readonly tolerance: number,
    /** When its next start must begin to be running on time. */
    private readonly start: StartPlan | undefined,
  ) {
    this.grace = graceOf(environment);
    this.lead = leadOf(environment);
    this.readyBy = this.earlyStart();
    this.desired = this.readyBy !== undefined ? 'on' : timeline.stateAt(now);
    this.transitions = timeline.plan().transitions;
  }

  /**
   * The instant of the next start when it must begin now to be running by then:
   * its begin has come, the plan still wants it on then, and no hold keeps the
   * environment off now.
   */
  private earlyStart(): Instant | undefined {
    const start = this.start;
    if (start === undefined || start.beginAt > this.now || start.readyBy <= this.now)
      return undefined;
    if (start.readyBy >= this.timeline.window.end || this.timeline.heldOffAt(this.now))
      return undefined;
    if (this.timeline.stateAt(this.now) === 'on') return undefined;
    return this.timeline.stateAt(start.readyBy) === 'on' ? start.readyBy : undefined;
  }

  async run(): Promise<Instant> {
    const acted = await this.environmentTarget();
    await this.reservedResources();
    if (!acted && this.open.length === 0)
      await watch(
        this.ctx,
        this.environment,
        this.timeline,
        this.applied.get(''),
        this.now,
        new Set(this.reservedTargets()),
      );
    return this.nextWake();
  }

  /** The whole environment; true when a run is open or was created for it. */
  private async environmentTarget(): Promise<boolean> {
    let applied = this.applied.get('');
    if (applied === undefined) {
      // Never acted on: adopt what the plan says now; the first run comes at the next change.
      await this.adopt();
      applied = await this.ctx.store.getApplied(this.environment.name);
      if (applied === undefined) return false;
      this.applied.set('', applied);
    }
    applied = await this.supersedeUnwanted('', applied);
    if (applied === undefined) return true; // lost a race: the next pass sees the winner's change
    if (!this.onlyUnwantedActing(applied)) return true;
    if (this.desired !== applied.state) {
      if (await this.startedEarly(applied)) return false;
      return this.change(applied, this.desired);
    }
    if (applied.failures > 0 && applied.retry_at !== null && applied.retry_at <= this.now)
      return this.retry(applied);
    if (applied.state === 'on') {
      const stop = this.transitions.find((t) => t.at > this.now && t.state === 'off');
      if (stop !== undefined && stop.at - this.lead <= this.now && !this.startsBefore(stop.at))
        return (await this.commit('', applied, 'stop', stop.at, stop.at, 'schedule')) !== undefined;
    }
    if (applied.state === 'off') return this.startAhead(applied);
    return false;
  }

  /**
   * The next start must begin by `at` to be running on time: a stop then would be
   * started again at once (an off-time shorter than the start takes), so it is left out.
   */
  private startsBefore(at: Instant): boolean {
    return this.start !== undefined && this.start.beginAt <= at && this.start.readyBy > at;
  }

  /**
   * Applied on while the plan says off now: a start begun early for an instant the
   * plan still wants on (its begin moved later since, the inventory shrank, say) is
   * not undone; anything else is.
   */
  private async startedEarly(applied: Applied): Promise<boolean> {
    if (applied.state !== 'on' || applied.run_id === null) return false;
    const run =
      this.open.find((r) => r.id === applied.run_id) ??
      (await this.ctx.store.getRun(applied.run_id));
    return (
      run !== undefined &&
      run.direction === 'start' &&
      run.target === '' &&
      run.due_at > this.now &&
      whyUnwanted(run, applied, this.timeline, this.now) === undefined
    );
  }

  /** A scheduled start within COMMIT_AHEAD_MS, committed now to act at its instant. */
  private async startAhead(applied: Applied): Promise<boolean> {
    const start = this.transitions.find((t) => t.at > this.now && t.state === 'on');
    if (start === undefined || start.at - COMMIT_AHEAD_MS > this.now) return false;
    return (await this.commit('', applied, 'start', start.at, start.at, 'schedule')) !== undefined;
  }

  private async adopt(): Promise<void> {
    const adopted = await commitApplied(
      this.ctx,
      {
        environment: this.environment.name,
        resource: '',
        expectedSeq: undefined,
        state: this.desired,
        runId: null,
        actor: 'scheduler',
      },
      [
        {
          at: this.now,
          actor: 'scheduler',
          kind: 'environment.adopted',
          environment: this.environment.name,
          payload: {
            state: this.desired,
            mode: this.environment.mode ?? 'transitions',
            note: 'first seen: left as it is until its next transition (enforce mode corrects it now)',
          },
        },
      ],
    );
    if (adopted) this.ctx.changed();
  }

  /**
   * The plan wants `state` and the target's applied state is the other one: a
   * start now, or a stop warned `grace` ahead (never one that the plan would
   * call off before it acts).
   */
  private async change(applied: Applied, state: 'on' | 'off'): Promise<boolean> {
    const latest = this.transitions.filter((t) => t.at <= this.now).at(-1);
    const onTime = latest !== undefined && this.now - latest.at <= this.tolerance;
    const actAt = state === 'on' ? this.now : this.now + this.grace;
    if (state === 'off' && this.timeline.stateAt(actAt) === 'on') return false;
    if (state === 'off' && this.startsBefore(actAt)) return false;
    const early = state === 'on' ? this.readyBy : undefined;
    const trigger = onTime || early !== undefined ? 'schedule' : 'catch-up';
    return (
      (await this.commit(
        '',
        applied,
        directionOf(state),
        early ?? latest?.at ?? this.now,
        actAt,
        trigger,
        0,
        early === undefined ? undefined : this.start,
      )) !== undefined
    );
  }

  /**
   * The last run did not reach the applied state: try again, with backoff (set
   * when it failed), at once: a stop was warned before its first try.
   */
  private async retry(applied: Applied): Promise<boolean> {
    const state = applied.state === 'on' ? 'on' : 'off';
    // A failed run limited to some resources (a database that started by itself) is
    // retried on them alone: a machine a person started stays as it is.
    const failed =
      applied.run_id === null ? undefined : await this.ctx.store.getRun(applied.run_id);
    const scope =
      failed === undefined || failed.scope === null
        ? undefined
        : (JSON.parse(failed.scope) as string[]);
    const run = await commitRun(this.ctx, {
      environment: this.environment,
      target: '',
      direction: directionOf(state),
      expected: applied,
      dueAt: this.now,
      actAt: this.now,
      trigger: 'retry',
      actor: 'scheduler',
      failures: applied.failures,
      ...(scope === undefined ? {} : { scope }),
    });
    if (run !== undefined) this.open = [...this.open, run];
    return run !== undefined;
  }

  private async commit(
    target: string,
    applied: Applied | undefined,
    direction: 'start' | 'stop',
    dueAt: Instant,
    actAt: Instant,
    trigger: Run['trigger'],
    failures = 0,
    readyBy?: StartPlan,
  ): Promise<Run | undefined> {
    const run = await commitRun(this.ctx, {
      ...(readyBy === undefined ? {} : { readyBy }),
      failures,
      environment: this.environment,
      target,
      direction,
      expected: applied,
      dueAt,
      actAt,
      trigger,
      actor: 'scheduler',
      // Committed ahead with no grace: nobody is warned (grace 0 means no warning).
      warns: this.grace > 0,
      // A whole-environment run settles its resources reserved alone when it acts (runner.ts).
      ...(target === '' ? {} : { scope: [target] }),
    });
    if (run !== undefined) this.open = [...this.open, run];
    return run;
  }

  /**
   * Resources reserved alone: each is its own target while its plan differs from
   * its environment's. It starts when its reservation begins while the environment
   * is off, and stops, warned, when it ends; it follows its environment again once
   * both want the same.
   */
  private async reservedResources(): Promise<void> {
    const environment = this.applied.get('');
    if (environment === undefined) return;
    const environmentBusy = this.openFor('').length > 0;
    /** Changes due now, grouped by direction and instant: resources that change together share a run. */
    const due = new Map<
      string,
      { direction: 'start' | 'stop'; actAt: Instant; rows: [string, Applied | undefined][] }
    >();
    const add = (
      resource: string,
      row: Applied | undefined,
      direction: 'start' | 'stop',
      actAt: Instant,
    ) => {
      const key = `${direction}:${actAt}`;
      const group = due.get(key) ?? { direction, actAt, rows: [] };
      group.rows.push([resource, row]);
      due.set(key, group);
    };
    for (const resource of this.reservedTargets()) {
      let row = this.applied.get(resource);
      if (row !== undefined) {
        row = await this.supersedeUnwanted(resource, row);
        if (row === undefined) continue;
      }
      if (this.openFor(resource).length > 0 || environmentBusy) continue;
      const effective = row === undefined || row.state === 'follow' ? environment.state : row.state;
      const own = covers(this.timeline.onOf(resource), this.now) ? 'on' : 'off';
      if (own !== effective) {
        const actAt = own === 'on' ? this.now : this.now + this.grace;
        if (own === 'off' && covers(this.timeline.onOf(resource), actAt)) continue;
        add(resource, row, directionOf(own), actAt);
      } else if (
        row !== undefined &&
        row.state !== 'follow' &&
        row.failures > 0 &&
        row.retry_at !== null &&
        row.retry_at <= this.now
      ) {
        // Its last run did not reach its state: again, at once, with the backoff it set.
        add(resource, row, directionOf(row.state), this.now);
      } else if (row !== undefined && row.state !== 'follow' && row.state === environment.state) {
        await commitApplied(this.ctx, {
          environment: this.environment.name,
          resource,
          expectedSeq: row.seq,
          state: 'follow',
          runId: null,
          actor: 'scheduler',
        });
      } else if (effective === 'on' && environment.state === 'off') {
        const stop = this.ownStop(resource);
        if (stop !== undefined && stop - this.lead <= this.now) add(resource, row, 'stop', stop);
      }
    }
    for (const { direction, actAt, rows } of due.values())
      await this.commitReserved(direction, actAt, rows);
  }

  /**
   * One run for resources reserved alone that change the same way at the same
   * instant (keyed by the first one's sequence; the others' rows move with it).
   */
  private async commitReserved(
    direction: 'start' | 'stop',
    actAt: Instant,
    rows: readonly [string, Applied | undefined][],
  ): Promise<void> {
    const [[first, firstRow], ...others] = rows as [
      [string, Applied | undefined],
      ...[string, Applied | undefined][],
    ];
    const id = uuidv7();
    const environmentState = this.applied.get('')?.state;
    // A retry carries its failures on, so its backoff keeps growing.
    const failures = firstRow?.state === stateOf(direction) ? firstRow.failures : 0;
    const run = await commitRun(this.ctx, {
      id,
      failures,
      environment: this.environment,
      target: first,
      ...(firstRow === undefined || firstRow.state === 'follow'
        ? environmentState === 'on' || environmentState === 'off'
          ? { prior: environmentState }
          : {}
        : {}),
      direction,
      expected: firstRow,
      dueAt: direction === 'stop' ? actAt : this.now,
      actAt,
      trigger: 'reservation',
      actor: 'scheduler',
      warns: this.grace > 0,
      scope: rows.map(([resource]) => resource),
      alongside: others.map(([resource, row]) => ({
        environment: this.environment.name,
        resource,
        expectedSeq: row?.seq,
        state: direction === 'start' ? 'on' : 'off',
        runId: id,
        actor: 'scheduler',
      })),
    });
    if (run !== undefined) this.open = [...this.open, run];
  }

  /** The next instant a resource reserved alone should go off. */
  private ownStop(resource: string): Instant | undefined {
    return this.timeline.onOf(resource).find((i) => i.end > this.now && i.start <= this.now)?.end;
  }

  private reservedTargets(): string[] {
    return reservedTargets(this.timeline, this.applied);
  }

  /**
   * No open run for the environment, or only runs acting against the plan now (a
   * stop resumed the morning after): those stop at their next tier, and the run
   * committed now waits until they did (the runner lets one act per environment).
   */
  private onlyUnwantedActing(applied: Applied): boolean {
    return this.openFor('').every(
      (run) =>
        run.status === 'acting' &&
        run.seq === applied.seq &&
        whyUnwanted(run, applied, this.timeline, this.now) !== undefined,
    );
  }

  /** Ends the target's runs in grace that are no longer wanted; returns its applied row as it is now. */
  private async supersedeUnwanted(target: string, applied: Applied): Promise<Applied | undefined> {
    let current: Applied | undefined = applied;
    for (const run of this.openFor(target)) {
      if (run.status !== 'grace' || run.target !== target) continue;
      const reason = whyUnwanted(run, current, this.timeline, this.now);
      if (reason === undefined) continue;
      if (!(await supersedeInGrace(this.ctx, run, current, reason))) continue;
      this.open = this.open.filter((r) => r.id !== run.id);
      current = await this.ctx.store.getApplied(this.environment.name, target);
    }
    return current;
  }

  /** Open runs acting for a target: the environment's own, or those whose scope holds the resource. */
  private openFor(target: string): Run[] {
    return this.open.filter(
      (r) =>
        r.direction !== 'boost' &&
        (r.target === target ||
          (target !== '' && r.trigger === 'reservation' && scopeOf(r)?.has(target) === true)),
    );
  }

  /** The next instant this environment needs a pass: a change committed ahead, a start, a retry. */
  private nextWake(): Instant {
    let wake = Number.POSITIVE_INFINITY;
    const later = (t: Instant) => {
      if (t > this.now) wake = Math.min(wake, t);
    };
    for (const t of this.transitions) {
      later(t.at - (t.state === 'off' ? this.lead : COMMIT_AHEAD_MS));
      later(t.at); // when the change could not be committed ahead (a run was acting)
    }
    if (this.start !== undefined) later(this.start.beginAt);
    for (const t of this.timeline.resourceTransitions())
      later(t.state === 'off' ? t.at - this.lead : t.at);
    for (const row of this.applied.values()) if (row.retry_at !== null) later(row.retry_at);
    return wake;
  }
}

function byEnvironment<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

/**
 * Changes of plan asked by people (API, CLI, chat): ad-hoc start and stop,
 * cancel, extend, holds, reservations, their deletion, and boosts. Each is one
 * transaction that records its actor and announces the change, so this process's
 * reconciler and every other replica's wake at once; the pass does the rest.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Environment, Instant } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import type { StoredHold, StoredReservation } from '../store/queries/plans.js';
import type { Run } from '../store/queries/runs.js';
import { scopeOf } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import { commitRun, revertApplied } from './changes.js';
import type { EngineContext } from './context.js';
import { CommandError, graceOf, HeldOff, HOUR, iso, leadOf } from './context.js';
import { cancelKeepsOnUntil, environmentNamed, fleetFor, nextTransition } from './planning.js';

/** What both providers can boost, for an engine without provider instances (the CLI). */
const BOOST_KINDS = ['ecs'];
/** A command retries this many times when a pass or replica changed the environment at that very moment. */
const RACE_RETRIES = 5;

/** A hold asked for: keep on, or keep off, from `from` (default: now) until `until`. */
export interface HoldRequest {
  readonly state: 'on' | 'off';
  readonly from?: Instant | undefined;
  readonly until: Instant;
  readonly note?: string | undefined;
}

export class Commands {
  constructor(private readonly ctx: EngineContext) {}

  /**
   * An ad-hoc start or stop (a stop warns now and acts after the grace). It also
   * holds the environment in that state until `until`, by default the next change
   * of its plan (or one hour when there is none), so a later pass or a restart
   * does not undo it; a start ends earlier ad-hoc hold-offs. The hold and the run
   * are one transaction: no pass can see one without the other.
   */
  async command(
    environmentName: string,
    direction: 'start' | 'stop',
    actor: string,
    graceMs?: number,
    until?: Instant,
  ): Promise<Run> {
    const environment = environmentNamed(this.ctx, environmentName);
    const now = this.ctx.clock.now();
    const grace = direction === 'stop' ? (graceMs ?? graceOf(environment)) : 0;
    const actAt = now + grace;
    if (until !== undefined && until <= actAt)
      throw new CommandError(
        `until ${iso(until)} is not after the action at ${iso(actAt)}; give a later until`,
      );
    const holdUntil = until ?? (await nextTransition(this.ctx, environment, actAt)) ?? actAt + HOUR;
    const state = direction === 'start' ? 'on' : 'off';
    for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
      const applied = await this.ctx.store.getApplied(environment.name);
      const open = (await this.ctx.store.openRuns()).filter(
        (r) => r.environment === environment.name && r.target === '' && r.status === 'grace',
      );
      const id = uuidv7();
      const run = await commitRun(this.ctx, {
        id,
        environment,
        target: '',
        direction,
        expected: applied,
        dueAt: now,
        actAt,
        trigger: 'adhoc',
        actor,
        supersedes: open,
        before: async (tx) => {
          if (direction === 'start') {
            // A hold-off from the config file is not the command's to end, and would stop it again.
            const configured = (await tx.listHolds([environment.name], now)).filter(
              (h) => h.source === 'config',
            );
            refuseIfHeldOff(configured, environment.name, now, holdUntil);
            await tx.endHoldsOff(environment.name, now);
          }
          const hold = await tx.addHold(
            {
              environment: environment.name,
              state,
              from: now,
              until: holdUntil,
              actor,
              note: `run ${id}`,
            },
            now,
          );
          await tx.appendEvents([holdCreated(now, actor, hold)]);
        },
      });
      // The hold names its run, so cancelling the run ends the hold it made.
      if (run !== undefined) return run;
    }
    throw new CommandError(
      `${environment.name} changed while the command was being recorded; try again`,
    );
  }

  /**
   * Cancels a stop in its grace period and keeps the environment on until `until`
   * (default: the schedule's next stop after the cancelled one, see
   * cancelKeepsOnUntil); for a run of resources reserved alone, keeps those
   * resources on.
   */
  async cancel(
    runId: string,
    actor: string,
    until?: Instant,
  ): Promise<{ run: Run; holdUntil: Instant }> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const run = await ctx.store.getRun(runId);
    if (run === undefined) throw new CommandError(`there is no run "${runId}"`);
    if (run.direction !== 'stop') {
      throw new CommandError(
        `run ${runId} is a ${run.direction}; only a stop can be cancelled (to turn the environment off, stop it)`,
      );
    }
    const holdUntil =
      until ?? cancelKeepsOnUntil(ctx, environmentNamed(ctx, run.environment), run.act_at);
    if (holdUntil <= now)
      throw new CommandError(`until ${iso(holdUntil)} is not in the future; give a later time`);
    const reserved = run.trigger === 'reservation' ? scopeOf(run) : undefined;
    await ctx.store.atomically(async (tx) => {
      if (!(await tx.endInGrace(runId, 'cancelled', now))) {
        const current = await tx.getRun(runId);
        throw new CommandError(
          `run ${runId} is ${current?.status ?? run.status}, not in its grace period; only a run that has not started acting can be cancelled`,
        );
      }
      if (reserved !== undefined) {
        // Resources reserved alone stay on by reservations of their own; a hold
        // would turn their whole environment on.
        for (const resource of reserved)
          await tx.addReservation(
            {
              environment: run.environment,
              from: now,
              to: holdUntil,
              actor,
              note: `cancelled run ${runId}`,
              resource,
            },
            now,
          );
      } else {
        // An ad-hoc stop held the environment off from its act instant: that ends too.
        await tx.endHoldsOff(run.environment, now, `run ${runId}`);
        await tx.addHold(
          {
            environment: run.environment,
            state: 'on',
            from: now,
            until: holdUntil,
            actor,
            note: `cancelled run ${runId}`,
          },
          now,
        );
      }
      await revertApplied(tx, run, now, actor);
      await tx.appendEvents([
        {
          at: now,
          actor,
          kind: 'run.cancelled',
          environment: run.environment,
          runId,
          payload: { holdUntil: iso(holdUntil) },
        },
      ]);
      await tx.announceChange();
    });
    ctx.changed();
    return { run: (await ctx.store.getRun(runId))!, holdUntil };
  }

  /**
   * Keeps an environment on until `until`; ends ad-hoc hold-offs. A hold-off from
   * the config file cannot be ended here, and would win: the extend is refused.
   */
  async extend(environmentName: string, until: Instant, actor: string): Promise<void> {
    const now = this.ctx.clock.now();
    environmentNamed(this.ctx, environmentName);
    if (until <= now)
      throw new CommandError(`until ${iso(until)} is in the past; give a later time`);
    await this.change(now, async (tx) => {
      const configured = (await tx.listHolds([environmentName], now)).filter(
        (h) => h.source === 'config',
      );
      refuseIfHeldOff(configured, environmentName, now, until);
      await tx.endHoldsOff(environmentName, now);
      const hold = await tx.addHold(
        { environment: environmentName, state: 'on', from: now, until, actor },
        now,
      );
      await tx.appendEvents([holdCreated(now, actor, hold)]);
    });
  }

  /**
   * A hold (keep on, or keep off) from `from` (default: now) until `until`. A
   * keep-on in a window a hold-off covers would do nothing (a hold-off wins): refused.
   */
  async hold(environmentName: string, hold: HoldRequest, actor: string): Promise<StoredHold> {
    const now = this.ctx.clock.now();
    environmentNamed(this.ctx, environmentName);
    if (hold.until <= Math.max(now, hold.from ?? now))
      throw new CommandError(
        `the hold ends (${iso(hold.until)}) before it starts or in the past; give a later until`,
      );
    const start = hold.from ?? now;
    return this.change(start, async (tx) => {
      if (hold.state === 'on')
        refuseIfHeldOff(
          await tx.listHolds([environmentName], start),
          environmentName,
          start,
          hold.until,
        );
      const stored = await tx.addHold({ environment: environmentName, ...hold, actor }, now);
      await tx.appendEvents([holdCreated(now, actor, stored)]);
      return stored;
    });
  }

  /** Reserves an environment (or one resource of it) for `[from, to)`; overlapping reservations merge. */
  async reserve(
    environmentName: string,
    from: Instant,
    to: Instant,
    actor: string,
    note?: string,
    resource?: string,
  ): Promise<StoredReservation> {
    const now = this.ctx.clock.now();
    environmentNamed(this.ctx, environmentName);
    checkReservationWindow(from, to, now);
    return this.change(from, async (tx) => {
      const reservation = await tx.addReservation(
        { environment: environmentName, from, to, actor, note, resource },
        now,
      );
      await tx.appendEvents([
        {
          at: now,
          actor,
          kind: 'reservation.created',
          environment: environmentName,
          payload: {
            id: reservation.id,
            from: iso(from),
            to: iso(to),
            ...(resource === undefined ? {} : { resource }),
          },
        },
      ]);
      return reservation;
    });
  }

  /** Deletes a hold made through the API or CLI; false when there is none. */
  async deleteHold(hold: StoredHold, actor: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    return this.change(hold.from ?? now, async (tx) => {
      if (!(await tx.deleteHold(hold.id))) return false;
      await tx.appendEvents([
        {
          at: now,
          actor,
          kind: 'hold.deleted',
          environment: hold.environment,
          payload: { id: hold.id, state: hold.state },
        },
      ]);
      return true;
    });
  }

  /** Deletes a reservation made through the API or CLI; false when there is none. */
  async deleteReservation(reservation: StoredReservation, actor: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    return this.change(reservation.from, async (tx) => {
      if (!(await tx.deleteReservation(reservation.id))) return false;
      await tx.appendEvents([
        {
          at: now,
          actor,
          kind: 'reservation.deleted',
          environment: reservation.environment,
          payload: {
            id: reservation.id,
            ...(reservation.resource === null ? {} : { resource: reservation.resource }),
          },
        },
      ]);
      return true;
    });
  }

  /**
   * Boosts an environment's services (ECS): scale out to the maximum with scale-in
   * paused, for `forMs`, then let scale-in resume. Refused when the environment
   * has nothing to boost, or is off or due to stop before the boost would end (a
   * stop during a boost would save the paused scaling as the state to restore).
   */
  async boost(environmentName: string, forMs: number, actor: string): Promise<Run> {
    const { ctx } = this;
    const environment = environmentNamed(ctx, environmentName);
    if (!boostable(ctx, environment))
      throw new CommandError(
        `${environmentName} selects no resource that can be boosted; boost works on ECS services (kind ecs)`,
      );
    if (forMs <= 0) throw new CommandError('give a boost a positive duration, e.g. 30m');
    const now = ctx.clock.now();
    const until = now + forMs;
    const fleet = await fleetFor(ctx, now, until, [environment]);
    const timeline = planFleet(fleet, { start: now, end: until }).get(environment.name)!;
    if (timeline.stateAt(now) !== 'on')
      throw new CommandError(`${environmentName} is off; start it before boosting it`);
    const stop = timeline.plan().transitions.find((t) => t.state === 'off' && t.at < until);
    if (stop !== undefined)
      throw new CommandError(
        `${environmentName} stops at ${iso(stop.at)}, before the boost would end at ${iso(until)}; boost for less, or extend it first`,
      );
    return this.change(now, async (tx) => {
      const run = await tx.createRun(
        {
          id: uuidv7(),
          environment: environment.name,
          direction: 'boost',
          dueAt: now,
          actAt: now,
          trigger: 'adhoc',
          actor,
          untilAt: until,
        },
        now,
      );
      await tx.appendEvents([
        {
          at: now,
          actor,
          kind: 'run.created',
          environment: environment.name,
          runId: run.id,
          payload: { direction: 'boost', trigger: 'adhoc', until: iso(until) },
        },
      ]);
      return run;
    });
  }

  /** One change of plan: its writes in one transaction, announced to every replica. */
  /**
   * One change of plan: its writes in one transaction. One that begins within the
   * pass's horizon (the largest lead and a safety tick ahead) is announced, so
   * this process's reconciler and every replica's wake at once; a later one is
   * planned by the passes as it comes into their window, with no pass of its own
   * (a burst of reservations for next week costs no reconciler work now).
   */
  private async change<T>(begins: Instant, writes: (tx: Store) => Promise<T>): Promise<T> {
    const soon = begins <= this.ctx.clock.now() + this.horizonMs();
    const result = await this.ctx.store.atomically(async (tx) => {
      const value = await writes(tx);
      if (soon) await tx.announceChange();
      return value;
    });
    if (soon) this.ctx.changed();
    return result;
  }

  private horizonMs(): number {
    const leads = [...this.ctx.environments.values()].map(leadOf);
    return Math.max(0, ...leads) + this.ctx.safetyTickMs;
  }
}

/** Throws HeldOff when a hold-off of `holds` is in force at some time of `[start, end)`. */
function refuseIfHeldOff(
  holds: readonly StoredHold[],
  environment: string,
  start: Instant,
  end: Instant,
): void {
  const off = holds.find(
    (h) => h.state === 'off' && h.until > start && (h.from ?? -Infinity) < end,
  );
  if (off === undefined) return;
  const lift =
    off.source === 'config'
      ? 'it comes from the config file: remove it there'
      : `delete hold ${off.id} first`;
  throw new HeldOff(
    off,
    `${environment} is held off ${off.from === undefined ? '' : `from ${iso(off.from)} `}until ${iso(off.until)} by ${off.actor}, and a hold-off wins over keeping it on; ${lift}, or keep it on from ${iso(off.until)}`,
  );
}

function holdCreated(now: Instant, actor: string, hold: StoredHold) {
  return {
    at: now,
    actor,
    kind: 'hold.created',
    environment: hold.environment,
    payload: {
      id: hold.id,
      state: hold.state,
      ...(hold.from === undefined ? {} : { from: iso(hold.from) }),
      until: iso(hold.until),
    },
  };
}

function boostable(ctx: EngineContext, environment: Environment): boolean {
  return (environment.tiers ?? []).some((tier) =>
    tier.select.some((selector) => {
      // The CLI's engine only records runs and has no provider instances.
      const kinds = ctx.providers.get(selector.provider)?.boostKinds ?? BOOST_KINDS;
      return (selector.kinds ?? kinds).some((k: string) => kinds.includes(k));
    }),
  );
}

/** A reservation must end after it starts, and not be over already. */
export function checkReservationWindow(from: Instant, to: Instant, now: Instant): void {
  if (to <= from) {
    throw new CommandError(
      `the reservation ends (${iso(to)}) at or before it starts (${iso(from)}); give an end after the start`,
    );
  }
  if (to <= now)
    throw new CommandError(
      `the reservation ends (${iso(to)}) in the past; give a window that is not over`,
    );
}

/**
 * The reconciler. Each pass reads the fleet (config plus the store's reservations
 * and holds), plans every environment, creates the runs that are due (a stop is
 * created `grace` before its instant, so the warning goes out and the stop still
 * happens on time), and executes due runs under a global concurrency bound. It
 * then says when it next needs to wake: the next transition, the end of a grace
 * period, or the safety tick, whichever comes first.
 *
 * Runs are keyed by (environment, direction, instant): a second pass, a restart
 * or a second replica finds the run that exists instead of making another.
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { v7 as uuidv7 } from 'uuid';
import type { Environment, Instant, Interval, Schedule, Selector } from '../core/glossary.js';
import { covers } from '../core/intervals.js';
import type { Fleet, ResourceTransition, Timeline } from '../core/planner.js';
import { planFleet } from '../core/planner.js';
import { OPEN_STATUSES, scopeOf } from '../store/queries/runs.js';
import type { Run } from '../store/queries/runs.js';
import type { StoredReservation } from '../store/queries/plans.js';
import type { Store } from '../store/store.js';
import { executeRun, Interrupted, LeaseLost, messageOf, renewLease } from './executor.js';
import type { ExecutorDeps } from './executor.js';
import type { Clock, Notifier, Provider } from './ports.js';
import { RetryPolicy } from './retry.js';

export const DEFAULT_GRACE_MS = 15 * 60_000;
/** How far back a pass looks for the transition an environment is behind on. */
const LOOKBACK_MS = 7 * 24 * 3_600_000;
/** After a failed correction, enforce mode waits this long before trying again. */
const ENFORCE_COOLDOWN_MS = 5 * 60_000;
const HOUR = 3_600_000;
/** What both providers can boost, for an engine without provider instances (the CLI). */
const BOOST_KINDS = ['ecs'];
/** Resources that start by themselves are looked at this often while off. */
export const DEFAULT_WATCH_MS = 15 * 60_000;

export interface EngineLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface EngineOptions {
  readonly store: Store;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly clock: Clock;
  readonly notifier: Notifier;
  readonly log: EngineLog;
  /** Schedules and environments from the config file. */
  readonly schedules: ReadonlyMap<string, Schedule>;
  readonly environments: readonly Environment[];
  /** This process's name in run leases (stable across restarts on one host). */
  readonly owner?: string;
  readonly concurrency?: number;
  readonly safetyTickMs?: number;
  /** How often resources that start by themselves are looked at while off. */
  readonly watchMs?: number;
  readonly pollMs?: number;
  readonly leaseMs?: number;
  readonly retry?: RetryPolicy;
}

export class Engine {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: EngineLog;
  private readonly environments: ReadonlyMap<string, Environment>;
  private readonly limit;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly deps: ExecutorDeps;
  private readonly safetyTickMs: number;
  /** When each environment's self-restarting resources were last looked at. */
  private readonly watched = new Map<string, Instant>();
  private readonly watchMs: number;
  /** The previous pass's instant: a transition after it is on time, one before it a catch-up. */
  private watermark: Instant | undefined;

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.environments = new Map(options.environments.map((e) => [e.name, e]));
    this.limit = pLimit(options.concurrency ?? 16);
    this.safetyTickMs = options.safetyTickMs ?? 30_000;
    this.watchMs = options.watchMs ?? DEFAULT_WATCH_MS;
    // Every concurrent sleep of every run listens to this one signal.
    setMaxListeners(0, this.abort.signal);
    this.deps = {
      store: options.store,
      providers: options.providers,
      clock: options.clock,
      notifier: options.notifier,
      retry: options.retry ?? new RetryPolicy(),
      pollMs: options.pollMs ?? 5_000,
      owner: options.owner ?? 'lightsout',
      leaseMs: options.leaseMs ?? 60_000,
      signal: this.abort.signal,
    };
  }

  /** One reconciler pass; returns the instant it next needs to run. */
  async tick(): Promise<Instant> {
    const now = this.clock.now();
    const maxGrace = Math.max(0, ...[...this.environments.values()].map(graceOf));
    // Back far enough to name the transition an environment is behind on; ahead far
    // enough to see every stop whose warning falls before the next safety tick.
    const window = { start: now - LOOKBACK_MS, end: now + maxGrace + this.safetyTickMs + 1 };
    const fleet = await this.fleet(window.start, window.end);
    const timelines = planFleet(fleet, window);
    let nextWake = now + this.safetyTickMs;
    for (const environment of this.environments.values()) {
      const timeline = timelines.get(environment.name);
      if (timeline === undefined) continue;
      try {
        const plan = timeline.plan();
        const recent = await this.powerRuns(environment.name);
        await this.bringToDesiredState(
          environment,
          timeline.stateAt(now),
          plan.transitions,
          recent,
          now,
        );
        for (const transition of plan.transitions) {
          if (transition.at <= now) continue;
          const warnAt =
            transition.state === 'off' ? transition.at - graceOf(environment) : transition.at;
          if (transition.state === 'off' && warnAt <= now) {
            await this.createRun(environment, 'stop', transition.at, 'schedule', 'scheduler');
          } else {
            nextWake = Math.min(nextWake, warnAt);
          }
        }
        nextWake = Math.min(
          nextWake,
          await this.followReservedResources(environment, timeline, now),
        );
        if (environment.mode === 'enforce') await this.enforce(environment, timeline, now);
        else if (timeline.stateAt(now) === 'off')
          await this.watchWhileOff(environment, timeline, now);
      } catch (error) {
        // One environment's failure (a provider refusing discovery, say) never stops the others.
        this.log.error(
          { environment: environment.name, error: messageOf(error) },
          'reconciling this environment failed',
        );
        await this.store
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
    this.watermark = now;
    await this.runDue(now);
    const nextAct = await this.store.nextActAt(now);
    return Math.min(nextWake, nextAct ?? Number.POSITIVE_INFINITY);
  }

  /**
   * The heart of "reconcile, don't fire-and-forget": when the environment's last
   * intent (its latest run that was not cancelled) differs from its desired state
   * now, and no run is open, create the run for the latest transition. Its key is
   * that transition's instant, so every pass and every replica names the same
   * run. A transition that passed while lightsout was down, or that a reservation
   * made after the fact, is caught up here.
   */
  private async bringToDesiredState(
    environment: Environment,
    desired: 'on' | 'off',
    transitions: readonly { at: Instant; state: 'on' | 'off' }[],
    recent: readonly Run[],
    now: Instant,
  ): Promise<void> {
    if (recent.some((r) => isOpen(r))) return;
    const intent = recent.find((r) => r.status !== 'cancelled');
    if (intent !== undefined && (intent.direction === 'start' ? 'on' : 'off') === desired) return;
    const passed = transitions.filter((t) => t.at <= now);
    const latest = passed.at(-1);
    // Without a transition in the look-back window, the key is "from the beginning".
    const dueAt = latest?.at ?? 0;
    const onTime =
      latest !== undefined && this.watermark !== undefined && latest.at > this.watermark;
    if (!onTime) {
      const missed = passed.filter((t) => t.at > (intent?.due_at ?? now - LOOKBACK_MS));
      if (missed.length > 0) {
        await this.store.appendEvents(
          missed.map((t) => ({
            at: now,
            actor: 'scheduler',
            kind: 'transition.missed',
            environment: environment.name,
            payload: { at: iso(t.at), state: t.state },
          })),
        );
      }
    }
    await this.createRun(
      environment,
      desired === 'on' ? 'start' : 'stop',
      dueAt,
      onTime ? 'schedule' : 'catch-up',
      'scheduler',
      now,
    );
  }

  /**
   * Enforce mode: resources found settled in the wrong state get a run that
   * corrects them, unless a run is open or the last correction failed recently.
   */
  private async enforce(environment: Environment, timeline: Timeline, now: Instant): Promise<void> {
    const desired = timeline.stateAt(now);
    // Listed afresh: this pass may just have created a run for this environment.
    const [last] = await this.powerRuns(environment.name);
    if (!this.mayCorrect(last, now)) return;
    const reserved = await this.reservedNow(environment, timeline, now);
    const wrong = (
      await this.foundIn(environment, desired === 'on' ? ['off'] : ['on'], (selector) => selector)
    ).filter((id) => !reserved.has(id));
    if (wrong.length === 0) return;
    await this.correct(environment, desired, now, 'drift.detected', 'enforce', wrong);
  }

  /**
   * Transitions mode, while an environment should be off: resources of kinds that
   * start by themselves (a database AWS restarts after 7 days) are looked at every
   * `watchMs`, and stopped again when found running, so they stay off for weeks.
   */
  private async watchWhileOff(
    environment: Environment,
    timeline: Timeline,
    now: Instant,
  ): Promise<void> {
    if ((this.watched.get(environment.name) ?? -Infinity) > now - this.watchMs) return;
    this.watched.set(environment.name, now);
    const [last] = await this.powerRuns(environment.name);
    // Only once lightsout has stopped it: a first stop is the scheduler's business.
    if (last?.direction !== 'stop' || !this.mayCorrect(last, now)) return;
    const reserved = await this.reservedNow(environment, timeline, now);
    const restarted = (
      await this.foundIn(environment, ['on', 'starting'], (selector) => {
        const kinds = this.options.providers.get(selector.provider)?.restartsByItself ?? [];
        const watched = (selector.kinds ?? kinds).filter((k: string) => kinds.includes(k));
        return watched.length === 0 ? undefined : { ...selector, kinds: watched };
      })
    ).filter((id) => !reserved.has(id));
    if (restarted.length === 0) return;
    await this.correct(
      environment,
      'off',
      now,
      'resource.restarted-by-itself',
      'auto-restart',
      restarted,
    );
  }

  /**
   * Resources that follow their own reservations now: reserved on while the
   * environment is off, or in a run for reserved resources still under way (a
   * reservation ending this instant whose stop has not acted yet). Neither
   * enforce mode nor the watch takes them for drift.
   */
  private async reservedNow(
    environment: Environment,
    timeline: Timeline,
    now: Instant,
  ): Promise<Set<string>> {
    const reserved = new Set(timeline.keptOnAt(now));
    if (timeline.resourceOn.size === 0) return reserved;
    const runs = await this.store.listRuns({
      environment: environment.name,
      reservation: true,
      limit: 50,
    });
    for (const run of runs.filter(isOpen)) for (const id of scopeOf(run) ?? []) reserved.add(id);
    return reserved;
  }

  /**
   * The latest starts and stops, newest first: what lightsout last meant the state
   * to be. A boost says nothing about it, nor does a run for resources reserved alone.
   */
  private async powerRuns(environment: string): Promise<Run[]> {
    // Filtered before the limit: many runs for reserved resources never hide the intent.
    return this.store.listRuns({ environment, power: true, limit: 20 });
  }

  /**
   * Resources reserved alone (`POST /provision`) follow their own plan where it
   * differs from their environment's: a run scoped to them starts them when their
   * reservation begins while the environment is off, and stops them, warned
   * `grace` ahead, when it ends. As for environments, a change that passed (a
   * restart, a reservation made after its start) is caught up while it is still
   * what the resource should be. Returns when the next change is due.
   */
  private async followReservedResources(
    environment: Environment,
    timeline: Timeline,
    now: Instant,
  ): Promise<Instant> {
    const changes = timeline.resourceTransitions();
    if (changes.length === 0) return Number.POSITIVE_INFINITY;
    let wake = Number.POSITIVE_INFINITY;
    /** The change each resource is due for now: its latest passed one, or a stop whose warning is due. */
    const due = new Map<string, ResourceTransition>();
    for (const change of changes) {
      const warnAt = change.state === 'off' ? change.at - graceOf(environment) : change.at;
      if (warnAt <= now) for (const resource of change.resources) due.set(resource, change);
      else wake = Math.min(wake, warnAt);
    }
    const runs = await this.store.listRuns({ environment: environment.name, limit: 200 });
    const pending = new Map<ResourceTransition, string[]>();
    for (const [resource, change] of due) {
      // A passed change is acted on only while it is still what the resource should be.
      const wanted =
        change.at > now || covers(timeline.onOf(resource), now) === (change.state === 'on');
      if (wanted && !reached(runs, timeline, resource, change))
        pending.set(change, [...(pending.get(change) ?? []), resource]);
    }
    for (const [change, resources] of pending)
      await this.createScopedRun(environment, change, resources, now);
    return wake;
  }

  /**
   * The run for a change of resources reserved alone, keyed by the change's instant.
   * When that key holds a run that does not cover them (it was made before their
   * reservation), the key is the change's instant plus the first millisecond free,
   * so every pass and replica still names the same run.
   */
  private async createScopedRun(
    environment: Environment,
    change: ResourceTransition,
    resources: readonly string[],
    now: Instant,
  ): Promise<void> {
    const direction = change.state === 'on' ? 'start' : 'stop';
    const actAt = Math.max(change.at, now);
    for (let key = change.at; ; key++) {
      const run = await this.createRun(
        environment,
        direction,
        key,
        'reservation',
        'scheduler',
        actAt,
        { scope: resources },
      );
      const scope = scopeOf(run);
      if (run.status !== 'cancelled' && scope !== undefined && resources.every((r) => scope.has(r)))
        return;
    }
  }

  /** No run open, and no correction failed recently. */
  private mayCorrect(last: Run | undefined, now: Instant): boolean {
    if (last !== undefined && isOpen(last)) return false;
    return !(last?.status === 'failed' && (last.finished_at ?? 0) > now - ENFORCE_COOLDOWN_MS);
  }

  /** Ids of the environment's resources observed in one of `states`, through narrowed selectors. */
  private async foundIn(
    environment: Environment,
    states: readonly string[],
    narrow: (selector: Selector) => Selector | undefined,
  ): Promise<string[]> {
    const resources = (
      await Promise.all(
        (environment.tiers ?? []).flatMap((tier) =>
          tier.select.map(async (selector) => {
            const provider = this.options.providers.get(selector.provider);
            const narrowed = narrow(selector);
            return provider === undefined || narrowed === undefined
              ? []
              : provider.discover(narrowed);
          }),
        ),
      )
    ).flat();
    const found: string[] = [];
    for (const [providerName, group] of groupBy(resources, (r) => r.provider)) {
      const observed = await this.options.providers.get(providerName)!.observe(group);
      for (const r of group) {
        const state = observed.get(r.id);
        if (typeof state === 'string' && states.includes(state)) found.push(r.id);
      }
    }
    return found;
  }

  private async correct(
    environment: Environment,
    desired: 'on' | 'off',
    now: Instant,
    event: string,
    trigger: Run['trigger'],
    resources: readonly string[],
  ): Promise<void> {
    await this.store.appendEvents([
      {
        at: now,
        actor: 'scheduler',
        kind: event,
        environment: environment.name,
        payload: { desired, resources },
      },
    ]);
    await this.createRun(
      environment,
      desired === 'on' ? 'start' : 'stop',
      now,
      trigger,
      'scheduler',
      now,
      // A database that started by itself is stopped alone; enforce takes everything.
      trigger === 'auto-restart' ? { scope: resources } : {},
    );
  }

  /** Waits for every run this process has started (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Stops at the next safe point: in-flight steps finish recording, runs stay open and resume after restart. */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  /**
   * An ad-hoc start or stop (a stop warns now and acts after the grace). It also
   * holds the environment in that state until `until`, by default the next change
   * of its plan (or one hour when there is none), so that a later pass or a restart
   * does not undo it; an earlier ad-hoc hold-off ends when someone starts it.
   */
  async command(
    environmentName: string,
    direction: Run['direction'],
    actor: string,
    graceMs?: number,
    until?: Instant,
  ): Promise<Run> {
    const environment = this.environment(environmentName);
    const now = this.clock.now();
    const grace = direction === 'stop' ? (graceMs ?? graceOf(environment)) : 0;
    const actAt = now + grace;
    if (until !== undefined && until <= actAt)
      throw new CommandError(
        `--until ${iso(until)} is not after the action at ${iso(actAt)}; give a later time`,
      );
    if (direction === 'start') await this.store.endHoldsOff(environment.name, now);
    const holdUntil =
      until ?? (await this.nextTransition(environment, actAt, 'change')) ?? actAt + HOUR;
    const run = await this.createRun(environment, direction, now, 'adhoc', actor, actAt);
    await this.store.addHold(
      {
        environment: environment.name,
        state: direction === 'start' ? 'on' : 'off',
        from: now,
        until: holdUntil,
        actor,
        note: `run ${run.id}`,
      },
      now,
    );
    return run;
  }

  /**
   * Cancels a run in its grace period and keeps the environment on until `until`
   * (default: its next scheduled start, or one hour when it has none); for a run
   * of resources reserved alone, keeps those resources on.
   */
  async cancel(
    runId: string,
    actor: string,
    until?: Instant,
  ): Promise<{ run: Run; holdUntil: Instant }> {
    const now = this.clock.now();
    const run = await this.store.getRun(runId);
    if (run === undefined)
      throw new CommandError(`there is no run "${runId}"; list runs with lightsout runs`);
    if (run.direction !== 'stop') {
      throw new CommandError(
        `run ${runId} is a start; only a stop can be cancelled (to turn the environment off, use lightsout stop)`,
      );
    }
    if (!(await this.store.cancelRun(runId, now))) {
      throw new CommandError(
        `run ${runId} is ${run.status}, not in its grace period; only a run that has not started acting can be cancelled`,
      );
    }
    const holdUntil =
      until ??
      (await this.nextTransition(this.environment(run.environment), now, 'scheduled start')) ??
      now + HOUR;
    const reserved = run.trigger === 'reservation' ? scopeOf(run) : undefined;
    if (reserved !== undefined) {
      // Resources reserved alone stay on by reservations of their own; a hold
      // would turn their whole environment on.
      for (const resource of reserved)
        await this.store.addReservation(
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
      await this.store.endHoldsOff(run.environment, now, `run ${runId}`);
      await this.store.addHold(
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
    await this.store.appendEvents([
      {
        at: now,
        actor,
        kind: 'run.cancelled',
        environment: run.environment,
        runId,
        payload: { holdUntil: iso(holdUntil) },
      },
    ]);
    return { run: (await this.store.getRun(runId))!, holdUntil };
  }

  /**
   * Boosts an environment's services (ECS): scale out to the maximum with scale-in
   * paused, for `forMs`, then let scale-in resume. Refused when the environment
   * has nothing to boost, or is off or due to stop before the boost would end (a
   * stop during a boost would save the paused scaling as the state to restore).
   */
  async boost(environmentName: string, forMs: number, actor: string): Promise<Run> {
    const environment = this.environment(environmentName);
    const boostable = (environment.tiers ?? []).some((tier) =>
      tier.select.some((selector) => {
        // The CLI's engine only records runs and has no provider instances.
        const kinds = this.options.providers.get(selector.provider)?.boostKinds ?? BOOST_KINDS;
        return (selector.kinds ?? kinds).some((k: string) => kinds.includes(k));
      }),
    );
    if (!boostable)
      throw new CommandError(
        `${environmentName} selects no resource that can be boosted; boost works on ECS services (kind ecs)`,
      );
    if (forMs <= 0) throw new CommandError('give a boost a positive duration, e.g. --for 30m');
    const now = this.clock.now();
    const until = now + forMs;
    const fleet = await this.fleet(now, until);
    const timeline = planFleet(
      { ...fleet, environments: [environment] },
      { start: now, end: until },
    ).get(environment.name)!;
    if (timeline.stateAt(now) !== 'on')
      throw new CommandError(`${environmentName} is off; start it before boosting it`);
    const stop = timeline.plan().transitions.find((t) => t.state === 'off' && t.at < until);
    if (stop !== undefined)
      throw new CommandError(
        `${environmentName} stops at ${iso(stop.at)}, before the boost would end at ${iso(until)}; boost for less, or extend it first`,
      );
    return this.createRun(environment, 'boost', now, 'adhoc', actor, now, { untilAt: until });
  }

  /** Keeps an environment on until `until`. */
  async extend(environmentName: string, until: Instant, actor: string): Promise<void> {
    const now = this.clock.now();
    this.environment(environmentName);
    if (until <= now)
      throw new CommandError(`--until ${iso(until)} is in the past; give a later time`);
    // Keeping it on overrides an ad-hoc stop (made with the CLI or API), not a hold-off from the config.
    await this.store.endHoldsOff(environmentName, now);
    await this.store.addHold(
      { environment: environmentName, state: 'on', from: now, until, actor },
      now,
    );
    await this.store.appendEvents([
      {
        at: now,
        actor,
        kind: 'hold.created',
        environment: environmentName,
        payload: { state: 'on', until: iso(until) },
      },
    ]);
  }

  /** Reserves an environment for `[from, to)`; overlapping reservations merge. */
  async reserve(
    environmentName: string,
    from: Instant,
    to: Instant,
    actor: string,
    note?: string,
    resource?: string,
  ): Promise<StoredReservation> {
    const now = this.clock.now();
    this.environment(environmentName);
    checkReservationWindow(from, to, now);
    const reservation = await this.store.addReservation(
      { environment: environmentName, from, to, actor, note, resource },
      now,
    );
    await this.store.appendEvents([
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
  }

  /**
   * When the environment (or one resource of it) will be on within [from, to):
   * schedule, reservations and holds merged.
   */
  async onWindows(
    environmentName: string,
    from: Instant,
    to: Instant,
    resource?: string,
  ): Promise<Interval[]> {
    const environment = this.environment(environmentName);
    const fleet = await this.fleetFor([environment], from, to);
    return [...planFleet(fleet, { start: from, end: to }).get(environment.name)!.onOf(resource)];
  }

  /**
   * The next transition of an environment after `from`, within 14 days: any change
   * of its plan, or the next start its schedule alone makes.
   */
  private async nextTransition(
    environment: Environment,
    from: Instant,
    which: 'change' | 'scheduled start',
  ): Promise<Instant | undefined> {
    const window = { start: from, end: from + 14 * 24 * HOUR };
    const fleet = await this.fleet(window.start, window.end);
    const planned: Fleet = which === 'change' ? fleet : { ...fleet, reservations: [], holds: [] };
    const plan = planFleet({ ...planned, environments: [environment] }, window)
      .get(environment.name)!
      .plan();
    return plan.transitions.find((t) => which === 'change' || t.state === 'on')?.at;
  }

  private environment(name: string): Environment {
    const environment = this.environments.get(name);
    if (environment === undefined) {
      throw new CommandError(
        `there is no environment "${name}"; known: ${[...this.environments.keys()].join(', ')}`,
      );
    }
    return environment;
  }

  /**
   * The fleet for planning `environments` over [from, until): config, and only
   * the reservations and holds that touch that window (readers such as the API
   * plan days ahead, not every reservation ever made).
   */
  async fleetFor(
    environments: readonly Environment[],
    from: Instant,
    until: Instant,
  ): Promise<Fleet> {
    const { reservations, holds } = await this.store.activePlans(from, {
      until,
      environments: environments.map((e) => e.name),
    });
    return { schedules: this.options.schedules, environments, reservations, holds };
  }

  /** Every environment's fleet for planning [from, until). */
  private async fleet(from: Instant, until: Instant): Promise<Fleet> {
    const { reservations, holds } = await this.store.activePlans(from, { until });
    return {
      schedules: this.options.schedules,
      environments: [...this.environments.values()],
      reservations,
      holds,
    };
  }

  private async createRun(
    environment: Environment,
    direction: Run['direction'],
    dueAt: Instant,
    trigger: Run['trigger'],
    actor: string,
    actAt: Instant = dueAt,
    extra: { scope?: readonly string[]; untilAt?: Instant } = {},
  ): Promise<Run> {
    const now = this.clock.now();
    const { run, created } = await this.store.createRun(
      {
        id: uuidv7(),
        environment: environment.name,
        direction,
        dueAt,
        actAt,
        trigger,
        actor,
        ...extra,
      },
      now,
    );
    if (!created) return run;
    await this.store.appendEvents([
      {
        at: now,
        actor,
        kind: 'run.created',
        environment: environment.name,
        runId: run.id,
        payload: {
          direction,
          trigger,
          dueAt: iso(dueAt),
          actAt: iso(run.act_at),
          ...(extra.scope === undefined ? {} : { scope: extra.scope }),
          ...(extra.untilAt === undefined ? {} : { until: iso(extra.untilAt) }),
        },
      },
    ]);
    this.log.info(
      { environment: environment.name, run: run.id, direction, trigger, actAt: iso(run.act_at) },
      'run created',
    );
    if (direction === 'stop' && run.act_at > now) await this.warn(environment, run);
    return run;
  }

  private async warn(environment: Environment, run: Run): Promise<void> {
    const scope = scopeOf(run);
    const what =
      scope === undefined ? environment.name : `${[...scope].join(', ')} (in ${environment.name})`;
    const text = `${what} stops at ${iso(run.act_at)}. To keep it running: lightsout cancel ${run.id}`;
    try {
      await this.options.notifier.send({
        kind: 'stop-warning',
        environment: environment.name,
        team: environment.team,
        runId: run.id,
        text,
        at: this.clock.now(),
      });
      await this.store.appendEvents([
        {
          at: this.clock.now(),
          actor: 'lightsout',
          kind: 'notice.sent',
          environment: environment.name,
          runId: run.id,
          payload: { notice: 'stop-warning' },
        },
      ]);
    } catch (error) {
      await this.store.appendEvents([
        {
          at: this.clock.now(),
          actor: 'lightsout',
          kind: 'notice.failed',
          environment: environment.name,
          runId: run.id,
          payload: { notice: 'stop-warning', error: messageOf(error) },
        },
      ]);
    }
  }

  private async runDue(now: Instant): Promise<void> {
    const owner = this.deps.owner;
    for (const run of await this.store.dueRuns(now, owner)) {
      if (this.inFlight.has(run.id)) continue;
      if (!(await this.store.claimRun(run.id, owner, now, this.deps.leaseMs))) continue;
      const work = this.limit(() => this.execute(run)).finally(() => this.inFlight.delete(run.id));
      this.inFlight.set(run.id, work);
    }
  }

  private async execute(run: Run): Promise<void> {
    const environment = this.environments.get(run.environment);
    const now = this.clock.now();
    if (environment === undefined) {
      await this.store.advanceRun(run.id, 'failed', now, {
        error: `environment "${run.environment}" is no longer in the config`,
      });
      return;
    }
    // The plan at `now`, read once for both checks below, only when one needs it.
    let planned: Promise<Timeline> | undefined;
    const timeline = () => (planned ??= this.timelineAt(environment, now));
    try {
      if (run.status === 'grace') {
        if (run.direction !== 'boost' && (await this.superseded(run, now, timeline))) return;
        if (!(await this.store.advanceRun(run.id, 'acting', now))) return; // cancelled meanwhile
        await this.store.appendEvents([
          {
            at: now,
            actor: 'lightsout',
            kind: 'run.acting',
            environment: run.environment,
            runId: run.id,
          },
        ]);
      }
      const leave = await this.leftAlone(environment, run, now, timeline);
      const summary = await this.withLease(run, (deps) =>
        executeRun(deps, run, environment, leave),
      );
      this.log.info(
        {
          environment: run.environment,
          run: run.id,
          outcome: summary.outcome,
          counts: summary.counts,
        },
        'run finished',
      );
    } catch (error) {
      if (error instanceof Interrupted) return;
      if (error instanceof LeaseLost) {
        this.log.warn(
          { environment: run.environment, run: run.id },
          'another replica took this run over',
        );
        return;
      }
      this.log.error(
        { environment: run.environment, run: run.id, error: messageOf(error) },
        'run failed',
      );
      await this.store.advanceRun(run.id, 'failed', this.clock.now(), { error: messageOf(error) });
      await this.store.appendEvents([
        {
          at: this.clock.now(),
          actor: 'lightsout',
          kind: 'run.finished',
          environment: run.environment,
          runId: run.id,
          payload: { outcome: 'failed', error: messageOf(error) },
        },
      ]);
    }
  }

  /**
   * Runs `work` holding the run's lease: claimed first (a replica that lost it in
   * the queue stops here), renewed on a timer while providers take their time, and
   * the run is stopped at its next safe point if the lease is ever lost.
   */
  private async withLease<T>(run: Run, work: (deps: ExecutorDeps) => Promise<T>): Promise<T> {
    await renewLease(this.deps, run);
    const lost = new AbortController();
    const renew = setInterval(
      () => {
        renewLease(this.deps, run).catch((error: unknown) => {
          lost.abort(error instanceof LeaseLost ? error : new LeaseLost(messageOf(error)));
        });
      },
      Math.max(1_000, this.deps.leaseMs / 3),
    );
    renew.unref();
    try {
      return await work({
        ...this.deps,
        signal: AbortSignal.any([this.abort.signal, lost.signal]),
      });
    } finally {
      clearInterval(renew);
    }
  }

  /** The environment's plan at `now` alone. */
  private async timelineAt(environment: Environment, now: Instant): Promise<Timeline> {
    const fleet = await this.fleet(now, now + 1);
    return planFleet({ ...fleet, environments: [environment] }, { start: now, end: now + 1 }).get(
      environment.name,
    )!;
  }

  /**
   * Resources a run leaves as they are: a whole-environment stop leaves on the
   * resources reserved alone now; a run for reserved resources leaves those that
   * no longer want its way (one reserved longer during the stop's grace). Stops
   * record what they keep on, so the log says why it was not stopped.
   */
  private async leftAlone(
    environment: Environment,
    run: Run,
    now: Instant,
    planAt: () => Promise<Timeline>,
  ): Promise<Set<string>> {
    const scope = scopeOf(run);
    const mayLeave = scope === undefined ? run.direction === 'stop' : run.trigger === 'reservation';
    if (!mayLeave) return new Set();
    const timeline = await planAt();
    const left =
      scope === undefined
        ? timeline.keptOnAt(now)
        : [...scope].filter((r) => covers(timeline.onOf(r), now) !== (run.direction === 'start'));
    if (left.length > 0 && run.direction === 'stop')
      await this.store.appendEvents([
        {
          at: now,
          actor: 'scheduler',
          kind: 'resource.kept-on',
          environment: environment.name,
          runId: run.id,
          payload: { resources: left, reason: 'reserved' },
        },
      ]);
    return new Set(left);
  }

  /**
   * A scheduled run whose target is no longer the desired state when its grace
   * ends (a reservation or a hold came in meanwhile) is cancelled, not acted on.
   * A run for resources reserved alone goes on while one of them still wants it.
   */
  private async superseded(
    run: Run,
    now: Instant,
    planAt: () => Promise<Timeline>,
  ): Promise<boolean> {
    const timeline = await planAt();
    const target = run.direction === 'start' ? 'on' : 'off';
    const scope = run.trigger === 'reservation' ? scopeOf(run) : undefined;
    const wanted =
      scope === undefined
        ? [timeline.stateAt(now)]
        : [...scope].map((r) => (covers(timeline.onOf(r), now) ? 'on' : 'off'));
    const desired = wanted.includes(target) ? target : wanted[0]!;
    if (desired === target) return false;
    if (await this.store.cancelRun(run.id, now)) {
      await this.store.appendEvents([
        {
          at: now,
          actor: 'scheduler',
          kind: 'run.superseded',
          environment: run.environment,
          runId: run.id,
          payload: { reason: `desired state is ${desired} now` },
        },
      ]);
    }
    return true;
  }
}

/** A command that cannot be carried out as asked; the message says why and what to do. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** A reservation must end after it starts, and not be over already. */
export function checkReservationWindow(from: Instant, to: Instant, now: Instant): void {
  if (to <= from) {
    throw new CommandError(
      `the reservation ends (${iso(to)}) at or before it starts (${iso(from)}); make --to later than --from`,
    );
  }
  if (to <= now)
    throw new CommandError(
      `the reservation ends (${iso(to)}) in the past; give a window that is not over`,
    );
}

export function graceOf(environment: Environment): number {
  return environment.graceMs ?? DEFAULT_GRACE_MS;
}

/**
 * Whether a resource has been taken to the state `change` asks for: the newest run
 * acting on it at or after the change (not cancelled) goes that way. A later run
 * the other way (a stop acting on a resource someone then reserved longer) undoes
 * it. A whole-environment stop does not act on a resource its plan kept on then.
 */
function reached(
  runs: readonly Run[],
  timeline: Timeline,
  resource: string,
  change: ResourceTransition,
): boolean {
  const actsOn = (r: Run) => {
    const scope = scopeOf(r);
    if (scope !== undefined) return scope.has(resource);
    return r.direction !== 'stop' || !covers(timeline.onOf(resource), r.act_at);
  };
  const newest = runs
    .filter(
      (r) =>
        r.status !== 'cancelled' && r.direction !== 'boost' && r.act_at >= change.at && actsOn(r),
    )
    .sort((a, b) => b.act_at - a.act_at)[0];
  return newest?.direction === (change.state === 'on' ? 'start' : 'stop');
}

function isOpen(run: Run): boolean {
  return OPEN_STATUSES.includes(run.status);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function iso(t: Instant): string {
  return new Date(t).toISOString();
}

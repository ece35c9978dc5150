/**
 * The engine, wired in one place. Where things happen:
 * - `pass.ts`: the reconciler pass, desired versus applied state per target;
 * - `changes.ts`: every change of applied state (compare-and-set, run, warning);
 * - `commands.ts`: changes people ask for (start, stop, cancel, holds, reservations);
 * - `watches.ts`: enforce mode and the watch for databases that restart by themselves;
 * - `runner.ts`: claiming and executing runs under fenced leases;
 * - `executor.ts`: one run's tiers, steps, retries and verification;
 * - `notices.ts`: delivering the warnings and summaries runs owe;
 * - `notice-wait.ts`: a stop that waits until a channel accepted its warning (require_notice).
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Environment, Instant, Interval, Schedule } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import type { Fleet } from '../core/planner.js';
import type { StoredHold, StoredReservation } from '../store/queries/plans.js';
import type { Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import { Commands } from './commands.js';
import type { HoldRequest } from './commands.js';
import type { EngineContext, EngineLog } from './context.js';
import { deliverNotices } from './notices.js';
import { nextNoticeWaitEnd, warningTaken } from './notice-wait.js';
import { LAST_PASS, reconcile } from './pass.js';
import { PlanCache } from './plan-cache.js';
import { environmentNamed, fleetFor, nextScheduledStart } from './planning.js';
import type { Clock, Notifier, Provider } from './ports.js';
import { RetryPolicy } from './retry.js';
import { Runner } from './runner.js';

export { CommandError, DEFAULT_GRACE_MS, graceOf, HeldOff } from './context.js';
export type { EngineLog } from './context.js';
export { checkReservationWindow } from './commands.js';

/** Resources that start by themselves are looked at this often while off. */
export const DEFAULT_WATCH_MS = 15 * 60_000;

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
  /**
   * Whether this engine delivers the notices runs owe (default true). The CLI's
   * engine only records changes: the serving process delivers.
   */
  readonly delivers?: boolean;
  /** Notifiers whose run reports are gathered into one message per period (ms): their `digest`. */
  readonly digests?: ReadonlyMap<string, number>;
}

export class Engine {
  private readonly ctx: EngineContext;
  private readonly abort = new AbortController();
  private readonly runner: Runner;
  private readonly commands: Commands;
  /** Timelines kept from pass to pass (plan-cache.ts). */
  private readonly plans = new PlanCache();
  private readonly listeners = new Set<() => void>();
  private readonly delivers: boolean;
  /** The delivery under way, and whether it must go round once more (see deliver). */
  private delivering: Promise<void> | undefined;
  private deliverAgain = false;

  constructor(options: EngineOptions) {
    // Every concurrent sleep of every run listens to this one signal.
    setMaxListeners(0, this.abort.signal);
    this.delivers = options.delivers ?? true;
    this.ctx = {
      store: options.store,
      clock: options.clock,
      log: options.log,
      notifier: options.notifier,
      providers: options.providers,
      schedules: options.schedules,
      environments: new Map(options.environments.map((e) => [e.name, e])),
      owner: options.owner ?? 'lightsout',
      leaseMs: options.leaseMs ?? 60_000,
      pollMs: options.pollMs ?? 5_000,
      safetyTickMs: options.safetyTickMs ?? 30_000,
      watchMs: options.watchMs ?? DEFAULT_WATCH_MS,
      retry: options.retry ?? new RetryPolicy(),
      digests: options.digests ?? new Map(),
      signal: this.abort.signal,
      changed: () => {
        for (const listener of this.listeners) listener();
      },
    };
    this.runner = new Runner(this.ctx, pLimit(options.concurrency ?? 16), () =>
      this.deliverOutsidePass(),
    );
    this.commands = new Commands(this.ctx);
  }

  /** One reconciler pass, then the notices due and the runs due; returns when it next needs to run. */
  async tick(): Promise<Instant> {
    const now = this.ctx.clock.now();
    if (this.abort.signal.aborted) return now + this.ctx.safetyTickMs;
    const wake = await reconcile(this.ctx, now, this.plans);
    await this.deliver();
    await this.runner.runDue(now);
    const [nextAct, nextNotice, waitEnds] = await Promise.all([
      this.ctx.store.nextActAt(now),
      this.delivers ? this.ctx.store.nextNoticeAt(now) : undefined,
      nextNoticeWaitEnd(this.ctx, now),
    ]);
    return Math.min(wake, nextAct ?? Infinity, nextNotice ?? Infinity, waitEnds ?? Infinity);
  }

  /**
   * Before the first pass: a simulated clock that would start behind the last
   * pass any replica made jumps forward to it (a demo restarted with --speed
   * never rewinds time, which would make passed transitions happen again).
   */
  async resumeClock(): Promise<void> {
    const last = await this.ctx.store.readValue(LAST_PASS);
    if (last !== undefined) this.ctx.clock.resumeFrom?.(last);
  }

  /** Calls `listener` whenever this engine changed something (a command, a run created or ended). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for every run this process has started (tests, shutdown). */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  /** Stops at the next safe point: no run starts any more, runs stay open and resume after restart. */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  /** Someone asked for a delivery during the one under way (set from other calls, meanwhile). */
  private askedAgain(): boolean {
    return this.deliverAgain && !this.abort.signal.aborted;
  }

  /**
   * Delivers the notices due, one delivery at a time: asked for during one, it
   * goes round once more and answers when that round is done, so a caller's
   * notice is delivered when its call resolves. (Each run's end asks; a thousand
   * runs ending together once made a thousand deliveries that each claimed
   * every pending notice again.)
   */
  private deliver(): Promise<void> {
    if (!this.delivers) return Promise.resolve();
    if (this.delivering !== undefined) {
      this.deliverAgain = true;
      return this.delivering;
    }
    this.delivering = (async () => {
      try {
        do {
          this.deliverAgain = false;
          await deliverNotices(this.ctx, this.ctx.clock.now()).catch((error: unknown) => {
            this.ctx.log.error(
              { error: error instanceof Error ? error.message : String(error) },
              'delivering notices failed',
            );
          });
        } while (this.askedAgain());
      } finally {
        this.delivering = undefined;
      }
    })();
    return this.delivering;
  }

  /**
   * Delivery after a command or a run's end: a pass follows only when a stop that
   * waited for its warning (require_notice) may act now, the pass's own delivery
   * being followed by its runs anyway.
   */
  private async deliverOutsidePass(): Promise<void> {
    await this.deliver();
    if (!this.delivers) return;
    const ready = await warningTaken(this.ctx, this.ctx.clock.now()).catch(() => false);
    if (ready) this.ctx.changed();
  }

  private async afterCommand<T>(result: T): Promise<T> {
    await this.deliverOutsidePass();
    return result;
  }

  async command(
    environmentName: string,
    direction: 'start' | 'stop',
    actor: string,
    graceMs?: number,
    until?: Instant,
  ): Promise<Run> {
    return this.afterCommand(
      await this.commands.command(environmentName, direction, actor, graceMs, until),
    );
  }

  cancel(runId: string, actor: string, until?: Instant): Promise<{ run: Run; holdUntil: Instant }> {
    return this.commands.cancel(runId, actor, until);
  }

  extend(environmentName: string, until: Instant, actor: string): Promise<void> {
    return this.commands.extend(environmentName, until, actor);
  }

  hold(environmentName: string, hold: HoldRequest, actor: string): Promise<StoredHold> {
    return this.commands.hold(environmentName, hold, actor);
  }

  reserve(
    environmentName: string,
    from: Instant,
    to: Instant,
    actor: string,
    note?: string,
    resource?: string,
  ): Promise<StoredReservation> {
    return this.commands.reserve(environmentName, from, to, actor, note, resource);
  }

  deleteHold(hold: StoredHold, actor: string): Promise<boolean> {
    return this.commands.deleteHold(hold, actor);
  }

  deleteReservation(reservation: StoredReservation, actor: string): Promise<boolean> {
    return this.commands.deleteReservation(reservation, actor);
  }

  boost(environmentName: string, forMs: number, actor: string): Promise<Run> {
    return this.commands.boost(environmentName, forMs, actor);
  }

  /** The schedule's next start after `at` (within 14 days), if it has one. */
  nextScheduledStart(environmentName: string, at: Instant): Instant | undefined {
    return nextScheduledStart(this.ctx, environmentNamed(this.ctx, environmentName), at);
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
    const environment = environmentNamed(this.ctx, environmentName);
    const fleet = await fleetFor(this.ctx, from, to, [environment]);
    return [...planFleet(fleet, { start: from, end: to }).get(environment.name)!.onOf(resource)];
  }

  /** The fleet for planning `environments` over [from, until) (readers such as the API). */
  fleetFor(environments: readonly Environment[], from: Instant, until: Instant): Promise<Fleet> {
    return fleetFor(this.ctx, from, until, environments);
  }
}

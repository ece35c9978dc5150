/**
 * Run execution: claims due runs under a lease, one acting run per environment at
 * a time (directions never overlap), many environments in parallel under a
 * global bound. A run acts only while it is still wanted: before acting and
 * before each tier (also when it resumes after a restart) it re-reads its target's
 * applied state and the plan, and ends as `superseded` when either moved on.
 * Its end (status, summary event, summary notice, the target's retry count) is
 * one fenced transaction, so a run ends once however many replicas touch it.
 */
import type { Environment, Instant } from '../core/glossary.js';
import { covers } from '../core/intervals.js';
import type { Fence, Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import { storeFaultOf } from '../store/faults.js';
import { LeaseLost, scopeOf } from '../store/queries/runs.js';
import type { EngineContext } from './context.js';
import { iso, stateOf } from './context.js';
import { reservedTargets, revertApplied, stateBefore, supersededEvent } from './changes.js';
import type { ExecutorDeps, RunSummary } from './executor.js';
import {
  executeRun,
  Interrupted,
  messageOf,
  summaryOf,
  summaryText,
  Superseded,
} from './executor.js';
import { failureAlert, reportDetails } from './notice-bodies.js';
import type { RunEnd } from './notice-bodies.js';
import { addNotices } from './notices.js';
import {
  checkNoticeWait,
  logWaitEnded,
  recordWaiting,
  undeliveredNote,
  waitEndedEvent,
} from './notice-wait.js';
import { claimedElsewhere } from './claims.js';
import { RunBatches } from './run-batches.js';
import { batchedRunStore } from './step-batches.js';
import type { RunStore } from './step-batches.js';
import type { Resource } from './ports.js';

/** Backoff before retrying a target whose run did not reach its state: 30 s, doubling, at most 30 min. */
export function retryDelayMs(failures: number): number {
  return Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, failures - 1));
}

export class Runner {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Claims, checks and starts of runs asking at once, made together. */
  private readonly batches: RunBatches;
  /** The store as executing runs use it, their writes on the way to acting batched. */
  private readonly runStore: RunStore;
  /** The look for runs due that ends of runs asked for, and whether to look once more (see runDueAgain). */
  private looking: Promise<void> | undefined;
  private lookAgain = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly limit: <T>(work: () => Promise<T>) => Promise<T>,
    /** Called after a run ended (its summary notice is due). */
    private readonly ended: () => Promise<void>,
  ) {
    this.batches = new RunBatches(ctx);
    this.runStore = batchedRunStore(ctx.store);
  }

  /** Claims and starts every due run this process may take. */
  async runDue(now: Instant): Promise<void> {
    const { store, owner } = this.ctx;
    const stopping = () => this.ctx.signal.aborted;
    if (stopping()) return;
    const due = await store.dueRuns(now, owner);
    // One acting run per environment: a run in grace waits until the other stopped acting.
    const busy = new Set(
      due.filter((r) => r.status === 'acting' && r.direction !== 'boost').map((r) => r.environment),
    );
    for (const run of due) {
      if (stopping()) return;
      if (this.inFlight.has(run.id) || !run.claimable) continue;
      const exclusive = run.direction !== 'boost';
      if (exclusive && run.status === 'grace' && busy.has(run.environment)) continue;
      if (exclusive) busy.add(run.environment);
      // Claimed when a slot is free, so a run queued behind the bound never holds a lease it does not renew.
      const work = this.limit(async () => {
        if (stopping()) return;
        const fence = await this.batches.claim(run.id);
        if (fence === undefined) return;
        await this.execute(run, fence);
        // The environment is free again: a run that waited for this one may start now.
        if (!stopping()) await this.runDueAgain();
      })
        .catch((error: unknown) => {
          // A store fault (claiming, or looking for the next run) is the service's to tell, once.
          if (storeFaultOf(error) !== undefined) return;
          this.ctx.log.error({ run: run.id, error: messageOf(error) }, 'executing a run failed');
        })
        .finally(() => this.inFlight.delete(run.id));
      this.inFlight.set(run.id, work);
    }
  }

  /**
   * runDue after a run ended, one at a time: asked for during one, it looks once
   * more when that one is done. (A thousand runs ending together once made a
   * thousand looks, each reading every run due.)
   */
  private runDueAgain(): Promise<void> {
    if (this.looking !== undefined) {
      this.lookAgain = true;
      return this.looking;
    }
    this.looking = (async () => {
      try {
        do {
          this.lookAgain = false;
          await this.runDue(this.ctx.clock.now());
        } while (this.askedToLookAgain());
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }

  /** A run ended during the look under way (set from other calls, meanwhile). */
  private askedToLookAgain(): boolean {
    return this.lookAgain && !this.ctx.signal.aborted;
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async execute(run: Run, fence: Fence): Promise<void> {
    const { ctx } = this;
    if (ctx.signal.aborted) return; // queued when the process was asked to stop: resumes after restart
    const environment = ctx.environments.get(run.environment);
    const startedAt = ctx.clock.now();
    try {
      if (environment === undefined)
        throw new Error(`environment "${run.environment}" is no longer in the config`);
      const unwanted = () => this.batches.whyUnwanted(run, environment);
      if (run.status === 'grace') {
        const reason = await unwanted();
        if (reason !== undefined) {
          await this.supersedeBeforeActing(run, fence, reason);
          return;
        }
        // require_notice: no channel took the warning yet; it waits, the lease free for any replica.
        const wait = await checkNoticeWait(ctx, environment, run);
        if (wait.kind === 'wait') {
          await recordWaiting(ctx, run, wait);
          await ctx.store.releaseLease(run.id, fence);
          return;
        }
        const events = waitEndedEvent(run, wait, ctx.clock.now());
        if (!(await this.batches.start({ run, fence, events }))) return;
        logWaitEnded(ctx, run, wait);
      } else {
        // Resumed after a restart or by another replica: still wanted?
        const reason = await unwanted();
        if (reason !== undefined) throw new Superseded(reason);
      }
      const leave = await this.leftAlone(environment, run, fence);
      const deps = {
        ...this.deps(fence, unwanted),
        claimedElsewhere: (found: readonly Resource[]) =>
          claimedElsewhere(ctx, environment, found, run.id, ctx.clock.now(), this.runStore),
      };
      const executed = await this.withLease(run, deps, (d) =>
        executeRun(d, run, environment, leave),
      );
      const note = await undeliveredNote(ctx, environment, run);
      const summary = note === undefined ? executed : { ...executed, notes: [note] };
      await this.finish(run, fence, environment, summary, summary.outcome);
    } catch (error) {
      if (error instanceof Interrupted) return;
      if (error instanceof LeaseLost) {
        ctx.log.warn(
          { environment: run.environment, run: run.id },
          'another replica took this run over',
        );
        return;
      }
      if (error instanceof Superseded && environment !== undefined) {
        const steps = await ctx.store.listSteps(run.id);
        const summary = summaryOf(run, environment, steps, ctx.clock.now() - startedAt);
        // Nothing was asked of a provider yet: the run never acted, its target goes back.
        const acted = steps.some((s) => s.attempts > 0);
        await this.finish(
          run,
          fence,
          environment,
          summary,
          'superseded',
          error.message,
          !acted,
        ).catch((e: unknown) => {
          this.logEndFailed(run, e);
        });
        return;
      }
      if (storeFaultOf(error) !== undefined) {
        // The store failed, not the run: nothing is recorded as failed. The run keeps its
        // lease, so this process (or another replica once it expires) resumes it when the
        // store is back, re-checking it is still wanted and not repeating a recorded step.
        ctx.log.warn(
          { environment: run.environment, run: run.id, error: messageOf(error) },
          'run paused: the store is unavailable; it resumes when the store is back',
        );
        return;
      }
      ctx.log.error(
        { environment: run.environment, run: run.id, error: messageOf(error) },
        'run failed',
      );
      const summary = { outcome: 'failed', error: messageOf(error) };
      await this.finish(run, fence, environment, summary, 'failed').catch((e: unknown) => {
        this.logEndFailed(run, e);
      });
    }
  }

  private logEndFailed(run: Run, error: unknown): void {
    if (error instanceof LeaseLost) return;
    this.ctx.log.error(
      { run: run.id, error: messageOf(error) },
      'could not record the end of a run',
    );
  }

  private deps(fence: Fence, stillWanted: () => Promise<string | undefined>): ExecutorDeps {
    const { ctx } = this;
    return {
      store: this.runStore,
      providers: ctx.providers,
      clock: ctx.clock,
      retry: ctx.retry,
      pollMs: ctx.pollMs,
      leaseMs: ctx.leaseMs,
      fence,
      signal: ctx.signal,
      stillWanted,
    };
  }

  /** A run whose grace ended when the plan no longer wants it: it never acted, so the applied state goes back. */
  private async supersedeBeforeActing(run: Run, fence: Fence, reason: string): Promise<void> {
    const now = this.ctx.clock.now();
    await this.ctx.store.atomically(async (tx) => {
      if (!(await tx.advanceRun(run.id, fence, 'superseded', now))) return;
      await revertApplied(tx, run, now, 'scheduler');
      await tx.appendEvents([supersededEvent(run, now, reason)]);
      await tx.announceChange();
    });
    this.ctx.changed();
  }

  /**
   * The end of a run, once: its status and summary, the `run.finished` event, the
   * summary notice, and its target's failure count (a retry is due after a backoff).
   */
  private async finish(
    run: Run,
    fence: Fence,
    environment: Environment | undefined,
    summary: RunSummary | { outcome: string; error: string },
    status: 'succeeded' | 'failed' | 'superseded',
    reason?: string,
    /** The run never acted: give its target back its prior state instead of counting a failure. */
    giveBack = false,
  ): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const retry: { at: number | null } = { at: null };
    const ended = await ctx.store.atomically(async (tx) => {
      if (!(await tx.advanceRun(run.id, fence, status, now, summary))) return false;
      const events = [
        {
          at: now,
          actor: 'lightsout',
          kind: 'run.finished',
          environment: run.environment,
          runId: run.id,
          payload: { ...summary, outcome: status, ...(reason === undefined ? {} : { reason }) },
        },
      ];
      const applied =
        run.seq === null || giveBack ? undefined : await tx.getApplied(run.environment, run.target);
      if (giveBack) await revertApplied(tx, run, now, 'scheduler');
      if (applied !== undefined && applied.seq === run.seq) {
        // A run stopped part-way while still the latest change (the plan moved, then
        // back) did not reach its state either: the next pass that wants it tries again.
        if (status !== 'succeeded') {
          retry.at = status === 'failed' ? now + retryDelayMs(applied.failures + 1) : now;
          events.push({
            at: now,
            actor: 'scheduler',
            kind: 'run.retry-scheduled',
            environment: run.environment,
            runId: run.id,
            payload: {
              outcome: status,
              failures: applied.failures + 1,
              retryAt: iso(retry.at),
              state: applied.state,
            } as never,
          });
        }
        await tx.recordOutcome(
          { environment: run.environment, target: run.target, seq: applied.seq },
          { failures: status === 'succeeded' ? 'reset' : applied.failures + 1, retryAt: retry.at },
          now,
        );
      }
      await tx.appendEvents(events);
      const text =
        'resources' in summary
          ? status === 'superseded'
            ? `${run.environment}: ${run.direction} stopped part-way, superseded (${reason ?? 'the plan changed'})`
            : summaryText(run, summary)
          : `${run.environment}: ${run.direction} failed: ${summary.error}`;
      await this.addReports(tx, run, environment, summary, status, text, retry.at, reason);
      await tx.announceChange();
      return true;
    });
    if (!ended) return;
    if (status === 'failed')
      ctx.log.warn(
        {
          environment: run.environment,
          run: run.id,
          retryAt: retry.at === null ? null : iso(retry.at),
        },
        'run did not reach its state; it will be retried',
      );
    ctx.log.info({ environment: run.environment, run: run.id, outcome: status }, 'run finished');
    ctx.changed();
    await this.ended();
  }

  /**
   * The run report every run owes (to a digest channel it waits for the digest),
   * and, when the run failed, the failure alert, sent at once.
   */
  private async addReports(
    tx: Store,
    run: Run,
    environment: Environment | undefined,
    end: RunEnd,
    status: 'succeeded' | 'failed' | 'superseded',
    text: string,
    retryAt: number | null,
    reason: string | undefined,
  ): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const kinds = new Map((await tx.listResources(run.environment)).map((r) => [r.id, r.kind]));
    // Ids read provider:kind:...; the inventory knows better (a command target's id is command:NAME).
    const kindOf = (id: string) => kinds.get(id) ?? id.split(':')[1] ?? 'resource';
    const notice = { runId: run.id, environment: run.environment, team: environment?.team ?? null };
    await addNotices(
      tx,
      environment,
      {
        ...notice,
        kind: 'run-summary',
        body: { text, details: reportDetails(run, end, status, kindOf, reason) },
      },
      now,
      ctx.digests,
    );
    if (status === 'failed')
      await addNotices(
        tx,
        environment,
        {
          ...notice,
          kind: 'run-failed',
          body: failureAlert(run, end, kindOf, retryAt, environment, now),
        },
        now,
      );
  }

  /**
   * Runs `work` holding the run's lease: renewed on a timer while providers take
   * their time, and the run stops at its next safe point if the lease is ever lost.
   */
  private async withLease<T>(
    run: Run,
    deps: ExecutorDeps,
    work: (deps: ExecutorDeps) => Promise<T>,
  ): Promise<T> {
    const lost = new AbortController();
    const renew = setInterval(
      () => {
        this.ctx.store.renewLease(run.id, deps.fence, deps.leaseMs).catch((error: unknown) => {
          // The store failing is not another replica taking over: the run pauses, and resumes.
          lost.abort(
            error instanceof LeaseLost || storeFaultOf(error) !== undefined
              ? error
              : new LeaseLost(messageOf(error)),
          );
        });
      },
      Math.max(1_000, deps.leaseMs / 3),
    );
    renew.unref();
    try {
      return await work({ ...deps, signal: AbortSignal.any([this.ctx.signal, lost.signal]) });
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * Resources a run leaves as they are. A whole-environment run settles its
   * resources reserved alone as it acts: those that want the other state now keep
   * it (a stop leaves them on, recorded as `resource.kept-on`) with an applied
   * state of their own; the rest follow the environment again. A run for reserved
   * resources leaves those that no longer want its way.
   */
  private async leftAlone(environment: Environment, run: Run, fence: Fence): Promise<Set<string>> {
    const scope = scopeOf(run);
    if (scope !== undefined && run.trigger !== 'reservation') return new Set();
    const { timeline, applied, now } = await this.batches.planNow(run, environment);
    const target = stateOf(run.direction);
    const own = (r: string) => (covers(timeline.onOf(r), now) ? 'on' : 'off');
    if (scope !== undefined) return new Set([...scope].filter((r) => own(r) !== target));
    // Nothing reserved alone (the usual case): nothing to settle, no transaction.
    if (reservedTargets(timeline, applied).length === 0) return new Set();
    const left: string[] = [];
    await this.ctx.store.atomically(async (tx) => {
      // Only under this process's lease: a replica that lost it changes nothing.
      const current = await tx.getRun(run.id);
      if (current?.lease_owner !== fence.owner || current.lease_epoch !== fence.epoch)
        throw new LeaseLost(`run ${run.id} is held by another replica now`);
      const rows = new Map((await tx.listApplied(run.environment)).map((a) => [a.resource, a]));
      for (const resource of reservedTargets(timeline, rows)) {
        const row = rows.get(resource);
        const follows = own(resource) === target;
        if (!follows) left.push(resource);
        // Left alone, a resource keeps the state lightsout last brought it to: its own,
        // or, while it followed the environment, the environment's before this run.
        const state = follows
          ? 'follow'
          : row !== undefined && row.state !== 'follow'
            ? row.state
            : stateBefore(run);
        if (row?.state === state || (row === undefined && state === 'follow')) continue;
        await tx.advanceApplied(
          {
            environment: run.environment,
            resource,
            expectedSeq: row?.seq,
            state,
            runId: null,
            actor: 'scheduler',
          },
          now,
        );
      }
      if (left.length > 0 && run.direction === 'stop')
        await tx.appendEvents([
          {
            at: now,
            actor: 'scheduler',
            kind: 'resource.kept-on',
            environment: environment.name,
            runId: run.id,
            payload: { resources: left, reason: 'reserved' },
          },
        ]);
    });
    return new Set(left);
  }
}

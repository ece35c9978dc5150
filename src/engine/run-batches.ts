/**
 * The runner's store work at the instant many runs start, done set-based: their
 * claims, their "still wanted?" checks and their moves to acting are each one
 * statement (or one transaction) for every run asking in the same turn (Batcher).
 * Each run is still decided on its own, as it was with a query of its own: a
 * compare-and-set on its lease, the plan and applied state read after it asked,
 * one acting run per environment.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { Timeline } from '../core/planner.js';
import { planFleet } from '../core/planner.js';
import type { Applied } from '../store/queries/applied.js';
import type { EventInput } from '../store/queries/events.js';
import type { Fence, Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import { BatchError, Batcher } from './batcher.js';
import { whyUnwanted } from './changes.js';
import type { EngineContext } from './context.js';
import { fleetFor } from './planning.js';

/** What a run reads about itself: its row, its environment's applied rows and plan, as of `now`. */
export interface RunReading {
  readonly current: Run | undefined;
  /** Applied rows of the run's environment, by target ('' for the environment). */
  readonly applied: ReadonlyMap<string, Applied>;
  /** The plan over [now, the run's act instant + 1), or [now, now + 1) for `planNow`. */
  readonly timeline: Timeline;
  readonly now: Instant;
}

interface ReadingRequest {
  readonly run: Run;
  readonly environment: Environment;
  /** 'act': planned up to the run's act instant (is it wanted then?); 'now': this instant only. */
  readonly until: 'act' | 'now';
}

export interface StartRequest {
  readonly run: Run;
  readonly fence: Fence;
  /** Recorded with `run.acting`. */
  readonly events: readonly EventInput[];
}

export class RunBatches {
  private readonly claims = new Batcher<string, Fence | undefined>((ids) => this.claimAll(ids));
  private readonly readings = new Batcher<ReadingRequest, RunReading>((r) => this.readAll(r));
  private readonly starts = new Batcher<StartRequest, boolean>((r) => this.startAll(r));

  constructor(private readonly ctx: EngineContext) {}

  /** The run's lease, or undefined when another replica holds it (store.claimRun). */
  claim(id: string): Promise<Fence | undefined> {
    return this.claims.ask(id);
  }

  /** Why the run is no longer wanted now, from its target's applied row and the plan. */
  async whyUnwanted(run: Run, environment: Environment): Promise<string | undefined> {
    if (run.direction === 'boost') return undefined;
    const reading = await this.readings.ask({ run, environment, until: 'act' });
    const applied = reading.applied.get(run.target);
    return whyUnwanted(reading.current ?? run, applied, reading.timeline, reading.now);
  }

  /** The run's environment's plan at this instant and its applied rows. */
  planNow(run: Run, environment: Environment): Promise<RunReading> {
    return this.readings.ask({ run, environment, until: 'now' });
  }

  /**
   * grace → acting, with its events; false when it was ended meanwhile, or another
   * run of its environment is acting (its lease is given back: it waits).
   */
  start(request: StartRequest): Promise<boolean> {
    return this.starts.ask(request);
  }

  private async claimAll(ids: readonly string[]): Promise<(Fence | undefined)[]> {
    const { store, owner, leaseMs, clock } = this.ctx;
    const fences = await store.claimRuns(ids, owner, leaseMs, clock.now());
    return ids.map((id) => fences.get(id));
  }

  private async readAll(requests: readonly ReadingRequest[]): Promise<RunReading[]> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const environments = [...new Map(requests.map((r) => [r.environment.name, r.environment]))];
    // A start begun early to be ready by its instant (ready-by.ts) is judged at that instant.
    const actUntil =
      Math.max(
        now,
        ...requests.map((r) =>
          Math.max(r.run.act_at, r.run.direction === 'start' ? r.run.due_at : 0),
        ),
      ) + 1;
    const [runs, rows, fleet] = await Promise.all([
      ctx.store.getRuns(requests.map((r) => r.run.id)),
      ctx.store.listAppliedOf(environments.map(([name]) => name)),
      fleetFor(
        ctx,
        now,
        actUntil,
        environments.map(([, e]) => e),
      ),
    ]);
    const plans = {
      act: planFleet(fleet, { start: now, end: actUntil }),
      // Resources reserved alone are those reserved now, not later in the act window.
      now: planFleet(fleet, { start: now, end: now + 1 }),
    };
    const current = new Map(runs.map((r) => [r.id, r]));
    const applied = new Map<string, Map<string, Applied>>();
    for (const row of rows) {
      const byTarget = applied.get(row.environment) ?? new Map<string, Applied>();
      byTarget.set(row.resource, row);
      applied.set(row.environment, byTarget);
    }
    return requests.map(({ run, environment, until }) => ({
      current: current.get(run.id),
      applied: applied.get(environment.name) ?? new Map(),
      timeline: plans[until].get(environment.name)!,
      now,
    }));
  }

  private async startAll(requests: readonly StartRequest[]): Promise<(boolean | BatchError)[]> {
    const now = this.ctx.clock.now();
    return this.ctx.store.atomically(async (tx) => {
      const environments = requests.map((r) => r.run.environment);
      // One acting run per environment, also across replicas that claimed two runs at once.
      await tx.lockEnvironments(environments);
      const busy = await tx.actingEnvironments(environments);
      const answers = new Map<string, boolean | BatchError>();
      const ready: StartRequest[] = [];
      for (const request of requests) {
        const { run, fence } = request;
        if (busy.has(run.environment)) {
          await tx.releaseLease(run.id, fence);
          answers.set(run.id, false);
          continue;
        }
        if (run.direction !== 'boost') busy.add(run.environment);
        ready.push(request);
      }
      const started = await tx.startActing(
        ready.map(({ run, fence }) => ({ id: run.id, fence })),
        now,
      );
      const events: EventInput[] = [];
      for (const { run, fence, events: more } of ready) {
        if (started.has(run.id)) {
          answers.set(run.id, true);
          events.push(actingEvent(run, now), ...more);
        } else answers.set(run.id, await endedOrLost(tx, run, fence));
      }
      if (events.length > 0) await tx.appendEvents(events);
      return requests.map((r) => answers.get(r.run.id)!);
    });
  }
}

function actingEvent(run: Run, now: Instant): EventInput {
  return {
    at: now,
    actor: 'lightsout',
    kind: 'run.acting',
    environment: run.environment,
    runId: run.id,
  };
}

/** A run that did not move to acting: false when it ended meanwhile; LeaseLost when another replica holds it. */
async function endedOrLost(tx: Store, run: Run, fence: Fence): Promise<false | BatchError> {
  try {
    await tx.checkFence(run.id, fence);
    return false;
  } catch (error) {
    return new BatchError(error);
  }
}

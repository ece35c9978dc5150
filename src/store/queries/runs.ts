/**
 * Durable runs and their steps. A run is keyed by (environment, target, seq): the
 * target's applied-state sequence it carries out, so every pass, restart and
 * replica names the same run, and a change of plan always names a new one.
 *
 * Work on a run is claimed with a lease timed by the database's clock and fenced
 * by an epoch that every takeover bumps: each write of the run or its steps
 * names the (owner, epoch) it holds and changes nothing once another took over.
 */
import type { Kysely } from 'kysely';
import { slices } from './batches.js';
import { databaseNow } from './transaction.js';
import type { Dialect } from '../db.js';
import type {
  Database,
  RunDirection,
  RunRow,
  RunStatus,
  RunStepRow,
  StepAction,
  StepStatus,
} from '../schema.js';

export type Run = RunRow;
export type RunStep = RunStepRow;

export const OPEN_STATUSES: readonly RunStatus[] = ['grace', 'acting'];

/** Who holds a run's lease: every fenced write carries it. */
export interface Fence {
  readonly owner: string;
  readonly epoch: number;
}

/** A write fenced by a lease another replica has taken over since. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export interface NewRun {
  readonly id: string;
  readonly environment: string;
  readonly direction: RunDirection;
  /** The transition instant it carries out (or the command's instant). */
  readonly dueAt: number;
  readonly actAt: number;
  readonly trigger: Run['trigger'];
  readonly actor: string;
  /** Only these resources of the environment. */
  readonly scope?: readonly string[];
  readonly untilAt?: number;
  /** '' for the environment, or the resource reserved alone. */
  readonly target?: string;
  /** The applied-state sequence; absent for a boost, which changes no applied state. */
  readonly seq?: number;
  /** The target's applied state before this run, and whether it had been reached. */
  readonly priorState?: 'on' | 'off';
  readonly priorReached?: boolean;
}

/** The resources a run is limited to, or undefined for all of its environment's. */
export function scopeOf(run: Run): ReadonlySet<string> | undefined {
  return run.scope === null ? undefined : new Set(JSON.parse(run.scope) as string[]);
}

export async function createRun(db: Kysely<Database>, run: NewRun, now: number): Promise<Run> {
  const row = {
    id: run.id,
    environment: run.environment,
    direction: run.direction,
    due_at: run.dueAt,
    act_at: run.actAt,
    trigger: run.trigger,
    status: 'grace' as const,
    actor: run.actor,
    created_at: now,
    updated_at: now,
    finished_at: null,
    lease_owner: null,
    lease_until: null,
    summary: null,
    scope: run.scope === undefined ? null : JSON.stringify(run.scope),
    until_at: run.untilAt ?? null,
    target: run.target ?? '',
    seq: run.seq ?? null,
    lease_epoch: 0,
    prior_state: run.priorState ?? null,
    prior_reached: run.priorReached === undefined ? null : run.priorReached ? 1 : 0,
  };
  await db.insertInto('runs').values(row).execute();
  return row;
}

export async function getRun(db: Kysely<Database>, id: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The runs of `ids` that exist, in no particular order. */
export async function getRuns(db: Kysely<Database>, ids: readonly string[]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const slice of slices(ids))
    runs.push(...(await db.selectFrom('runs').selectAll().where('id', 'in', slice).execute()));
  return runs;
}

export interface RunFilter {
  readonly environment?: string | undefined;
  /** Only runs of these environments (a team-scoped reader), filtered before the limit. */
  readonly environments?: readonly string[] | undefined;
  readonly status?: RunStatus | undefined;
  /** Only runs for resources reserved alone. */
  readonly reservation?: boolean | undefined;
  /** Only runs created in [createdFrom, createdTo). */
  readonly createdFrom?: number | undefined;
  readonly createdTo?: number | undefined;
  readonly limit?: number | undefined;
}

/** Newest first. */
export async function listRuns(db: Kysely<Database>, filter: RunFilter = {}): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll();
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.environments !== undefined) {
    if (filter.environments.length === 0) return [];
    query = query.where('environment', 'in', filter.environments);
  }
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.reservation === true) query = query.where('trigger', '=', 'reservation');
  if (filter.createdFrom !== undefined) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) query = query.where('created_at', '<', filter.createdTo);
  return (
    query
      .orderBy('created_at', 'desc')
      // Run ids are UUIDv7, time-ordered: runs created in the same millisecond keep their order.
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 50)
      .execute()
  );
}

/** Every open run (grace or acting), oldest first: one query per pass. */
export async function openRuns(db: Kysely<Database>): Promise<Run[]> {
  return db
    .selectFrom('runs')
    .selectAll()
    .where('status', 'in', OPEN_STATUSES)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** An open run whose act phase is due, and whether its lease is free for `owner` now. */
export interface DueRun extends Run {
  readonly claimable: boolean;
}

/** Open runs whose act phase is due, oldest first; leases compared on the database's clock. */
export async function dueRuns(
  db: Kysely<Database>,
  dialect: Dialect,
  now: number,
  owner: string,
): Promise<DueRun[]> {
  const dbNow = databaseNow(dialect);
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .select((eb) =>
      eb
        .case()
        .when(
          eb.or([
            eb('lease_until', 'is', null),
            eb('lease_until', '<', dbNow),
            eb('lease_owner', '=', owner),
          ]),
        )
        .then(1)
        .else(0)
        .end()
        .as('free'),
    )
    .where('status', 'in', OPEN_STATUSES)
    .where('act_at', '<=', now)
    .orderBy('act_at')
    .orderBy('id')
    .execute();
  return rows.map(({ free, ...run }) => ({ ...run, claimable: free === 1 }));
}

/** The earliest act_at of an open run in the future (for the reconciler's timer). */
export async function nextActAt(db: Kysely<Database>, now: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.min('act_at').as('next'))
    .where('status', 'in', OPEN_STATUSES)
    .where('act_at', '>', now)
    .executeTakeFirst();
  return row?.next ?? undefined;
}

/**
 * Takes the lease of an open run that is free, expired, or `owner`'s from a
 * previous life: a new epoch each time, so whoever held it before is fenced off.
 * Returns the fence, or undefined when another replica holds it.
 */
export async function claimRun(
  db: Kysely<Database>,
  dialect: Dialect,
  id: string,
  owner: string,
  leaseMs: number,
  now: number,
): Promise<Fence | undefined> {
  return (await claimRuns(db, dialect, [id], owner, leaseMs, now)).get(id);
}

/** claimRun for many runs, one statement per slice: the fences of those `owner` holds now, by id. */
export async function claimRuns(
  db: Kysely<Database>,
  dialect: Dialect,
  ids: readonly string[],
  owner: string,
  leaseMs: number,
  now: number,
): Promise<Map<string, Fence>> {
  const dbNow = databaseNow(dialect);
  const fences = new Map<string, Fence>();
  for (const slice of slices(ids)) {
    const rows = await db
      .updateTable('runs')
      .set((eb) => ({
        lease_owner: owner,
        lease_until: eb(dbNow, '+', leaseMs),
        lease_epoch: eb('lease_epoch', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', slice)
      .where('status', 'in', OPEN_STATUSES)
      .where((eb) =>
        eb.or([
          eb('lease_until', 'is', null),
          eb('lease_until', '<', dbNow),
          eb('lease_owner', '=', owner),
        ]),
      )
      .returning(['id', 'lease_epoch'])
      .execute();
    for (const row of rows) fences.set(row.id, { owner, epoch: row.lease_epoch });
  }
  return fences;
}

/** Extends the lease this fence holds; throws LeaseLost when another replica took the run over. */
export async function renewLease(
  db: Kysely<Database>,
  dialect: Dialect,
  id: string,
  fence: Fence,
  leaseMs: number,
): Promise<void> {
  const result = await db
    .updateTable('runs')
    .set((eb) => ({ lease_until: eb(databaseNow(dialect), '+', leaseMs) }))
    .where('id', '=', id)
    .where('status', 'in', OPEN_STATUSES)
    .where('lease_owner', '=', fence.owner)
    .where('lease_epoch', '=', fence.epoch)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0)
    throw new LeaseLost(`run ${id} is held by another replica now`);
}

/**
 * Moves an open run on under its lease; false when it is no longer open
 * (cancelled or superseded meanwhile); LeaseLost when another replica took it.
 */
export async function advanceRun(
  db: Kysely<Database>,
  id: string,
  fence: Fence | undefined,
  status: RunStatus,
  now: number,
  summary?: unknown,
): Promise<boolean> {
  const finished = !OPEN_STATUSES.includes(status);
  let query = db
    .updateTable('runs')
    .set({
      status,
      updated_at: now,
      ...(finished ? { finished_at: now, lease_owner: null, lease_until: null } : {}),
      ...(summary === undefined ? {} : { summary: JSON.stringify(summary) }),
    })
    .where('id', '=', id)
    .where('status', 'in', OPEN_STATUSES);
  if (fence !== undefined)
    query = query.where('lease_owner', '=', fence.owner).where('lease_epoch', '=', fence.epoch);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  if (fence !== undefined) await checkFence(db, id, fence);
  return false;
}

/** Throws LeaseLost when the run is open and another replica holds it. */
export async function checkFence(db: Kysely<Database>, id: string, fence: Fence): Promise<void> {
  const run = await getRun(db, id);
  if (
    run !== undefined &&
    OPEN_STATUSES.includes(run.status) &&
    (run.lease_owner !== fence.owner || run.lease_epoch !== fence.epoch)
  )
    throw new LeaseLost(`run ${id} is held by another replica now`);
}

/**
 * grace → acting for runs under the leases they name, one statement per lease
 * epoch and slice (runs claimed together share one); returns the ids that moved
 * (the others were ended meanwhile, or taken over).
 */
export async function startActing(
  db: Kysely<Database>,
  runs: readonly { readonly id: string; readonly fence: Fence }[],
  now: number,
): Promise<Set<string>> {
  const started = new Set<string>();
  for (const { fence, ids } of byFence(runs))
    for (const slice of slices(ids)) {
      const rows = await db
        .updateTable('runs')
        .set({ status: 'acting', updated_at: now })
        .where('id', 'in', slice)
        .where('status', 'in', OPEN_STATUSES)
        .where('lease_owner', '=', fence.owner)
        .where('lease_epoch', '=', fence.epoch)
        .returning('id')
        .execute();
      for (const row of rows) started.add(row.id);
    }
  return started;
}

/** Of `environments`, those with a run acting now (a boost acts beside the others). */
export async function actingEnvironments(
  db: Kysely<Database>,
  environments: readonly string[],
): Promise<Set<string>> {
  const acting = new Set<string>();
  for (const slice of slices(environments)) {
    const rows = await db
      .selectFrom('runs')
      .select('environment')
      .distinct()
      .where('status', '=', 'acting')
      .where('environment', 'in', slice)
      .where('direction', '!=', 'boost')
      .execute();
    for (const row of rows) acting.add(row.environment);
  }
  return acting;
}

/** Whether a run of the environment is acting now. */
export async function isActing(db: Kysely<Database>, environment: string): Promise<boolean> {
  const row = await db
    .selectFrom('runs')
    .select('id')
    .where('status', '=', 'acting')
    .where('environment', '=', environment)
    .where('direction', '!=', 'boost')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives a lease back (a run that must wait), so any replica may take it at once. */
export async function releaseLease(db: Kysely<Database>, id: string, fence: Fence): Promise<void> {
  await db
    .updateTable('runs')
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', fence.owner)
    .where('lease_epoch', '=', fence.epoch)
    .execute();
}

/** Ends a run still in its grace period (cancelled, or superseded before acting); false when it is past grace. */
export async function endInGrace(
  db: Kysely<Database>,
  id: string,
  status: 'cancelled' | 'superseded',
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({ status, updated_at: now, finished_at: now, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('status', '=', 'grace')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface NewStep {
  readonly tier: number;
  readonly resource: string;
  readonly action: StepAction;
}

/** Records the steps a run will take, once; existing steps keep their status. */
export async function ensureSteps(
  db: Kysely<Database>,
  runId: string,
  fence: Fence,
  steps: readonly NewStep[],
): Promise<void> {
  // Nothing to write (a tier that found nothing), nothing to fence.
  if (steps.length === 0) return;
  await checkFence(db, runId, fence);
  await insertSteps(
    db,
    steps.map((s) => ({ ...s, runId })),
  );
}

/** Records steps of any runs, once each (the caller checked their leases). */
export async function insertSteps(
  db: Kysely<Database>,
  steps: readonly (NewStep & { readonly runId: string })[],
): Promise<void> {
  for (const slice of slices(steps)) {
    await db
      .insertInto('run_steps')
      .values(
        slice.map((s) => ({
          run_id: s.runId,
          tier: s.tier,
          resource: s.resource,
          action: s.action,
          status: 'pending' as const,
          attempts: 0,
          error: null,
          started_at: null,
          finished_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['run_id', 'resource', 'action']).doNothing())
      .execute();
  }
}

/** The steps of several runs, by run, each in listSteps' order. */
export async function listStepsOf(
  db: Kysely<Database>,
  runIds: readonly string[],
): Promise<Map<string, RunStep[]>> {
  const steps = new Map<string, RunStep[]>(runIds.map((id) => [id, []]));
  for (const slice of slices(runIds)) {
    const rows = await db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', 'in', slice)
      .orderBy('tier')
      .orderBy('id')
      .execute();
    for (const row of rows) steps.get(row.run_id)?.push(row);
  }
  return steps;
}

/**
 * renewLease for many runs, one statement per lease epoch and slice; returns the
 * ids renewed (the others are held by another replica, or ended).
 */
export async function renewLeases(
  db: Kysely<Database>,
  dialect: Dialect,
  runs: readonly { readonly id: string; readonly fence: Fence }[],
  leaseMs: number,
): Promise<Set<string>> {
  const renewed = new Set<string>();
  for (const { fence, ids } of byFence(runs))
    for (const slice of slices(ids)) {
      const rows = await db
        .updateTable('runs')
        .set((eb) => ({ lease_until: eb(databaseNow(dialect), '+', leaseMs) }))
        .where('id', 'in', slice)
        .where('status', 'in', OPEN_STATUSES)
        .where('lease_owner', '=', fence.owner)
        .where('lease_epoch', '=', fence.epoch)
        .returning('id')
        .execute();
      for (const row of rows) renewed.add(row.id);
    }
  return renewed;
}

/**
 * startSteps for several runs: one statement per lease epoch and slice, each step
 * counted only while its run's lease is held. Returns how many steps moved, by run.
 */
export async function startStepsOf(
  db: Kysely<Database>,
  runs: readonly {
    readonly id: string;
    readonly fence: Fence;
    readonly steps: readonly number[];
  }[],
  now: number,
): Promise<Map<string, number>> {
  const moved = new Map<string, number>(runs.map((r) => [r.id, 0]));
  for (const { fence, ids } of byFence(runs)) {
    const wanted = new Set(ids);
    const steps = runs.filter((r) => wanted.has(r.id)).flatMap((r) => r.steps);
    for (const slice of slices(steps)) {
      const rows = await db
        .updateTable('run_steps')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          started_at: eb.fn.coalesce('started_at', eb.val(now)),
        }))
        .where('id', 'in', slice)
        .where('run_id', 'in', ids)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('runs')
              .select('runs.id')
              .whereRef('runs.id', '=', 'run_steps.run_id')
              .where('runs.lease_owner', '=', fence.owner)
              .where('runs.lease_epoch', '=', fence.epoch),
          ),
        )
        .returning('run_id')
        .execute();
      for (const row of rows) moved.set(row.run_id, (moved.get(row.run_id) ?? 0) + 1);
    }
  }
  return moved;
}

/** Runs grouped by the lease they name (runs claimed together share one epoch). */
function byFence(
  runs: readonly { readonly id: string; readonly fence: Fence }[],
): { fence: Fence; ids: string[] }[] {
  const groups = new Map<string, { fence: Fence; ids: string[] }>();
  for (const { id, fence } of runs) {
    const key = JSON.stringify([fence.owner, fence.epoch]);
    const group = groups.get(key) ?? { fence, ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  return [...groups.values()];
}

export async function listSteps(db: Kysely<Database>, runId: string): Promise<RunStep[]> {
  return db
    .selectFrom('run_steps')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('tier')
    .orderBy('id')
    .execute();
}

/** Persisted before the provider is called: the attempt is on record even if the process dies. */
export async function startSteps(
  db: Kysely<Database>,
  runId: string,
  fence: Fence,
  ids: readonly number[],
  now: number,
): Promise<void> {
  for (const slice of slices(ids)) {
    const result = await db
      .updateTable('run_steps')
      // started_at is the first attempt's: a step's duration in the run report spans its retries.
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        started_at: eb.fn.coalesce('started_at', eb.val(now)),
      }))
      .where('id', 'in', slice)
      .where('run_id', '=', runId)
      .where((eb) => eb.exists(heldBy(db, runId, fence)))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) < slice.length) await fenced(db, runId, fence);
  }
}

export async function finishStep(
  db: Kysely<Database>,
  runId: string,
  fence: Fence,
  id: number | readonly number[],
  status: StepStatus,
  now: number,
  error?: string,
): Promise<void> {
  for (const slice of slices(typeof id === 'number' ? [id] : id)) {
    const result = await db
      .updateTable('run_steps')
      .set({
        status,
        finished_at: status === 'pending' || status === 'acted' ? null : now,
        error: error ?? null,
      })
      .where('id', 'in', slice)
      .where('run_id', '=', runId)
      .where((eb) => eb.exists(heldBy(db, runId, fence)))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) < slice.length) await fenced(db, runId, fence);
  }
}

/** The run row, only while `fence` holds its lease. */
function heldBy(db: Kysely<Database>, runId: string, fence: Fence) {
  return db
    .selectFrom('runs')
    .select('id')
    .where('id', '=', runId)
    .where('lease_owner', '=', fence.owner)
    .where('lease_epoch', '=', fence.epoch);
}

/** A fenced write changed fewer rows than asked: LeaseLost if another replica holds the run. */
export async function fenced(db: Kysely<Database>, runId: string, fence: Fence): Promise<void> {
  await checkFence(db, runId, fence);
  const run = await getRun(db, runId);
  if (run === undefined || run.lease_owner !== fence.owner)
    throw new LeaseLost(`run ${runId} is no longer held by ${fence.owner}`);
}

/**
 * Durable runs and their steps. A run is unique by (environment, direction,
 * due_at), so a second reconciler pass, a restart or a second replica finds the
 * existing run instead of starting another; work on it is claimed with a lease.
 */
import type { Kysely } from 'kysely';
import { slices } from './batches.js';
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

export interface NewRun {
  readonly id: string;
  readonly environment: string;
  readonly direction: RunDirection;
  readonly dueAt: number;
  readonly actAt: number;
  readonly trigger: Run['trigger'];
  readonly actor: string;
  /** Only these resources of the environment. */
  readonly scope?: readonly string[];
  readonly untilAt?: number;
}

/** The resources a run is limited to, or undefined for all of its environment's. */
export function scopeOf(run: Run): ReadonlySet<string> | undefined {
  return run.scope === null ? undefined : new Set(JSON.parse(run.scope) as string[]);
}

/** Creates the run unless one with the same key exists; returns the stored run either way. */
export async function createRun(
  db: Kysely<Database>,
  run: NewRun,
  now: number,
): Promise<{ run: Run; created: boolean }> {
  const inserted = await db
    .insertInto('runs')
    .values({
      id: run.id,
      environment: run.environment,
      direction: run.direction,
      due_at: run.dueAt,
      act_at: run.actAt,
      trigger: run.trigger,
      status: 'grace',
      actor: run.actor,
      created_at: now,
      updated_at: now,
      finished_at: null,
      lease_owner: null,
      lease_until: null,
      summary: null,
      scope: run.scope === undefined ? null : JSON.stringify(run.scope),
      until_at: run.untilAt ?? null,
    })
    .onConflict((oc) => oc.columns(['environment', 'direction', 'due_at']).doNothing())
    .executeTakeFirst();
  const stored = await db
    .selectFrom('runs')
    .selectAll()
    .where('environment', '=', run.environment)
    .where('direction', '=', run.direction)
    .where('due_at', '=', run.dueAt)
    .executeTakeFirstOrThrow();
  return { run: stored, created: Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 };
}

export async function getRun(db: Kysely<Database>, id: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface RunFilter {
  readonly environment?: string | undefined;
  readonly status?: RunStatus | undefined;
  /** Only starts and stops of a whole environment's plan (no boost, no run for resources reserved alone). */
  readonly power?: boolean | undefined;
  /** Only runs for resources reserved alone. */
  readonly reservation?: boolean | undefined;
  readonly limit?: number | undefined;
}

/** Newest first. */
export async function listRuns(db: Kysely<Database>, filter: RunFilter = {}): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll();
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.power === true)
    query = query.where('direction', '!=', 'boost').where('trigger', '!=', 'reservation');
  if (filter.reservation === true) query = query.where('trigger', '=', 'reservation');
  return (
    query
      .orderBy('created_at', 'desc')
      // Run ids are UUIDv7, time-ordered: runs created in the same millisecond keep their order.
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 50)
      .execute()
  );
}

/** Open runs whose act phase is due and whose lease is free, expired or ours. */
export async function dueRuns(db: Kysely<Database>, now: number, owner: string): Promise<Run[]> {
  return db
    .selectFrom('runs')
    .selectAll()
    .where('status', 'in', OPEN_STATUSES)
    .where('act_at', '<=', now)
    .where((eb) =>
      eb.or([
        eb('lease_until', 'is', null),
        eb('lease_until', '<', now),
        eb('lease_owner', '=', owner),
      ]),
    )
    .orderBy('act_at')
    .execute();
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

/** Takes or renews the lease of an open run; false when another replica holds it. */
export async function claimRun(
  db: Kysely<Database>,
  id: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({ lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
    .where('id', '=', id)
    .where('status', 'in', OPEN_STATUSES)
    .where((eb) =>
      eb.or([
        eb('lease_until', 'is', null),
        eb('lease_until', '<', now),
        eb('lease_owner', '=', owner),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Moves an open run on; false when it is no longer open (cancelled meanwhile). */
export async function advanceRun(
  db: Kysely<Database>,
  id: string,
  status: RunStatus,
  now: number,
  summary?: unknown,
): Promise<boolean> {
  const finished = !OPEN_STATUSES.includes(status);
  const result = await db
    .updateTable('runs')
    .set({
      status,
      updated_at: now,
      ...(finished ? { finished_at: now, lease_owner: null, lease_until: null } : {}),
      ...(summary === undefined ? {} : { summary: JSON.stringify(summary) }),
    })
    .where('id', '=', id)
    .where('status', 'in', OPEN_STATUSES)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Cancels a run still in its grace period; false when it is past grace or finished. */
export async function cancelRun(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({
      status: 'cancelled',
      updated_at: now,
      finished_at: now,
      lease_owner: null,
      lease_until: null,
    })
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
  steps: readonly NewStep[],
): Promise<void> {
  for (const slice of slices(steps)) {
    await db
      .insertInto('run_steps')
      .values(
        slice.map((s) => ({
          run_id: runId,
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
  ids: readonly number[],
  now: number,
): Promise<void> {
  for (const slice of slices(ids)) {
    await db
      .updateTable('run_steps')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), started_at: now }))
      .where('id', 'in', slice)
      .execute();
  }
}

export async function finishStep(
  db: Kysely<Database>,
  id: number | readonly number[],
  status: StepStatus,
  now: number,
  error?: string,
): Promise<void> {
  for (const slice of slices(typeof id === 'number' ? [id] : id)) {
    await db
      .updateTable('run_steps')
      .set({
        status,
        finished_at: status === 'pending' || status === 'acted' ? null : now,
        error: error ?? null,
      })
      .where('id', 'in', slice)
      .execute();
  }
}

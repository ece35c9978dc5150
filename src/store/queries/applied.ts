/**
 * Applied state: per target (an environment, or one resource of it reserved
 * alone), the state lightsout last committed to bring about, with a sequence
 * number. Every change goes through {@link advanceApplied}, a compare-and-set on
 * that number: of two passes, replicas or commands that saw the same row, one
 * wins and the other sees the change it lost to at its next pass.
 */
import type { Kysely } from 'kysely';
import type { AppliedStateRow, Database } from '../schema.js';
import { slices } from './batches.js';

export type Applied = AppliedStateRow;

/** The whole environment's target; a resource reserved alone is its own id. */
export const ENVIRONMENT_TARGET = '';

export async function listApplied(db: Kysely<Database>, environment?: string): Promise<Applied[]> {
  let query = db.selectFrom('applied_states').selectAll();
  if (environment !== undefined) query = query.where('environment', '=', environment);
  return query.execute();
}

/** The applied rows of `environments`, one statement per slice. */
export async function listAppliedOf(
  db: Kysely<Database>,
  environments: readonly string[],
): Promise<Applied[]> {
  const rows: Applied[] = [];
  for (const slice of slices(environments))
    rows.push(
      ...(await db
        .selectFrom('applied_states')
        .selectAll()
        .where('environment', 'in', slice)
        .execute()),
    );
  return rows;
}

export async function getApplied(
  db: Kysely<Database>,
  environment: string,
  resource = ENVIRONMENT_TARGET,
): Promise<Applied | undefined> {
  return db
    .selectFrom('applied_states')
    .selectAll()
    .where('environment', '=', environment)
    .where('resource', '=', resource)
    .executeTakeFirst();
}

export interface AppliedChange {
  readonly environment: string;
  readonly resource: string;
  /** The sequence the caller saw; undefined when it saw no row. */
  readonly expectedSeq: number | undefined;
  readonly state: Applied['state'];
  readonly runId: string | null;
  readonly failures?: number;
  readonly retryAt?: number | null;
  readonly actor: string;
}

/**
 * Compare-and-set: writes the new state with the next sequence number when the
 * row still has `expectedSeq`; returns that number, or undefined when another
 * writer got there first.
 */
export async function advanceApplied(
  db: Kysely<Database>,
  change: AppliedChange,
  now: number,
): Promise<number | undefined> {
  const seq = (change.expectedSeq ?? 0) + 1;
  const values = {
    state: change.state,
    seq,
    run_id: change.runId,
    failures: change.failures ?? 0,
    retry_at: change.retryAt ?? null,
    actor: change.actor,
    updated_at: now,
  };
  if (change.expectedSeq === undefined) {
    const inserted = await db
      .insertInto('applied_states')
      .values({ environment: change.environment, resource: change.resource, ...values })
      .onConflict((oc) => oc.columns(['environment', 'resource']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? seq : undefined;
  }
  const updated = await db
    .updateTable('applied_states')
    .set(values)
    .where('environment', '=', change.environment)
    .where('resource', '=', change.resource)
    .where('seq', '=', change.expectedSeq)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0 ? seq : undefined;
}

/**
 * After a run ends: how many runs in a row failed to reach the state, and when
 * the next try is due. Only while the run is still the target's latest change.
 */
export async function recordOutcome(
  db: Kysely<Database>,
  run: { environment: string; target: string; seq: number },
  outcome: { failures: number | 'reset'; retryAt: number | null },
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('applied_states')
    .set((eb) => ({
      failures: outcome.failures === 'reset' ? 0 : eb('failures', '+', 1),
      retry_at: outcome.retryAt,
      updated_at: now,
    }))
    .where('environment', '=', run.environment)
    .where('resource', '=', run.target)
    .where('seq', '=', run.seq)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Notices a run owes (its stop warning, its summary), recorded in the same
 * transaction as the run or its end, then delivered by whichever replica's pass
 * finds them due: claimed by a compare-and-set on the attempt count, retried with
 * backoff, and marked sent or given up once.
 */
import type { Kysely } from 'kysely';
import type { Database, RunNoticeRow } from '../schema.js';

export type StoredNotice = RunNoticeRow;

export interface NewNotice {
  readonly runId: string;
  readonly kind: RunNoticeRow['kind'];
  readonly environment: string;
  readonly team: string | null;
  readonly body: Record<string, unknown>;
  /** The configured notifier it goes to (default: the log). */
  readonly channel?: string;
  /** When it is first due (default: now); a report to a digest channel waits out the period. */
  readonly dueAt?: number;
}

export async function addNotice(
  db: Kysely<Database>,
  notice: NewNotice,
  now: number,
): Promise<void> {
  await db
    .insertInto('run_notices')
    .values({
      run_id: notice.runId,
      kind: notice.kind,
      status: 'pending',
      attempts: 0,
      next_at: notice.dueAt ?? now,
      environment: notice.environment,
      team: notice.team,
      body: JSON.stringify(notice.body),
      error: null,
      sent_at: null,
      channel: notice.channel ?? '',
    })
    .onConflict((oc) => oc.columns(['run_id', 'kind', 'channel']).doNothing())
    .execute();
}

export async function dueNotices(
  db: Kysely<Database>,
  now: number,
  limit = 200,
): Promise<StoredNotice[]> {
  return db
    .selectFrom('run_notices')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_at', '<=', now)
    .orderBy('next_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * A digest channel's run reports to gather now: every pending one not being tried
 * elsewhere (due, or never tried yet and still waiting out its period), oldest first.
 */
export async function pendingReports(
  db: Kysely<Database>,
  channel: string,
  now: number,
  limit = 500,
): Promise<StoredNotice[]> {
  return db
    .selectFrom('run_notices')
    .selectAll()
    .where('status', '=', 'pending')
    .where('kind', '=', 'run-summary')
    .where('channel', '=', channel)
    .where((eb) => eb.or([eb('next_at', '<=', now), eb('attempts', '=', 0)]))
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The earliest pending notice after `now`, for the reconciler's timer. */
export async function nextNoticeAt(db: Kysely<Database>, now: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('run_notices')
    .select((eb) => eb.fn.min('next_at').as('next'))
    .where('status', '=', 'pending')
    .where('next_at', '>', now)
    .executeTakeFirst();
  return row?.next ?? undefined;
}

/**
 * Takes one delivery attempt: true for the one caller whose compare-and-set on the
 * attempt count wins; `retryAt` is when the next attempt is due if this one never
 * reports back (the process died mid-send).
 */
export async function claimNotice(
  db: Kysely<Database>,
  notice: StoredNotice,
  retryAt: number,
): Promise<boolean> {
  const result = await db
    .updateTable('run_notices')
    .set({ attempts: notice.attempts + 1, next_at: retryAt })
    .where('id', '=', notice.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', notice.attempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Records how an attempt ended, only while it is still the latest attempt of a
 * pending notice: a slow attempt that ends after another was made changes nothing.
 */
export async function settleNotice(
  db: Kysely<Database>,
  id: number,
  attempt: number | undefined,
  status: 'sent' | 'failed' | 'pending',
  now: number,
  error?: string,
): Promise<void> {
  let query = db
    .updateTable('run_notices')
    .set({ status, error: error ?? null, ...(status === 'sent' ? { sent_at: now } : {}) })
    .where('id', '=', id)
    .where('status', '=', 'pending');
  if (attempt !== undefined) query = query.where('attempts', '=', attempt);
  await query.execute();
}

export async function listNotices(db: Kysely<Database>, runId: string): Promise<StoredNotice[]> {
  return db
    .selectFrom('run_notices')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
}

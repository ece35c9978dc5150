/**
 * Counts for /metrics, read from the store at scrape time: every replica reports
 * the same fleet-wide numbers, and they survive restarts.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface Stats {
  readonly runs: { direction: string; status: string; count: number }[];
  readonly actions: { kind: string; status: string; count: number }[];
  readonly resources: { kind: string; state: string; count: number }[];
  readonly notices: { kind: string; count: number }[];
  /** Seconds from a scheduled run's act instant to its first action, recent runs. */
  readonly lags: number[];
}

export async function stats(db: Kysely<Database>): Promise<Stats> {
  const count = sql<number>`count(*)`.as('count');
  const [runs, actions, resources, notices, lagRows] = await Promise.all([
    db
      .selectFrom('runs')
      .select(['direction', 'status', count])
      .groupBy(['direction', 'status'])
      .execute(),
    db
      .selectFrom('run_steps as s')
      .innerJoin('resources as r', 'r.id', 's.resource')
      .select(['r.kind as kind', 's.status as status', count])
      .groupBy(['r.kind', 's.status'])
      .execute(),
    db
      .selectFrom('resources')
      .select(['kind', sql<string>`coalesce(last_state, 'unknown')`.as('state'), count])
      .groupBy(['kind', sql`coalesce(last_state, 'unknown')`])
      .execute(),
    db
      .selectFrom('events')
      .select(['kind', count])
      .where('kind', 'in', ['notice.sent', 'notice.failed'])
      .groupBy('kind')
      .execute(),
    db
      .selectFrom('runs as r')
      .innerJoin('run_steps as s', 's.run_id', 'r.id')
      .select(['r.act_at as act_at', sql<number>`min(s.started_at)`.as('first')])
      .where('r.trigger', '=', 'schedule')
      .where('s.started_at', 'is not', null)
      .groupBy(['r.id', 'r.act_at'])
      .orderBy('r.act_at', 'desc')
      .limit(1000)
      .execute(),
  ]);
  return {
    runs,
    actions,
    resources,
    notices,
    lags: lagRows.map((l) => Math.max(0, (l.first - l.act_at) / 1000)),
  };
}

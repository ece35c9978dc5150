/**
 * The power ledger: per environment and resource (a unit), when it was off, kept
 * in the same transaction as the events that say so (core/savings.ts reads what
 * turns a resource on or off). Each off interval carries the off time of the
 * unit's earlier intervals (`off_before`), so a unit's off time up to any instant
 * is one index lookup: savings over a year of 10,000 resources read tens of
 * thousands of rows, not the millions of events behind them. Retention deletes
 * old events; the ledger stays, so savings over years stay exact.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Interval } from '../../core/glossary.js';
import { POWER_KINDS, powerChangesOf } from '../../core/savings.js';
import { slices } from './batches.js';
import type { Database } from '../schema.js';
import type { EventInput } from './events.js';

/** Applies what `events` say about power, in their order. */
export async function recordPower(
  db: Kysely<Database>,
  events: readonly {
    readonly at: number;
    readonly kind: string;
    readonly environment?: string | null | undefined;
    readonly payload?: Readonly<Record<string, unknown>> | undefined;
  }[],
): Promise<void> {
  for (const event of events) {
    if (!POWER_KINDS.has(event.kind)) continue;
    const changes = powerChangesOf({ kind: event.kind, payload: event.payload ?? {} });
    const on = changes.filter((c) => c.state === 'on').map((c) => c.resource);
    const off = changes.filter((c) => c.state === 'off').map((c) => c.resource);
    if (on.length > 0) await turnedOn(db, on, event.at);
    if (off.length > 0) await turnedOff(db, event.environment ?? '', off, event.at);
  }
}

/** True when any of `events` can change the ledger (so appending them needs a transaction). */
export function changesPower(events: readonly Pick<EventInput, 'kind'>[]): boolean {
  return events.some((e) => POWER_KINDS.has(e.kind));
}

async function turnedOff(
  db: Kysely<Database>,
  environment: string,
  resources: readonly string[],
  at: number,
): Promise<void> {
  for (const slice of slices(inLockOrder(resources))) {
    await db
      .insertInto('power_state')
      .values(
        slice.map((resource_id) => ({ environment, resource_id, off_since: null, off_total: 0 })),
      )
      .onConflict((c) => c.columns(['environment', 'resource_id']).doNothing())
      .execute();
    const opened = await db
      .updateTable('power_state')
      .set({ off_since: at })
      .where('environment', '=', environment)
      .where('resource_id', 'in', slice)
      .where('off_since', 'is', null)
      .returning(['resource_id', 'off_total'])
      .execute();
    if (opened.length === 0) continue;
    await db
      .insertInto('power_intervals')
      .values(
        opened.map((unit) => ({
          environment,
          resource_id: unit.resource_id,
          off_from: at,
          off_to: null,
          off_before: unit.off_total,
        })),
      )
      // On again and off again within the same millisecond: reopen the empty interval.
      .onConflict((c) =>
        c.columns(['environment', 'resource_id', 'off_from']).doUpdateSet({ off_to: null }),
      )
      .execute();
  }
}

/** Closes every open interval of `resources`, in whichever environment it was stopped. */
async function turnedOn(
  db: Kysely<Database>,
  resources: readonly string[],
  at: number,
): Promise<void> {
  for (const slice of slices(inLockOrder(resources))) {
    // An event recorded out of time order never makes an interval negative.
    await db
      .updateTable('power_intervals')
      .set({ off_to: sql<number>`case when off_from > ${at} then off_from else ${at} end` })
      .where('resource_id', 'in', slice)
      .where('off_to', 'is', null)
      .execute();
    await db
      .updateTable('power_state')
      .set({
        off_total: sql<number>`off_total + case when off_since > ${at} then 0 else ${at} - off_since end`,
        off_since: null,
      })
      .where('resource_id', 'in', slice)
      .where('off_since', 'is not', null)
      .execute();
  }
}

/** A unit's off time (ms) up to each of the instants asked for. */
export interface OffTotals {
  readonly environment: string;
  readonly resource: string;
  /** `offMs[k]`: off time up to `instants[k]`. */
  readonly offMs: number[];
}

/** Above this many environments, all units are read and the rest dropped here. */
const ENVIRONMENTS_PER_QUERY = 1_000;

/**
 * Each unit of `environments` with its off time up to each instant: per instant,
 * one query of one indexed lookup per unit.
 */
export async function offTotals(
  db: Kysely<Database>,
  environments: readonly string[],
  instants: readonly number[],
): Promise<OffTotals[]> {
  if (environments.length === 0) return [];
  const wanted = new Set(environments);
  const units = new Map<string, OffTotals>();
  for (const [k, t] of instants.entries()) {
    let query = db
      .selectFrom('power_state as s')
      .select(['s.environment', 's.resource_id'])
      .select((eb) =>
        eb
          .selectFrom('power_intervals as i')
          .select(
            sql<number>`i.off_before + (case when i.off_to is null or i.off_to > ${t} then ${t} else i.off_to end) - i.off_from`.as(
              'off',
            ),
          )
          .whereRef('i.environment', '=', 's.environment')
          .whereRef('i.resource_id', '=', 's.resource_id')
          .where('i.off_from', '<', t)
          .orderBy('i.off_from', 'desc')
          .limit(1)
          .as('off'),
      );
    if (environments.length <= ENVIRONMENTS_PER_QUERY)
      query = query.where('s.environment', 'in', environments);
    for (const row of await query.execute()) {
      if (!wanted.has(row.environment)) continue;
      const key = `${row.environment}\n${row.resource_id}`;
      let unit = units.get(key);
      if (unit === undefined) {
        unit = {
          environment: row.environment,
          resource: row.resource_id,
          offMs: new Array<number>(instants.length).fill(0),
        };
        units.set(key, unit);
      }
      unit.offMs[k] = row.off ?? 0;
    }
  }
  return [...units.values()];
}

/** Each unit's off intervals that meet `window`, clipped to it (for baselines). */
export async function offIntervalsIn(
  db: Kysely<Database>,
  environments: readonly string[],
  window: Interval,
): Promise<{ environment: string; resource: string; off: Interval[] }[]> {
  if (environments.length === 0) return [];
  const rows = await db
    .selectFrom('power_intervals')
    .select(['environment', 'resource_id', 'off_from', 'off_to'])
    .where('environment', 'in', environments)
    .where('off_from', '<', window.end)
    .where((eb) => eb.or([eb('off_to', 'is', null), eb('off_to', '>', window.start)]))
    .orderBy('environment')
    .orderBy('resource_id')
    .orderBy('off_from')
    .execute();
  const units = new Map<string, { environment: string; resource: string; off: Interval[] }>();
  for (const row of rows) {
    const key = `${row.environment}\n${row.resource_id}`;
    let unit = units.get(key);
    if (unit === undefined) {
      unit = { environment: row.environment, resource: row.resource_id, off: [] };
      units.set(key, unit);
    }
    const start = Math.max(row.off_from, window.start);
    const end = Math.min(row.off_to ?? window.end, window.end);
    if (end <= start) continue;
    // Off again the millisecond it came on: one stretch off, as the log replayed says.
    const last = unit.off.at(-1);
    if (last !== undefined && start <= last.end) unit.off[unit.off.length - 1] = { ...last, end };
    else unit.off.push({ start, end });
  }
  return [...units.values()];
}

/**
 * Each resource once, in one order for every writer: two transactions that lock the
 * same rows in the same order wait for each other instead of deadlocking.
 */
function inLockOrder(resources: readonly string[]): string[] {
  return [...new Set(resources)].sort();
}

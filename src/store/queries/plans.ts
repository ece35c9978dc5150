/** Environments, reservations and holds: config rows synced on start, API rows beside them. */
// Time-ordered ids: a new row goes at the end of the primary-key index, not anywhere in it.
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import type { Hold, Reservation } from '../../core/glossary.js';
import type { Database, HoldRow, ReservationRow, Source } from '../schema.js';

export interface StoredReservation extends Reservation {
  readonly id: string;
  readonly source: Source;
  readonly actor: string;
  readonly note: string | null;
  readonly resource: string | null;
  readonly createdAt: number;
}

export interface StoredHold extends Hold {
  readonly id: string;
  readonly source: Source;
  readonly actor: string;
  readonly note: string | null;
  readonly createdAt: number;
}

export interface EnvironmentRecord {
  readonly name: string;
  readonly team: string | null;
  readonly timezone: string;
  readonly schedule: string | null;
  readonly definition: unknown;
}

export interface ConfigSnapshot {
  readonly environments: readonly EnvironmentRecord[];
  readonly reservations: readonly (Reservation & { note?: string | undefined })[];
  readonly holds: readonly (Hold & { note?: string | undefined })[];
}

/**
 * Replaces every config-sourced row with the config's, in one transaction; rows
 * created through the API or the CLI are left as they are.
 */
export async function syncConfig(
  db: Kysely<Database>,
  snapshot: ConfigSnapshot,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('environments').where('source', '=', 'config').execute();
    if (snapshot.environments.length > 0) {
      await tx
        .insertInto('environments')
        .values(
          snapshot.environments.map((e) => ({
            name: e.name,
            team: e.team,
            timezone: e.timezone,
            schedule: e.schedule,
            definition: JSON.stringify(e.definition),
            source: 'config' as const,
            updated_at: now,
          })),
        )
        .execute();
    }
    await tx.deleteFrom('reservations').where('source', '=', 'config').execute();
    for (const [index, r] of snapshot.reservations.entries()) {
      await tx
        .insertInto('reservations')
        .values({
          id: `config-${index}`,
          environment: r.environment,
          resource: null,
          from_at: r.from,
          to_at: r.to,
          source: 'config',
          actor: 'config',
          note: r.note ?? null,
          created_at: now,
        })
        .execute();
    }
    await tx.deleteFrom('holds').where('source', '=', 'config').execute();
    for (const [index, h] of snapshot.holds.entries()) {
      await tx
        .insertInto('holds')
        .values({
          id: `config-${index}`,
          environment: h.environment,
          state: h.state,
          from_at: h.from ?? null,
          until_at: h.until,
          source: 'config',
          actor: 'config',
          note: h.note ?? null,
          created_at: now,
        })
        .execute();
    }
  });
}

export async function listEnvironments(db: Kysely<Database>): Promise<EnvironmentRecord[]> {
  const rows = await db.selectFrom('environments').selectAll().orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    team: r.team,
    timezone: r.timezone,
    schedule: r.schedule,
    definition: JSON.parse(r.definition) as unknown,
  }));
}

export async function addReservation(
  db: Kysely<Database>,
  r: {
    environment: string;
    from: number;
    to: number;
    actor: string;
    note?: string | undefined;
    resource?: string | undefined;
  },
  now: number,
): Promise<StoredReservation> {
  const row = {
    id: uuidv7(),
    environment: r.environment,
    resource: r.resource ?? null,
    from_at: r.from,
    to_at: r.to,
    source: 'api' as const,
    actor: r.actor,
    note: r.note ?? null,
    created_at: now,
  };
  await db.insertInto('reservations').values(row).execute();
  return toReservation(row);
}

export async function addHold(
  db: Kysely<Database>,
  h: {
    environment: string;
    state: 'on' | 'off';
    from?: number | undefined;
    until: number;
    actor: string;
    note?: string | undefined;
  },
  now: number,
): Promise<StoredHold> {
  const row = {
    id: uuidv7(),
    environment: h.environment,
    state: h.state,
    from_at: h.from ?? null,
    until_at: h.until,
    source: 'api' as const,
    actor: h.actor,
    note: h.note ?? null,
    created_at: now,
  };
  await db.insertInto('holds').values(row).execute();
  return toHold(row);
}

/**
 * Ends the hold-offs made through the API or CLI that are in force now or start
 * later (those from the config file stay): in force ones end now, future ones
 * never begin. `note` narrows it to one command's hold.
 */
export async function endHoldsOff(
  db: Kysely<Database>,
  environment: string,
  now: number,
  note?: string,
): Promise<void> {
  const base = () => {
    let query = db
      .updateTable('holds')
      .where('environment', '=', environment)
      .where('source', '=', 'api')
      .where('state', '=', 'off')
      .where('until_at', '>', now);
    if (note !== undefined) query = query.where('note', '=', note);
    return query;
  };
  await base()
    .where((eb) => eb.or([eb('from_at', 'is', null), eb('from_at', '<=', now)]))
    .set({ until_at: now })
    .execute();
  await base()
    .where('from_at', '>', now)
    .set((eb) => ({ until_at: eb.ref('from_at').$castTo<number>() }))
    .execute();
}

export interface ReservationFilter {
  readonly environments?: readonly string[] | undefined;
  /** Reservations that overlap [from, to). */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

export async function listReservations(
  db: Kysely<Database>,
  filter: ReservationFilter,
): Promise<StoredReservation[]> {
  let query = db.selectFrom('reservations').selectAll();
  if (filter.environments !== undefined) {
    if (filter.environments.length === 0) return [];
    query = query.where('environment', 'in', filter.environments);
  }
  if (filter.from !== undefined) query = query.where('to_at', '>', filter.from);
  if (filter.to !== undefined) query = query.where('from_at', '<', filter.to);
  const rows = await query.orderBy('from_at').orderBy('id').limit(1000).execute();
  return rows.map(toReservation);
}

export async function getReservation(
  db: Kysely<Database>,
  id: string,
): Promise<StoredReservation | undefined> {
  const row = await db
    .selectFrom('reservations')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row === undefined ? undefined : toReservation(row);
}

export async function getHold(db: Kysely<Database>, id: string): Promise<StoredHold | undefined> {
  const row = await db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toHold(row);
}

/** Deletes a reservation made through the API or CLI (the config's own stay); false when there is none. */
export async function deleteReservation(db: Kysely<Database>, id: string): Promise<boolean> {
  return deleteMade(db, 'reservations', id);
}

export async function listHolds(
  db: Kysely<Database>,
  environments: readonly string[],
  since: number,
): Promise<StoredHold[]> {
  if (environments.length === 0) return [];
  const rows = await db
    .selectFrom('holds')
    .selectAll()
    .where('environment', 'in', environments)
    .where('until_at', '>', since)
    .orderBy('created_at')
    .execute();
  return rows.map(toHold);
}

/** Deletes a hold made through the API or CLI (the config's own stay); false when there is none. */
export async function deleteHold(db: Kysely<Database>, id: string): Promise<boolean> {
  return deleteMade(db, 'holds', id);
}

async function deleteMade(
  db: Kysely<Database>,
  table: 'reservations' | 'holds',
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom(table)
    .where('id', '=', id)
    .where('source', '=', 'api')
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Reservations and holds that still matter at or after `since`. */
export interface PlanScope {
  /** Only plans that begin before this instant. */
  readonly until?: number | undefined;
  /** Only these environments' plans. */
  readonly environments?: readonly string[] | undefined;
}

export async function activePlans(
  db: Kysely<Database>,
  since: number,
  scope: PlanScope = {},
): Promise<{ reservations: StoredReservation[]; holds: StoredHold[] }> {
  let reservationQuery = db.selectFrom('reservations').selectAll().where('to_at', '>', since);
  let holdQuery = db.selectFrom('holds').selectAll().where('until_at', '>', since);
  if (scope.until !== undefined) {
    reservationQuery = reservationQuery.where('from_at', '<', scope.until);
    const until = scope.until;
    holdQuery = holdQuery.where((eb) =>
      eb.or([eb('from_at', 'is', null), eb('from_at', '<', until)]),
    );
  }
  if (scope.environments !== undefined) {
    if (scope.environments.length === 0) return { reservations: [], holds: [] };
    reservationQuery = reservationQuery.where('environment', 'in', scope.environments);
    holdQuery = holdQuery.where('environment', 'in', scope.environments);
  }
  const [reservations, holds] = await Promise.all([
    reservationQuery.execute(),
    holdQuery.execute(),
  ]);
  // A hold ended before it began (a future hold-off that was called off) is history only.
  const live = holds.filter((h) => h.from_at === null || h.until_at > h.from_at);
  return { reservations: reservations.map(toReservation), holds: live.map(toHold) };
}

function toReservation(r: ReservationRow): StoredReservation {
  return {
    id: r.id,
    environment: r.environment,
    from: r.from_at,
    to: r.to_at,
    source: r.source,
    actor: r.actor,
    note: r.note,
    resource: r.resource,
    createdAt: r.created_at,
  };
}

function toHold(h: HoldRow): StoredHold {
  return {
    id: h.id,
    environment: h.environment,
    state: h.state,
    until: h.until_at,
    ...(h.from_at === null ? {} : { from: h.from_at }),
    source: h.source,
    actor: h.actor,
    note: h.note,
    createdAt: h.created_at,
  };
}

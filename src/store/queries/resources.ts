/** The discovered inventory: what each environment holds and the last state lightsout saw. */
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { ResourceSize } from '../../core/glossary.js';
import { slices } from './batches.js';
import type { Database, ResourceTable } from '../schema.js';

export interface InventoryResource {
  readonly id: string;
  readonly provider: string;
  readonly kind: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** What discovery read of its size; absent when it read nothing. */
  readonly size?: ResourceSize | undefined;
}

export interface StoredResource extends InventoryResource {
  readonly environment: string | null;
  readonly lastState: string | null;
  readonly updatedAt: number;
}

/** A new inventory row: what discovery found, owned by `environment`. */
function inventoryRow(environment: string, r: InventoryResource, now: number) {
  return {
    id: r.id,
    environment,
    provider: r.provider,
    kind: r.kind,
    name: r.name,
    tags: JSON.stringify(r.tags),
    last_state: null,
    restore: null,
    size: r.size === undefined ? null : JSON.stringify(r.size),
    updated_at: now,
  };
}

/**
 * What discovery found, each size completed with the parts of the last one known
 * that this discovery could not read: a group held at zero has no instance left to
 * say its type, yet it still runs that type once started. (Merged here rather than
 * in SQL: SQLite and PostgreSQL merge JSON differently.)
 */
async function withKnownSizes(
  db: Kysely<Database>,
  found: readonly InventoryResource[],
): Promise<InventoryResource[]> {
  const sized = found.filter((r) => r.size !== undefined);
  if (sized.length === 0) return [...found];
  const rows = await db
    .selectFrom('resources')
    .select(['id', 'size'])
    .where(
      'id',
      'in',
      sized.map((r) => r.id),
    )
    .where('size', 'is not', null)
    .execute();
  const known = new Map(rows.map((r) => [r.id, JSON.parse(r.size!) as ResourceSize]));
  return found.map((r) => {
    const last = known.get(r.id);
    return last === undefined || r.size === undefined ? r : { ...r, size: { ...last, ...r.size } };
  });
}

/** A discovery that reads no size at all keeps the last one known. */
const keptSize = sql<string | null>`coalesce(excluded.size, resources.size)`;

/** Records what discovery found for an environment; last states are kept. */
export async function upsertResources(
  db: Kysely<Database>,
  environment: string,
  resources: readonly InventoryResource[],
  now: number,
): Promise<void> {
  for (const slice of slices(resources)) {
    const chunk = await withKnownSizes(db, slice);
    await db
      .insertInto('resources')
      .values(chunk.map((r) => inventoryRow(environment, r, now)))
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          environment: eb.ref('excluded.environment'),
          tags: eb.ref('excluded.tags'),
          size: keptSize,
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}

export async function setLastState(
  db: Kysely<Database>,
  ids: readonly string[],
  state: string,
  now: number,
): Promise<void> {
  for (const chunk of slices(ids)) {
    await db
      .updateTable('resources')
      .set({ last_state: state, updated_at: now })
      .where('id', 'in', chunk)
      .execute();
  }
}

export async function listResources(
  db: Kysely<Database>,
  environment?: string,
): Promise<StoredResource[]> {
  let query = db.selectFrom('resources').selectAll();
  if (environment !== undefined) query = query.where('environment', '=', environment);
  const rows = await query.orderBy('id').execute();
  return rows.map(toStored);
}

function toStored(r: Selectable<ResourceTable>): StoredResource {
  return {
    id: r.id,
    provider: r.provider,
    kind: r.kind,
    name: r.name,
    tags: JSON.parse(r.tags) as Record<string, string>,
    ...(r.size === null ? {} : { size: JSON.parse(r.size) as ResourceSize }),
    environment: r.environment,
    lastState: r.last_state,
    updatedAt: r.updated_at,
  };
}

/** How many resources each environment has in each last-seen state (`unknown` before any was seen). */
export async function countByState(
  db: Kysely<Database>,
  environments: readonly string[],
): Promise<{ environment: string; state: string; count: number }[]> {
  if (environments.length === 0) return [];
  const state = sql<string>`coalesce(last_state, 'unknown')`;
  const rows = await db
    .selectFrom('resources')
    .select(['environment', state.as('state'), sql<number>`count(*)`.as('count')])
    .where('environment', 'in', environments)
    .groupBy(['environment', state])
    .execute();
  return rows.map((r) => ({ environment: r.environment!, state: r.state, count: r.count }));
}

/**
 * Records what discovery found for an environment, which becomes the owner of the
 * resources nobody owns yet, atomically (of two environments discovering one
 * resource at once, one becomes its owner); resources owned already keep their
 * owner (see moveResources).
 */
export async function recordDiscovered(
  db: Kysely<Database>,
  environment: string,
  resources: readonly InventoryResource[],
  now: number,
): Promise<void> {
  await recordDiscoveredOf(db, [{ environment, resources }], now);
}

/**
 * recordDiscovered for several environments' discoveries, in as few statements as
 * slices allow. A resource two of them found is written once per discovery, in
 * their order (one statement may not change a row twice).
 */
export async function recordDiscoveredOf(
  db: Kysely<Database>,
  discoveries: readonly { environment: string; resources: readonly InventoryResource[] }[],
  now: number,
): Promise<void> {
  for (const round of roundsWithoutRepeats(discoveries))
    for (const slice of slices(round)) {
      const chunk = await withKnownSizes(
        db,
        slice.map((r) => r.resource),
      );
      await db
        .insertInto('resources')
        .values(chunk.map((r, i) => inventoryRow(slice[i]!.environment, r, now)))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            environment: sql<string>`coalesce(resources.environment, excluded.environment)`,
            tags: eb.ref('excluded.tags'),
            size: keptSize,
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
}

/** The discoveries' resources in rounds where each id appears once, earlier discoveries first. */
function roundsWithoutRepeats(
  discoveries: readonly { environment: string; resources: readonly InventoryResource[] }[],
): { environment: string; resource: InventoryResource }[][] {
  const rounds: {
    ids: Set<string>;
    rows: { environment: string; resource: InventoryResource }[];
  }[] = [];
  for (const { environment, resources } of discoveries)
    for (const resource of resources) {
      let round = rounds.find((r) => !r.ids.has(resource.id));
      if (round === undefined) rounds.push((round = { ids: new Set(), rows: [] }));
      round.ids.add(resource.id);
      round.rows.push({ environment, resource });
    }
  return rounds.map((r) => r.rows);
}

/** Gives resources to `environment` (their former owner no longer selects them). */
export async function moveResources(
  db: Kysely<Database>,
  environment: string,
  ids: readonly string[],
  now: number,
): Promise<void> {
  for (const slice of slices(ids))
    await db
      .updateTable('resources')
      .set({ environment, updated_at: now })
      .where('id', 'in', slice)
      .execute();
}

/** Which environment the inventory last recorded for each of these resources (those that have one). */
export async function ownersOf(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const slice of slices(ids)) {
    const rows = await db
      .selectFrom('resources')
      .select(['id', 'environment'])
      .where('id', 'in', slice)
      .where('environment', 'is not', null)
      .execute();
    for (const row of rows) owners.set(row.id, row.environment!);
  }
  return owners;
}

export async function getResource(
  db: Kysely<Database>,
  id: string,
): Promise<StoredResource | undefined> {
  const row = await db.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toStored(row);
}

/**
 * The EC2 instances with this id (the end of their resource ids; the same id may
 * be in two accounts) that environments manage. LIKE narrows it in the database (escaped, since the id is the caller's);
 * the exact, case-sensitive match is made here, as SQLite's LIKE ignores case.
 */
export async function findInstances(
  db: Kysely<Database>,
  instanceId: string,
): Promise<StoredResource[]> {
  const suffix = `:${instanceId}`;
  const pattern = `%${suffix.replace(/[\\%_]/g, (c) => `\\${c}`)}`;
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('kind', '=', 'ec2')
    .where('environment', 'is not', null)
    .where(sql<boolean>`id like ${pattern} escape '\\'`)
    .execute();
  return rows.filter((r) => r.id.endsWith(suffix)).map(toStored);
}

export interface RestoreEntry {
  readonly id: string;
  readonly key: string;
  /** `undefined` removes the piece. */
  readonly data: unknown;
}

/**
 * Saves named pieces of restore data (`capacity`, `alarms`...), keeping a
 * resource's other pieces and creating its inventory row if discovery has not;
 * all in one transaction, a slice of resources per statement.
 */
export async function saveRestore(
  db: Kysely<Database>,
  entries: readonly RestoreEntry[],
  now: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const slice of slices(entries)) {
      const current = await tx
        .selectFrom('resources')
        .select(['id', 'restore'])
        .where('id', 'in', [...new Set(slice.map((e) => e.id))])
        .execute();
      const pieces = new Map(
        current.map((r) => [r.id, JSON.parse(r.restore ?? '{}') as Record<string, unknown>]),
      );
      for (const { id, key, data } of slice) {
        const next = Object.entries(pieces.get(id) ?? {}).filter(([k]) => k !== key);
        if (data !== undefined) next.push([key, data]);
        pieces.set(id, Object.fromEntries(next));
      }
      await tx
        .insertInto('resources')
        .values(
          [...new Set(slice.map((e) => e.id))].map((id) => {
            const [provider = '', kind = ''] = id.split(':');
            const restore = pieces.get(id) ?? {};
            return {
              id,
              environment: null,
              provider,
              kind,
              name: id,
              tags: '{}',
              last_state: null,
              restore: Object.keys(restore).length === 0 ? null : JSON.stringify(restore),
              size: null,
              updated_at: now,
            };
          }),
        )
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            restore: eb.ref('excluded.restore'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  });
}

export async function loadRestore(db: Kysely<Database>, id: string, key: string): Promise<unknown> {
  return (await restorePieces(db, id))[key];
}

export async function findRestore(
  db: Kysely<Database>,
  prefix: string,
  key: string,
): Promise<{ id: string; data: unknown }[]> {
  const rows = await db
    .selectFrom('resources')
    .select(['id', 'restore'])
    // substr rather than LIKE: ids hold `_`, and SQLite's LIKE has no default escape.
    .where(sql<string>`substr(id, 1, ${prefix.length})`, '=', prefix)
    .where('restore', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.flatMap((row) => {
    const pieces = JSON.parse(row.restore ?? '{}') as Record<string, unknown>;
    return key in pieces ? [{ id: row.id, data: pieces[key] }] : [];
  });
}

async function restorePieces(db: Kysely<Database>, id: string): Promise<Record<string, unknown>> {
  const row = await db
    .selectFrom('resources')
    .select('restore')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.restore === null || row?.restore === undefined
    ? {}
    : (JSON.parse(row.restore) as Record<string, unknown>);
}

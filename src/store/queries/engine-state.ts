/** Small values the engine keeps between passes and processes (the instant of its last pass). */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export async function readValue(db: Kysely<Database>, key: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('engine_state')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

/** The values of `keys` in one statement, so one snapshot even while another process writes them; absent keys are left out. */
export async function readValues(
  db: Kysely<Database>,
  keys: readonly string[],
): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('engine_state')
    .select(['key', 'value'])
    .where('key', 'in', [...keys])
    .execute();
  return new Map(rows.map((r) => [r.key, r.value]));
}

/**
 * Moves a value from `expected` (undefined: absent) to `value`; true for the one
 * writer that saw `expected`. Replicas use it to agree on who records what
 * happened between two passes.
 */
export async function swapValue(
  db: Kysely<Database>,
  key: string,
  expected: number | undefined,
  value: number,
): Promise<boolean> {
  if (expected === undefined) {
    const inserted = await db
      .insertInto('engine_state')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
  const updated = await db
    .updateTable('engine_state')
    .set({ value })
    .where('key', '=', key)
    .where('value', '=', expected)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Sets `key` to `value`, whatever it was. */
export async function writeValue(db: Kysely<Database>, key: string, value: number): Promise<void> {
  await db
    .insertInto('engine_state')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** Removes the values whose key starts with `prefix`. */
export async function deleteValues(db: Kysely<Database>, prefix: string): Promise<void> {
  await db.deleteFrom('engine_state').where('key', 'like', `${prefix}%`).execute();
}

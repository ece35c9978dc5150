/** The action links' signing key and the links already followed (see switches/action-links.ts). */
import type { Kysely } from 'kysely';
import type { Database, LinkUseRow } from '../schema.js';

const KEY_ID = 'action-links';

/**
 * The key links are signed with: the stored one, or `candidate` when there is
 * none yet. Replicas racing to create it all end up with the first one stored.
 */
export async function linkKey(
  db: Kysely<Database>,
  candidate: string,
  now: number,
): Promise<string> {
  await db
    .insertInto('link_keys')
    .values({ id: KEY_ID, secret: candidate, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await db
    .selectFrom('link_keys')
    .select('secret')
    .where('id', '=', KEY_ID)
    .executeTakeFirstOrThrow();
  return row.secret;
}

/** Records a link as followed; false when it was followed before (by anyone). */
export async function claimLinkUse(db: Kysely<Database>, use: LinkUseRow): Promise<boolean> {
  const result = await db
    .insertInto('link_uses')
    .values(use)
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function linkUse(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<LinkUseRow | undefined> {
  return db
    .selectFrom('link_uses')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Forgets a claimed use whose action was refused, so the page says why, not "already used". */
export async function releaseLinkUse(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('link_uses').where('token_hash', '=', tokenHash).execute();
}

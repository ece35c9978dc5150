/** API tokens: stored by hash; listed without it; revoked, never deleted (the log keeps their names). */
import type { Kysely } from 'kysely';
import type { Database, Role, TokenRow } from '../schema.js';

export interface StoredToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly team: string | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

export async function addToken(
  db: Kysely<Database>,
  token: {
    id: string;
    name: string;
    role: Role;
    team?: string | undefined;
    hash: string;
    expiresAt?: number | undefined;
  },
  now: number,
): Promise<StoredToken> {
  const row: TokenRow = {
    id: token.id,
    name: token.name,
    role: token.role,
    team: token.team ?? null,
    hash: token.hash,
    created_at: now,
    expires_at: token.expiresAt ?? null,
    revoked_at: null,
  };
  await db.insertInto('tokens').values(row).execute();
  return toToken(row);
}

export async function tokenByHash(
  db: Kysely<Database>,
  hash: string,
): Promise<StoredToken | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  return row === undefined ? undefined : toToken(row);
}

export async function listTokens(db: Kysely<Database>): Promise<StoredToken[]> {
  const rows = await db.selectFrom('tokens').selectAll().orderBy('created_at').execute();
  return rows.map(toToken);
}

/** Revokes a token by id or name; false when there is none to revoke. */
export async function revokeToken(
  db: Kysely<Database>,
  idOrName: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function toToken(r: TokenRow): StoredToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    team: r.team,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/**
 * Who is calling: a bearer token (see tokens.ts) gives a name, a role and maybe a
 * team. Roles are ordered: viewer reads, operator also changes plans and runs,
 * admin does everything. A team-scoped caller sees its team's environments only.
 */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { Problem } from './problems.js';
import type { OidcVerifier } from './oidc.js';
import { hashToken, TOKEN_PREFIX } from './tokens.js';

export interface Principal {
  /** Who this is, for the rate limit: `token:<id>`, or `oidc:<subject>`. */
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly team: string | null;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export async function authenticate(
  request: FastifyRequest,
  store: Pick<Store, 'tokenByHash'>,
  now: number,
  oidc?: OidcVerifier,
): Promise<Principal> {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null)
    throw new Problem(
      401,
      'unauthenticated',
      'Unauthenticated',
      'send a token: Authorization: Bearer <token> (create one with lightsout token create)',
    );
  // lightsout's own tokens start with lo_; anything else is an OpenID Connect token.
  if (oidc !== undefined && !match[1]!.startsWith(TOKEN_PREFIX)) return oidc(match[1]!, now);
  return principalOfHash(store, hashToken(match[1]!), now);
}

/** The caller a token's hash names (a bearer token's, or a dashboard session's), if in force. */
export async function principalOfHash(
  store: Pick<Store, 'tokenByHash'>,
  hash: string,
  now: number,
): Promise<Principal> {
  const token = await store.tokenByHash(hash);
  if (token === undefined || token.revokedAt !== null)
    throw new Problem(401, 'invalid-token', 'Invalid token', 'this token is unknown or revoked');
  if (token.expiresAt !== null && token.expiresAt <= now)
    throw new Problem(
      401,
      'expired-token',
      'Expired token',
      `this token expired at ${new Date(token.expiresAt).toISOString()}; create a new one`,
    );
  return { id: `token:${token.id}`, name: token.name, role: token.role, team: token.team };
}

export function requireRole(principal: Principal, role: Role): void {
  if (RANK[principal.role] < RANK[role])
    throw new Problem(
      403,
      'forbidden',
      'Forbidden',
      `this needs the ${role} role; the token "${principal.name}" is ${principal.role}`,
    );
}

/** A team-scoped caller sees only its team's environments; others do not exist for it. */
export function canSee(principal: Principal, team: string | undefined): boolean {
  return principal.team === null || principal.team === team;
}

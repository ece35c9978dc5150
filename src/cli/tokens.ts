/**
 * `lightsout token create|list|revoke`: API tokens. A token is shown once, when
 * created; the store keeps only its hash.
 */
import { randomUUID } from 'node:crypto';
import { newToken } from '../api/tokens.js';
import { parseDuration } from '../config/schema.js';
import type { StoredToken } from '../store/queries/tokens.js';
import type { Role } from '../store/schema.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { withContext } from './operate.js';
import type { StoreOptions } from './operate.js';

const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export interface TokenCreateOptions extends StoreOptions {
  readonly name: string;
  readonly role: string;
  readonly team?: string;
  readonly expires?: string;
}

export async function tokenCreateCommand(options: TokenCreateOptions, io: CliIo): Promise<number> {
  return withContext(
    options,
    io,
    () => {
      if (!ROLES.includes(options.role as Role))
        throw new UsageError(`--role "${options.role}": give one of ${ROLES.join(', ')}`);
      if (!/^[\w.-]{1,64}$/.test(options.name))
        throw new UsageError(
          `--name "${options.name}": use letters, digits, dot, dash or underscore (up to 64)`,
        );
      if (options.expires === undefined) return undefined;
      const parsed = parseDuration(options.expires);
      if (!parsed.ok || parsed.value <= 0)
        throw new UsageError(`--expires "${options.expires}": give a duration such as 90d`);
      return parsed.value;
    },
    async (context, expiresInMs) => {
      const existing = await context.store.listTokens();
      if (existing.some((t) => t.name === options.name && t.revokedAt === null))
        throw new UsageError(
          `a token named "${options.name}" exists; revoke it or choose another name`,
        );
      const { token, hash } = newToken();
      const stored = await context.store.addToken(
        {
          id: randomUUID(),
          name: options.name,
          role: options.role as Role,
          team: options.team,
          hash,
          expiresAt: expiresInMs === undefined ? undefined : context.now + expiresInMs,
        },
        context.now,
      );
      await context.store.appendEvents([
        {
          at: context.now,
          actor: context.actor,
          kind: 'token.created',
          payload: { id: stored.id, name: stored.name, role: stored.role, team: stored.team },
        },
      ]);
      io.out(
        options.json === true
          ? JSON.stringify({ ...tokenJson(stored), token })
          : `${token}\n(token "${stored.name}", ${stored.role}${stored.team === null ? '' : `, team ${stored.team}`}; shown once, keep it safe)`,
      );
      return EXIT.ok;
    },
    true,
  );
}

export async function tokenListCommand(options: StoreOptions, io: CliIo): Promise<number> {
  return withContext(
    options,
    io,
    () => undefined,
    async (context) => {
      const tokens = await context.store.listTokens();
      if (options.json === true) io.out(JSON.stringify({ tokens: tokens.map(tokenJson) }));
      else
        for (const t of tokens)
          io.out(
            [
              t.name,
              t.role,
              t.team ?? '-',
              t.revokedAt !== null
                ? 'revoked'
                : t.expiresAt !== null && t.expiresAt <= context.now
                  ? 'expired'
                  : 'active',
            ].join('\t'),
          );
      return EXIT.ok;
    },
  );
}

export async function tokenRevokeCommand(
  nameOrId: string,
  options: StoreOptions,
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    () => undefined,
    async (context) => {
      if (!(await context.store.revokeToken(nameOrId, context.now)))
        throw new UsageError(`there is no active token "${nameOrId}"; see lightsout token list`);
      await context.store.appendEvents([
        {
          at: context.now,
          actor: context.actor,
          kind: 'token.revoked',
          payload: { token: nameOrId },
        },
      ]);
      io.out(`revoked token ${nameOrId}`);
      return EXIT.ok;
    },
  );
}

/** A token's record with its times in ISO 8601, as everywhere else lightsout shows them. */
function tokenJson(t: StoredToken) {
  const iso = (time: number | null) => (time === null ? null : new Date(time).toISOString());
  return {
    ...t,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
  };
}

/**
 * The dashboard's sessions: an API token is exchanged once for a cookie, and the
 * API then accepts that cookie in place of `Authorization: Bearer`.
 *
 * The cookie is sealed, not kept server-side: an encrypted, authenticated JWT
 * (jose, `dir` + A256GCM) holding the token's hash, a CSRF secret and an expiry.
 * A session opened by signing in with OpenID Connect (oidc-routes.ts) holds the
 * caller itself instead: there is no token to look up.
 * Nothing is written to the store, so any replica that has the same key
 * (LIGHTSOUT_SESSION_KEY) reads it; and since each request looks the token up by
 * its hash, a revoked or expired token ends its sessions at once, with the role
 * and team the token has now.
 *
 * CSRF: every request that changes something and comes with the cookie must carry
 * the session's CSRF secret in `X-CSRF-Token` (a synchronizer token kept inside the
 * sealed cookie, so no server-side table). The page reads it from the sign-in
 * answer or `GET /api/v1/session`; another site can read neither. SameSite=Strict
 * is a second line.
 *
 * Times here are the wall clock's: a cookie's life is a person's, also in a demo
 * whose clock runs faster.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './auth.js';

export const SESSION_COOKIE = 'lightsout_session';
export const CSRF_HEADER = 'x-csrf-token';
/** How long a session lasts, from sign-in. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** How long a one-time sign-in code stays good. */
export const CODE_TTL_MS = 24 * 3_600_000;

/**
 * What a sealed session cookie holds: an API token's hash (looked up at each
 * request), or, signed in with OpenID Connect, the caller itself as the config's
 * rules made it at sign-in (nothing to look up: such a session ends at its expiry,
 * or for all at once when LIGHTSOUT_SESSION_KEY changes).
 */
export type Session = TokenSession | PrincipalSession;

interface SessionCommon {
  /** The CSRF secret every change must carry. */
  readonly csrf: string;
  /** Wall-clock ms. */
  readonly expiresAt: number;
}

export interface TokenSession extends SessionCommon {
  /** SHA-256 of the API token it was opened with (the store's key for it). */
  readonly tokenHash: string;
  readonly principal?: undefined;
}

export interface PrincipalSession extends SessionCommon {
  readonly tokenHash?: undefined;
  readonly principal: Principal;
}

/** Methods that change nothing, and so need no CSRF token. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export class WebSessions {
  private readonly key: Uint8Array;
  /** One-time codes (kept as their hash) of the sign-in links, to the token hash each opens. */
  private readonly codes = new Map<string, { tokenHash: string; until: number }>();

  constructor(
    key: Uint8Array = sessionKey(),
    private readonly wallNow: () => number = Date.now,
  ) {
    this.key = key;
  }

  /** A fresh session for the token with this hash: the cookie's value and what the page needs. */
  async open(tokenHash: string): Promise<{ cookie: string; session: Session }> {
    const session: Session = {
      tokenHash,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: this.wallNow() + SESSION_TTL_MS,
    };
    const cookie = await new EncryptJWT({ h: session.tokenHash, c: session.csrf })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime(Math.floor(session.expiresAt / 1000))
      .encrypt(this.key);
    return { cookie, session };
  }

  /**
   * A fresh session for a caller signed in elsewhere (OpenID Connect), until
   * `until` (wall-clock ms) but never beyond SESSION_TTL_MS from now.
   */
  async openFor(
    principal: Principal,
    until: number,
  ): Promise<{ cookie: string; session: Session }> {
    const session: Session = {
      principal: {
        id: principal.id,
        name: principal.name,
        role: principal.role,
        team: principal.team,
      },
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: Math.min(until, this.wallNow() + SESSION_TTL_MS),
    };
    const cookie = await this.seal({ p: session.principal, c: session.csrf }, session.expiresAt);
    return { cookie, session };
  }

  /** The session a cookie holds, or undefined if it was not sealed with this key or has expired. */
  async read(cookie: string): Promise<Session | undefined> {
    const payload = await this.unseal(cookie);
    if (payload === undefined) return undefined;
    const { h, c, p, exp } = payload;
    if (typeof c !== 'string' || typeof exp !== 'number') return undefined;
    if (typeof h === 'string') return { tokenHash: h, csrf: c, expiresAt: exp * 1000 };
    const principal = principalOf(p);
    if (principal === undefined) return undefined;
    return { principal, csrf: c, expiresAt: exp * 1000 };
  }

  /**
   * Seals any claims with the session key until `expiresAt` (wall-clock ms), for
   * the sign-in's own short-lived cookie. A sealed value is told from a session by
   * its claims: a session's `read` takes only one with `c` and `h` or `p`.
   */
  seal(claims: Record<string, unknown>, expiresAt: number): Promise<string> {
    return new EncryptJWT(claims)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .encrypt(this.key);
  }

  /** The claims `seal` sealed, or undefined if not sealed with this key or expired. */
  async unseal(sealed: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { payload } = await jwtDecrypt(sealed, this.key, {
        currentDate: new Date(this.wallNow()),
      });
      return payload;
    } catch {
      return undefined;
    }
  }

  /** A one-time code that opens a session for the token with this hash (the demo's sign-in link). */
  oneTimeCode(tokenHash: string): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(digest(code), { tokenHash, until: this.wallNow() + CODE_TTL_MS });
    return code;
  }

  /** The token hash a code opens, once: the code is gone after this call, used or not. */
  redeem(code: string): string | undefined {
    const key = digest(code);
    const found = this.codes.get(key);
    this.codes.delete(key);
    if (found === undefined || found.until <= this.wallNow()) return undefined;
    return found.tokenHash;
  }
}

const ROLES = new Set(['viewer', 'operator', 'admin']);

/** A principal read back from a sealed cookie, checked field by field. */
function principalOf(value: unknown): Principal | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name, role, team } = value as Record<string, unknown>;
  if (typeof id !== 'string' || typeof name !== 'string' || typeof role !== 'string')
    return undefined;
  if (!ROLES.has(role) || (team !== null && typeof team !== 'string')) return undefined;
  return { id, name, role: role as Principal['role'], team };
}

/** Whether a request with a session may go on: safe methods always, others with the session's CSRF token. */
export function csrfOk(request: FastifyRequest, session: Session): boolean {
  if (SAFE.has(request.method)) return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session cookie's value on a request, if any. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return undefined;
}

/**
 * The Set-Cookie header: HttpOnly, SameSite=Strict, Path=/, Secure when the
 * request came over HTTPS (directly, or through a proxy that says so).
 */
export function sessionCookieHeader(
  request: FastifyRequest,
  value: string,
  maxAgeMs: number,
): string {
  const secure =
    request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https'
      ? '; Secure'
      : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure}`;
}

/** A LIGHTSOUT_SESSION_KEY that cannot seal sessions: the operator's to fix. */
export class SessionKeyError extends Error {
  override readonly name = 'SessionKeyError';
}

/**
 * The sealing key: LIGHTSOUT_SESSION_KEY (at least 32 bytes of text; give every
 * replica the same one), else a random key of this process (sessions then end
 * when it restarts, and work on this replica only).
 */
export function sessionKey(env: NodeJS.ProcessEnv = process.env): Uint8Array {
  const text = env.LIGHTSOUT_SESSION_KEY;
  if (text === undefined || text === '') return new Uint8Array(randomBytes(32));
  if (text.length < 32)
    throw new SessionKeyError(
      'LIGHTSOUT_SESSION_KEY is too short: give at least 32 random characters',
    );
  return new Uint8Array(createHash('sha256').update(text).digest());
}

function digest(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

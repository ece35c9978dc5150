/** What every route needs: the caller, the environments it may see, and input read strictly. */
import type { FastifyRequest } from 'fastify';
import { DateTime, IANAZone } from 'luxon';
import type { z } from 'zod';
import type { Environment, Instant, Schedule } from '../core/glossary.js';
import type { Engine } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';
import type { OidcVerifier } from './oidc.js';
import type { OidcSignIn } from './oidc-sign-in.js';
import type { ActionLinks } from '../switches/action-links.js';
import type { SlackApp } from '../switches/slack-app.js';
import type { HookSwitchesOptions } from '../switches/hooks.js';
import type { Limit } from '../core/limits.js';
import { YEARS } from '../core/limits.js';
import { authenticate, canSee, principalOfHash } from './auth.js';
import type { WebSessions } from './session.js';
import { csrfOk, sessionCookieOf } from './session.js';
import { Problem } from './problems.js';

export interface ApiDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly environments: readonly Environment[];
  readonly schedules: ReadonlyMap<string, Schedule>;
  readonly now: () => Instant;
  /** Verifies OpenID Connect tokens, when the config has `api.oidc`. */
  readonly oidc?: OidcVerifier;
  /** The warnings' action links, when the config has `public_url`: their pages are served. */
  readonly links?: ActionLinks;
  /** The Slack app's request URLs, when the config has `switches.slack`. */
  readonly slack?: SlackApp;
  /** The config's `switches.hooks`, served at /hooks/NAME and /hooks/sns/NAME. */
  readonly hooks?: HookSwitchesOptions;
  /** The dashboard's sessions: with them, a session cookie stands for its token. */
  readonly sessions?: WebSessions;
  /** Run streams (GET /api/v1/runs/:id/stream): how often they read the store, how many, how long (see run-routes.ts). */
  readonly runStreams?: {
    readonly pollMs?: number;
    readonly maxStreams?: number;
    readonly heartbeatMs?: number;
    readonly maxAgeMs?: number;
  };
  /** The dashboard's sign-in with OpenID Connect, when the config has `api.oidc.sign_in`. */
  readonly oidcSignIn?: OidcSignIn;
}

export const DAY = 24 * 3_600_000;
const VIEW_TTL_MS = 1_000;

export class ApiContext {
  readonly byName: ReadonlyMap<string, Environment>;

  /**
   * Views of environments computed in the last second, by the names they cover.
   * Desired states change only at transitions, so a second-old view is right but
   * for a change made since: this process's own writes clear it at once; writes
   * elsewhere (the CLI, another replica) show within a second.
   */
  private readonly views = new Map<string, { at: Instant; value: Promise<unknown> }>();

  private readonly callers = new WeakMap<FastifyRequest, Promise<Principal>>();

  constructor(readonly deps: ApiDeps) {
    this.byName = new Map(deps.environments.map((e) => [e.name, e]));
  }

  cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const now = this.deps.now();
    const hit = this.views.get(key);
    if (hit !== undefined && now - hit.at < VIEW_TTL_MS && now >= hit.at)
      return hit.value as Promise<T>;
    const value = compute();
    this.views.set(key, { at: now, value });
    value.catch(() => this.views.delete(key));
    return value;
  }

  /** After a write: plans changed, views are recomputed. */
  changed(): void {
    this.views.clear();
  }

  /**
   * The caller, authenticated once a request: the rate limit asks first (to count
   * by who calls), the route asks again and gets the same answer, or the same error.
   */
  caller(request: FastifyRequest): Promise<Principal> {
    let principal = this.callers.get(request);
    if (principal === undefined) {
      principal = this.authenticate(request);
      this.callers.set(request, principal);
    }
    return principal;
  }

  /**
   * A bearer token when the request has one; else the dashboard's session cookie,
   * whose changes must carry its CSRF token.
   */
  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const { sessions, store, oidc } = this.deps;
    const cookie = sessionCookieOf(request);
    if (
      sessions === undefined ||
      request.headers.authorization !== undefined ||
      cookie === undefined
    )
      return authenticate(request, store, this.deps.now(), oidc);
    const session = await sessions.read(cookie);
    if (session === undefined)
      throw new Problem(
        401,
        'session-expired',
        'Session expired',
        'this session is over or was not opened here; sign in again',
      );
    if (!csrfOk(request, session))
      throw new Problem(
        403,
        'csrf-token-missing',
        'CSRF token missing or wrong',
        'a change made with a session cookie must carry its X-CSRF-Token header (GET /api/v1/session gives it)',
      );
    // Signed in with OpenID Connect: the caller the rules made at sign-in.
    if (session.principal !== undefined) return session.principal;
    return principalOfHash(store, session.tokenHash, this.deps.now());
  }

  /** The environment, unless the caller may not see it: then it does not exist (404). */
  visible(principal: Principal, name: string, field = 'environment'): Environment {
    const environment = this.byName.get(name);
    if (environment === undefined || !canSee(principal, environment.team))
      throw new Problem(
        404,
        'unknown-environment',
        'Unknown environment',
        `there is no environment "${name}"`,
        field,
      );
    return environment;
  }

  /** Names of the environments the caller may see. */
  visibleNames(principal: Principal): string[] {
    return this.deps.environments.filter((e) => canSee(principal, e.team)).map((e) => e.name);
  }
}

/**
 * A problem a schema's own check names (a custom issue's `params`), such as a
 * duration over its maximum: well-formed input the API will not take (422).
 */
export interface IssueProblem {
  readonly status: number;
  readonly type: string;
  readonly title: string;
}

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it`
      : `${field === '' ? 'the body' : field}: ${issue.message}`;
  const own = issue.code === 'custom' ? (issue.params as IssueProblem | undefined) : undefined;
  if (own !== undefined) throw new Problem(own.status, own.type, own.title, detail, field);
  throw new Problem(400, 'invalid-body', 'Invalid body', detail, field === '' ? undefined : field);
}

/**
 * A route's query string, read by its schema (the one /openapi.json declares): a
 * parameter given twice (`?limit=1&limit=2`, which arrives as an array) or one the
 * route does not know is refused, naming it, before anything reaches the store.
 */
export function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const given = (query ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(given))
    if (Array.isArray(value))
      throw new Problem(
        400,
        'invalid-query',
        'Invalid query parameter',
        `${name}: given ${value.length} times; give it once`,
        name,
      );
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys')
    throw new Problem(
      400,
      'invalid-query',
      'Invalid query parameter',
      `unknown parameter ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it (/openapi.json lists the route's parameters)`,
      issue.keys[0],
    );
  const name = issue.path.join('.');
  throw new Problem(
    400,
    'invalid-query',
    'Invalid query parameter',
    `${name}: ${issue.message}`,
    name,
  );
}

/** `until` at most `limit` after now: 422 naming the field and the limit otherwise. */
export function notFurtherThan(until: Instant, now: Instant, limit: Limit, field: string): Instant {
  if (until - now > limit.ms)
    throw new Problem(
      422,
      'too-far-ahead',
      'Too far ahead',
      `${field}: ${iso(until)} is more than ${limit.text} ahead; give an earlier time`,
      field,
    );
  return until;
}

export function zoneOf(requested: string | undefined, fallback: string): string {
  if (requested === undefined) return fallback;
  if (!IANAZone.isValidZone(requested))
    throw new Problem(
      400,
      'unknown-timezone',
      'Unknown time zone',
      `"${requested}" is not an IANA time zone; write one such as Europe/Paris`,
      'timezone',
    );
  return requested;
}

/** An ISO 8601 time; without an offset, read in `zone`. */
export function timeOf(text: string, zone: string, field: string): Instant {
  // A time that carries its offset is the same instant in any zone; reading it in
  // UTC skips luxon's zone-offset lookups, a tenth of a reservation request's time.
  const ownOffset = /T.*(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text);
  const time = DateTime.fromISO(text, { zone: ownOffset ? 'utc' : zone, setZone: false });
  if (!time.isValid)
    throw new Problem(
      400,
      'invalid-time',
      'Invalid time',
      `${field}: "${text}" is not an ISO 8601 time such as 2026-04-01T05:00:30`,
      field,
    );
  // Years beyond four digits (+275760-09-13) are ISO 8601 by agreement only, and
  // a day after them is no longer a date.
  if (time.toUTC().year < YEARS.first || time.toUTC().year > YEARS.last)
    throw new Problem(
      400,
      'invalid-time',
      'Invalid time',
      `${field}: "${text}" is outside the years ${YEARS.first} to ${YEARS.last}`,
      field,
    );
  return time.toMillis();
}

export function iso(t: Instant): string {
  return new Date(t).toISOString();
}

/** What every route needs: the caller, the environments it may see, and input read strictly. */
import type { FastifyRequest } from 'fastify';
import { DateTime, IANAZone } from 'luxon';
import type { z } from 'zod';
import type { Environment, Instant, Schedule } from '../core/glossary.js';
import type { Engine } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';
import type { OidcVerifier } from './oidc.js';
import { authenticate, canSee } from './auth.js';
import { Problem } from './problems.js';

export interface ApiDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly environments: readonly Environment[];
  readonly schedules: ReadonlyMap<string, Schedule>;
  readonly now: () => Instant;
  /** Verifies OpenID Connect tokens, when the config has `api.oidc`. */
  readonly oidc?: OidcVerifier;
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
      principal = authenticate(request, this.deps.store, this.deps.now(), this.deps.oidc);
      this.callers.set(request, principal);
    }
    return principal;
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

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it`
      : `${field === '' ? 'the body' : field}: ${issue.message}`;
  throw new Problem(400, 'invalid-body', 'Invalid body', detail, field === '' ? undefined : field);
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
  return time.toMillis();
}

export function iso(t: Instant): string {
  return new Date(t).toISOString();
}

/**
 * OpenID Connect bearer tokens (jose): the signature against the issuer's JWKS
 * (fetched from a URL and cached by jose, or read from a file), the issuer, the
 * audience and the expiry are verified; then the first rule whose claim matches
 * gives the role and maybe a team. A token must carry `exp`: jose accepts a
 * token without one for ever, and a leaked token would never stop working.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { OidcDocument } from '../config/schema.js';
import type { Principal } from './auth.js';
import { Problem } from './problems.js';

export type OidcVerifier = (token: string, now: number) => Promise<Principal>;

export function oidcVerifier(config: OidcDocument): OidcVerifier {
  const keys: JWTVerifyGetKey =
    config.jwks_url !== undefined
      ? createRemoteJWKSet(new URL(config.jwks_url))
      : createLocalJWKSet(JSON.parse(readFileSync(config.jwks_file!, 'utf8')) as never);
  return async (token, now) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        currentDate: new Date(now),
        requiredClaims: ['exp'],
        clockTolerance: config.clock_skew / 1000,
      }));
    } catch (error) {
      throw refusal(error as { code?: string; claim?: string; reason?: string });
    }
    return principalOfClaims(config.rules, payload);
  };
}

export type OidcRule = OidcDocument['rules'][number];

/**
 * The caller a set of verified claims stands for: the first rule whose claim has
 * the value gives the role and maybe a team; no rule, no role (403 `no-role`). The
 * one mapping of both OpenID Connect paths: bearer tokens and the dashboard's sign-in.
 */
export function principalOfClaims(
  rules: readonly OidcRule[],
  claims: Readonly<Record<string, unknown>>,
): Principal {
  const rule = rules.find((r) => claimValues(claims[r.claim]).includes(r.value));
  const name = [claims.email, claims.sub].find((v): v is string => typeof v === 'string') ?? 'oidc';
  if (rule === undefined)
    throw new Problem(403, 'no-role', 'No role', `no rule of the config gives "${name}" a role`);
  const subject = typeof claims.sub === 'string' ? claims.sub : name;
  return { id: `oidc:${subject}`, name, role: rule.role, team: rule.team ?? null };
}

/** Why jose refused a token, as a problem; names the claim at fault, never its value. */
function refusal(error: { code?: string; claim?: string; reason?: string }): Problem {
  if (error.code === 'ERR_JWT_EXPIRED')
    return new Problem(
      401,
      'expired-token',
      'Expired token',
      'this token has expired; sign in again',
    );
  if (error.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && error.claim !== undefined)
    return new Problem(
      401,
      'invalid-token',
      'Invalid token',
      error.reason === 'missing'
        ? `this token has no "${error.claim}" claim, which lightsout requires${error.claim === 'exp' ? ': tokens must expire; set an expiry at the issuer' : ''}`
        : `this token's "${error.claim}" claim is not valid here`,
    );
  return new Problem(
    401,
    'invalid-token',
    'Invalid token',
    `this token is not valid here (${error.code ?? 'unreadable'})`,
  );
}

/** A claim's values as text: a list (groups) or a single value. */
function claimValues(claim: unknown): string[] {
  const scalar = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : [];
  return Array.isArray(claim) ? claim.flatMap(scalar) : scalar(claim);
}

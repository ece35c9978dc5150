import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { oidcVerifier } from '../../src/api/oidc.js';
import { Problem } from '../../src/api/problems.js';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';
import { at } from '../helpers.js';

// Keys made here and read from a JWKS file: no identity provider, no network.
const NOW = at('2026-06-01T12:00Z');
let sign: (claims: Record<string, unknown>, expires: number | null) => Promise<string>;
let jwksFile: string;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  jwksFile = join(mkdtempSync(join(tmpdir(), 'lightsout-oidc-')), 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  sign = (claims, expires) => {
    const jwt = new SignJWT({ groups: ['platform'], ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://login.example.com')
      .setAudience('lightsout')
      .setSubject('u1');
    return (expires === null ? jwt : jwt.setExpirationTime(expires / 1000)).sign(privateKey);
  };
});

function verifier(clockSkew = 60_000) {
  return oidcVerifier({
    issuer: 'https://login.example.com',
    audience: 'lightsout',
    jwks_file: jwksFile,
    clock_skew: clockSkew,
    rules: [{ claim: 'groups', value: 'platform', role: 'admin' }],
  });
}

async function refusal(token: string, clockSkew?: number): Promise<Problem> {
  const error: unknown = await verifier(clockSkew)(token, NOW).then(
    () => new Error('expected the token to be refused'),
    (e: unknown) => e,
  );
  if (!(error instanceof Problem)) throw error;
  return error;
}

describe('OpenID Connect token times', () => {
  it('refuses a token without exp, naming the claim', async () => {
    const problem = await refusal(await sign({}, null));
    expect([problem.status, problem.type]).toEqual([401, 'invalid-token']);
    expect(problem.detail).toContain('"exp" claim');
  });

  it('accepts a token that expired within the clock skew (60 s by default)', async () => {
    const principal = await verifier()(await sign({}, NOW - 59_000), NOW);
    expect(principal).toMatchObject({ id: 'oidc:u1', role: 'admin' });
  });

  it('refuses a token that expired beyond the clock skew', async () => {
    const problem = await refusal(await sign({}, NOW - 61_000));
    expect([problem.status, problem.type]).toEqual([401, 'expired-token']);
    expect((await refusal(await sign({}, NOW - 1_000), 0)).type).toBe('expired-token');
  });

  it('applies the skew to nbf too: a token valid a few seconds from now is accepted', async () => {
    const soon = await sign({ nbf: (NOW + 30_000) / 1000 }, NOW + 3_600_000);
    expect(await verifier()(soon, NOW)).toMatchObject({ role: 'admin' });
    const problem = await refusal(soon, 0);
    expect([problem.type, problem.detail]).toEqual([
      'invalid-token',
      `this token's "nbf" claim is not valid here`,
    ]);
  });
});

describe('api.oidc.clock_skew', () => {
  const config = (skew?: string) => `
api:
  oidc:
    issuer: https://login.example.com
    audience: lightsout
    jwks_file: ./jwks.json
${skew === undefined ? '' : `    clock_skew: ${skew}\n`}    rules: [{ claim: groups, value: platform, role: admin }]
`;

  it('is 60 s unless given, and may be set up to 5 minutes', () => {
    for (const [skew, expected] of [
      [undefined, 60_000],
      ['0', 0],
      ['5m', 300_000],
    ] as const) {
      const result = parseConfig(config(skew), 'lightsout.yaml');
      if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
      expect(result.config.document.api?.oidc?.clock_skew).toBe(expected);
    }
  });

  it('refuses a wider skew with the fix', () => {
    const result = parseConfig(config('1h'), 'lightsout.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /^lightsout\.yaml:\d+:\d+: error: api\.oidc\.clock_skew: clock_skew is at most 300s; fix the clocks/,
      ),
    ]);
  });
});

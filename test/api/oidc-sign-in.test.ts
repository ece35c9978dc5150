/**
 * The dashboard's OpenID Connect sign-in without a browser: its config (what is
 * accepted, what is refused and how the error names the field), the one mapping
 * of claims to a caller shared with bearer tokens, the `next` a sign-in may go
 * back to, sessions that hold a caller, and the failures the callback names
 * before it asks the issuer anything. The round trip itself is test/web/oidc.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { principalOfClaims } from '../../src/api/oidc.js';
import type { OidcFlow } from '../../src/api/oidc-sign-in.js';
import { oidcSignInOf, OidcSignInError } from '../../src/api/oidc-sign-in.js';
import { sameSitePath } from '../../src/api/oidc-routes.js';
import { Problem } from '../../src/api/problems.js';
import { SESSION_TTL_MS, WebSessions } from '../../src/api/session.js';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';
import type { ConfigDocument } from '../../src/config/schema.js';
import { SecretError } from '../../src/notify/secrets.js';
import { cli, configFile } from '../cli/run.js';

const config = ({
  issuer = 'https://login.example.com/realms/acme',
  publicUrl = 'https://lightsout.example.com/',
  signIn = `      client_id: lightsout-dashboard
      client_secret: \${LIGHTSOUT_OIDC_CLIENT_SECRET}`,
}: {
  issuer?: string;
  publicUrl?: string | null;
  signIn?: string;
} = {}) => `${publicUrl === null ? '' : `public_url: ${publicUrl}\n`}api:
  oidc:
    issuer: ${issuer}
    audience: lightsout
    jwks_url: ${issuer}/protocol/openid-connect/certs
    rules: [{ claim: groups, value: platform, role: admin }]
    sign_in:
${signIn}
`;

function parsed(text: string): ConfigDocument {
  const result = parseConfig(text, 'lightsout.yaml');
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.config.document;
}

function errors(text: string): string[] {
  const result = parseConfig(text, 'lightsout.yaml');
  if (result.ok) throw new Error('expected the config to be refused');
  return result.diagnostics.map(formatDiagnostic);
}

describe('api.oidc.sign_in', () => {
  it('takes a client id and a named secret; scopes, session_ttl and the name have defaults', () => {
    expect(parsed(config()).api?.oidc?.sign_in).toEqual({
      client_id: 'lightsout-dashboard',
      client_secret: '${LIGHTSOUT_OIDC_CLIENT_SECRET}',
      scopes: ['openid', 'email', 'profile'],
      session_ttl: 12 * 3_600_000,
    });
    // A public client (PKCE alone) has no secret; a mounted file is a place too.
    for (const secret of ['', '      client_secret: file:/run/secrets/oidc\n'])
      expect(
        parsed(config({ signIn: `      client_id: c\n${secret}      scopes: [openid, email]` })).api
          ?.oidc?.sign_in?.scopes,
      ).toEqual(['openid', 'email']);
  });

  it('refuses a client secret written in the file, without printing it', async () => {
    const text = config({
      signIn: '      client_id: c\n      client_secret: s3cr3t-value-of-the-client',
    });
    expect(errors(text)).toEqual([
      'lightsout.yaml:10:22: error: api.oidc.sign_in.client_secret: client_secret is never written in the config: name an environment variable, e.g. client_secret: ${LIGHTSOUT_OIDC_CLIENT_SECRET}, or a file, file:/run/secrets/oidc',
    ]);
    const lint = await cli(['lint', '--config', configFile(text)]);
    expect(lint.code).toBe(1);
    expect(lint.err).toContain('api.oidc.sign_in.client_secret: client_secret is never written');
    expect(`${lint.out}${lint.err}`).not.toContain('s3cr3t');
  });

  it('talks to the issuer over HTTPS; plain http only on loopback, and the error says so', () => {
    expect(errors(config({ issuer: 'http://login.example.com' }))).toEqual([
      expect.stringMatching(
        /^lightsout\.yaml:4:13: error: api\.oidc\.issuer: the sign-in talks to the issuer over HTTPS only: write https:\/\/\.\.\. \(plain http is allowed on a loopback address such as 127\.0\.0\.1 only, for tests\)$/,
      ),
    ]);
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000'])
      expect(parsed(config({ issuer })).api?.oidc?.issuer).toBe(issuer);
  });

  it('needs public_url, for the redirect URI', () => {
    expect(errors(config({ publicUrl: null }))).toEqual([
      expect.stringContaining(
        'error: api.oidc.sign_in: sign_in needs public_url, the address people reach lightsout at',
      ),
    ]);
  });

  it('names the field at fault: scopes without openid, a session beyond 12 h, an unknown key', () => {
    expect(errors(config({ signIn: '      client_id: c\n      scopes: [email]' }))).toEqual([
      expect.stringContaining('api.oidc.sign_in.scopes: scopes must include openid'),
    ]);
    expect(errors(config({ signIn: '      client_id: c\n      session_ttl: 13h' }))).toEqual([
      expect.stringContaining('api.oidc.sign_in.session_ttl: session_ttl is between 5m and 12h'),
    ]);
    expect(errors(config({ signIn: '      client_id: c\n      client_secrets: x' }))).toEqual([
      expect.stringContaining('unknown key "client_secrets"; did you mean "client_secret"?'),
    ]);
    expect(errors(config({ signIn: '      scopes: [openid]' }))).toEqual([
      expect.stringContaining('api.oidc.sign_in.client_id'),
    ]);
  });

  it('reads the secret where the config names it; a missing one names the variable, not a value', () => {
    const document = parsed(config());
    const env = { LIGHTSOUT_OIDC_CLIENT_SECRET: 'from-the-environment' };
    const signIn = oidcSignInOf(document, { env, readFile: () => '' })!;
    expect(signIn.redirectUri).toBe('https://lightsout.example.com/api/v1/session/oidc/callback');
    expect(signIn.name).toBe('login.example.com');
    expect(() => oidcSignInOf(document, { env: {}, readFile: () => '' })).toThrow(
      new SecretError(
        'api.oidc.sign_in.client_secret: the environment variable LIGHTSOUT_OIDC_CLIENT_SECRET is not set; set it, or name a file with file:/path',
      ),
    );
    expect(oidcSignInOf({ api: undefined, public_url: undefined })).toBeUndefined();
  });
});

describe('claims to a caller (shared by bearer tokens and the sign-in)', () => {
  const rules = [
    { claim: 'groups', value: 'platform', role: 'admin' as const },
    { claim: 'groups', value: 'payments-devs', role: 'operator' as const, team: 'payments' },
    { claim: 'email_verified', value: 'true', role: 'viewer' as const },
    { claim: 'level', value: '3', role: 'viewer' as const, team: 'growth' },
  ];

  it('gives the first matching rule: its role and team, named by email, known by subject', () => {
    expect(
      principalOfClaims(rules, {
        sub: 'u1',
        email: 'a@x.io',
        groups: ['payments-devs', 'platform'],
      }),
    ).toEqual({ id: 'oidc:u1', name: 'a@x.io', role: 'admin', team: null });
    expect(principalOfClaims(rules, { sub: 'u2', groups: ['payments-devs'] })).toEqual({
      id: 'oidc:u2',
      name: 'u2',
      role: 'operator',
      team: 'payments',
    });
    // A single value matches as a one-element list; numbers and booleans as their text.
    expect(principalOfClaims(rules, { sub: 'u3', groups: 'platform' }).role).toBe('admin');
    expect(principalOfClaims(rules, { sub: 'u4', email_verified: true }).role).toBe('viewer');
    expect(principalOfClaims(rules, { sub: 'u5', level: 3 }).team).toBe('growth');
  });

  it('no rule, no role: 403 no-role, naming who', () => {
    const refusal = (() => {
      try {
        principalOfClaims(rules, {
          sub: 'u6',
          email: 'eve@x.io',
          groups: [{ nested: 'platform' }],
        });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(Problem);
    expect(refusal).toMatchObject({
      status: 403,
      type: 'no-role',
      detail: 'no rule of the config gives "eve@x.io" a role',
    });
  });
});

describe('where a sign-in may go back to', () => {
  it.each([
    ['/environments/dev?at=2026-06-01#week', '/environments/dev?at=2026-06-01#week'],
    ['/', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/.//evil.example', '/'],
    ['/a/..//evil.example', '/'],
    ['/%2e//evil.example', '/'],
    ['/a/../b', '/b'],
    ['/\tevil', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['environments', '/'],
    ['/sign-in?next=/x', '/'],
    [undefined, '/'],
    [['/a', '/b'], '/'],
  ])('%j goes to %j', (next, expected) => {
    expect(sameSitePath(next)).toBe(expected);
  });

  it('a next longer than 2,000 characters is not followed', () => {
    expect(sameSitePath(`/${'a'.repeat(2000)}`)).toBe('/');
  });
});

describe('a session that holds its caller', () => {
  const NOW = Date.parse('2026-06-01T12:00:00Z');
  const caller = { id: 'oidc:u1', name: 'a@x.io', role: 'operator' as const, team: 'payments' };

  it('reads back the caller and ends with the ID token, never beyond 12 h', async () => {
    let now = NOW;
    const sessions = new WebSessions(new Uint8Array(32).fill(7), () => now);
    const short = await sessions.openFor(caller, NOW + 3_600_000);
    expect(await sessions.read(short.cookie)).toEqual({
      principal: caller,
      csrf: short.session.csrf,
      expiresAt: NOW + 3_600_000,
    });
    const long = await sessions.openFor(caller, NOW + 48 * 3_600_000);
    expect(long.session.expiresAt).toBe(NOW + SESSION_TTL_MS);
    now = NOW + 3_600_000 + 1_000;
    expect(await sessions.read(short.cookie)).toBeUndefined();
    expect(await sessions.read(long.cookie)).toBeDefined();
    // Another key (LIGHTSOUT_SESSION_KEY rotated) ends them all.
    const rotated = new WebSessions(new Uint8Array(32).fill(8), () => now);
    expect(await rotated.read(long.cookie)).toBeUndefined();
  });

  it("is told apart from the sign-in's flow cookie, and from a token's session", async () => {
    const sessions = new WebSessions(new Uint8Array(32).fill(7), () => NOW);
    const flow = await sessions.seal({ oidc: { state: 's' } }, NOW + 600_000);
    expect(await sessions.read(flow)).toBeUndefined();
    const token = await sessions.open('ab'.repeat(32));
    expect(await sessions.read(token.cookie)).toMatchObject({ tokenHash: 'ab'.repeat(32) });
    // A sealed principal with a role that does not exist is no session.
    const odd = await sessions.seal({ c: 'x', p: { ...caller, role: 'root' } }, NOW + 600_000);
    expect(await sessions.read(odd)).toBeUndefined();
  });
});

describe("the callback's own refusals (before the issuer is asked)", () => {
  const signIn = oidcSignInOf(parsed(config()), {
    env: { LIGHTSOUT_OIDC_CLIENT_SECRET: 'x' },
    readFile: () => '',
  })!;
  const flow: OidcFlow = { verifier: 'v', state: 'the-state', nonce: 'n', next: '/' };
  const failure = (query: string) =>
    signIn.finish(new URLSearchParams(query), flow).then(
      () => 'signed in',
      (error: unknown) => (error instanceof OidcSignInError ? error.failure : String(error)),
    );

  it('names a refusal at the issuer, and a state that is not the one sent', async () => {
    expect(await failure('error=access_denied&state=the-state')).toBe('access-denied');
    expect(await failure('error=server_error&state=the-state')).toBe('issuer-error');
    expect(await failure('code=c&state=another-state')).toBe('state-mismatch');
    expect(await failure('code=c')).toBe('state-mismatch');
  });

  it('an issuer that does not answer its discovery document is named as such', async () => {
    const unreachable = oidcSignInOf(parsed(config({ issuer: 'http://127.0.0.1:9' })), {
      env: { LIGHTSOUT_OIDC_CLIENT_SECRET: 'x' },
      readFile: () => '',
    })!;
    const error: unknown = await unreachable.start('/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcSignInError);
    expect(error).toMatchObject({
      failure: 'issuer-unreachable',
      message: 'the issuer http://127.0.0.1:9 did not answer its discovery document',
    });
  });
});

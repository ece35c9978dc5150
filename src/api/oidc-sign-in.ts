/**
 * The dashboard's sign-in with OpenID Connect: this service is a client of the
 * issuer (authorization code flow, PKCE with S256, state and nonce). openid-client
 * (panva) does the protocol: discovery from the issuer's
 * /.well-known/openid-configuration, the authorization URL, the code exchange and
 * the ID token's checks (issuer, audience, expiry, nonce, and its signature
 * against the issuer's keys: enableNonRepudiationChecks). The verified claims go
 * through the same rules as a bearer token's (principalOfClaims in oidc.ts).
 *
 * Nothing is kept here between the two legs of a sign-in: what the callback must
 * check (verifier, state, nonce, where to go next) travels sealed in a short-lived
 * cookie of its own (see oidc-routes.ts).
 */
import * as client from 'openid-client';
import type { ConfigDocument, OidcDocument } from '../config/schema.js';
import type { SecretSources } from '../notify/secrets.js';
import { resolveSecret } from '../notify/secrets.js';
import { isLoopbackUrl } from '../config/schema.js';
import type { Principal } from './auth.js';
import { principalOfClaims } from './oidc.js';
import { Problem } from './problems.js';

export const OIDC_START_PATH = '/api/v1/session/oidc';
export const OIDC_CALLBACK_PATH = '/api/v1/session/oidc/callback';
/** How long a person has at the issuer between leaving and coming back. */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

/** What the callback checks against: kept sealed in the flow cookie meanwhile. */
export interface OidcFlow {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  /** The page to land on once signed in: a path of this site. */
  readonly next: string;
}

export interface OidcSignInOptions {
  readonly oidc: OidcDocument;
  /** The sign-in's settings (`api.oidc.sign_in`), with the client secret resolved. */
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes: readonly string[];
  readonly sessionTtlMs: number;
  /** What the button says: "Sign in with NAME". */
  readonly name?: string;
  /** The service's public address (config `public_url`): the redirect URI is under it. */
  readonly publicUrl: string;
  /** Wall clock, for the session's expiry. */
  readonly wallNow?: () => number;
}

/** Why a sign-in failed, as the sign-in page names it (`/sign-in?oidc-error=TYPE`). */
export type OidcFailure =
  | 'issuer-unreachable'
  | 'access-denied'
  | 'issuer-error'
  | 'expired-flow'
  | 'state-mismatch'
  | 'exchange-failed'
  | 'no-role';

export class OidcSignInError extends Error {
  override readonly name = 'OidcSignInError';
  constructor(
    readonly failure: OidcFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class OidcSignIn {
  readonly name: string;
  readonly redirectUri: string;
  private discovered: Promise<client.Configuration> | undefined;
  private readonly wallNow: () => number;

  constructor(private readonly options: OidcSignInOptions) {
    this.name = options.name ?? new URL(options.oidc.issuer).host;
    this.redirectUri = `${options.publicUrl.replace(/\/+$/, '')}${OIDC_CALLBACK_PATH}`;
    this.wallNow = options.wallNow ?? Date.now;
  }

  /**
   * The issuer's metadata, discovered at the first sign-in and kept; a failed
   * discovery is forgotten, so the next sign-in tries again.
   */
  private configuration(): Promise<client.Configuration> {
    if (this.discovered !== undefined) return this.discovered;
    const { oidc, clientId, clientSecret } = this.options;
    const execute = [client.enableNonRepudiationChecks];
    // Plain http only on loopback: the config refuses it anywhere else.
    if (oidc.issuer.startsWith('http:') && isLoopbackUrl(oidc.issuer))
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- marked so to stand out; loopback only
      execute.push(client.allowInsecureRequests);
    const metadata: Partial<client.ClientMetadata> = {
      // The same tolerance as bearer tokens get (openid-client's default, 30 s, if 0).
      ...(oidc.clock_skew > 0 ? { [client.clockTolerance]: oidc.clock_skew / 1000 } : {}),
    };
    const discovered = client.discovery(
      new URL(oidc.issuer),
      clientId,
      metadata,
      clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
      { execute, timeout: 10 },
    );
    this.discovered = discovered;
    discovered.catch(() => {
      if (this.discovered === discovered) this.discovered = undefined;
    });
    return discovered;
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async start(next: string): Promise<{ url: URL; flow: OidcFlow }> {
    let configuration: client.Configuration;
    try {
      configuration = await this.configuration();
    } catch (error) {
      throw new OidcSignInError(
        'issuer-unreachable',
        `the issuer ${this.options.oidc.issuer} did not answer its discovery document`,
        { cause: error },
      );
    }
    const verifier = client.randomPKCECodeVerifier();
    const flow: OidcFlow = {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      next,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.options.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url, flow };
  }

  /**
   * The caller the issuer's answer stands for, and until when its session may
   * last: the configured session_ttl from now.
   * `query` is the callback's query string, as the issuer sent it.
   */
  async finish(
    query: URLSearchParams,
    flow: OidcFlow,
  ): Promise<{ principal: Principal; until: number }> {
    const error = query.get('error');
    if (error !== null)
      throw new OidcSignInError(
        error === 'access_denied' ? 'access-denied' : 'issuer-error',
        `the issuer answered ${error}`,
      );
    // Checked here too (openid-client checks it again) to name this failure apart.
    if (query.get('state') !== flow.state)
      throw new OidcSignInError('state-mismatch', 'the state sent back is not the one sent');
    const configuration = await this.configuration().catch((cause: unknown) => {
      throw new OidcSignInError('issuer-unreachable', 'the issuer did not answer', { cause });
    });
    const callback = new URL(this.redirectUri);
    callback.search = query.toString();
    let claims: Readonly<Record<string, unknown>> | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (cause) {
      throw new OidcSignInError(
        'exchange-failed',
        `the code exchange or the ID token's checks failed (${errorCode(cause)})`,
        { cause },
      );
    }
    if (claims === undefined)
      throw new OidcSignInError('exchange-failed', 'the issuer gave no ID token');
    let principal: Principal;
    try {
      principal = principalOfClaims(this.options.oidc.rules, claims);
    } catch (cause) {
      if (cause instanceof Problem && cause.type === 'no-role')
        throw new OidcSignInError('no-role', cause.detail, { cause });
      throw cause;
    }
    // The ID token's `exp` bounds when the token may be accepted, not how long the
    // session it opens lasts (OpenID Connect Core 1.0, §2 and §3.1.3.7): issuers
    // such as Keycloak give 5-minute ID tokens, which would sign people out every 5 minutes.
    return { principal, until: this.wallNow() + this.options.sessionTtlMs };
  }
}

/** An error's code or name, never its text (which may quote a token). */
function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { code, error: oauthError, name } = error as Record<string, unknown>;
  return [oauthError, code, name].find((v): v is string => typeof v === 'string') ?? 'unknown';
}

/**
 * The sign-in the config asks for (`api.oidc.sign_in`), its client secret read
 * from where the config names it, or undefined without one. Throws SecretError
 * (naming the variable or file, never a value) when the secret is missing.
 */
export function oidcSignInOf(
  document: Pick<ConfigDocument, 'api' | 'public_url'>,
  sources?: SecretSources,
): OidcSignIn | undefined {
  const oidc = document.api?.oidc;
  const signIn = oidc?.sign_in;
  if (oidc === undefined || signIn === undefined || document.public_url === undefined)
    return undefined;
  return new OidcSignIn({
    oidc,
    clientId: signIn.client_id,
    ...(signIn.client_secret === undefined
      ? {}
      : {
          clientSecret: resolveSecret(
            signIn.client_secret,
            'api.oidc.sign_in.client_secret',
            sources,
          ),
        }),
    scopes: signIn.scopes,
    sessionTtlMs: signIn.session_ttl,
    ...(signIn.name === undefined ? {} : { name: signIn.name }),
    publicUrl: document.public_url,
  });
}

/**
 * The dashboard's sign-in with OpenID Connect, over HTTP (the protocol is in
 * oidc-sign-in.ts):
 *
 * - `GET /api/v1/session/methods` (open): how one may sign in here, for the page.
 * - `GET /api/v1/session/oidc?next=/path`: seals the flow (PKCE verifier, state,
 *   nonce, next) in its own cookie and sends the browser to the issuer.
 * - `GET /api/v1/session/oidc/callback`: the issuer sends the browser back here;
 *   the flow cookie is read and cleared, the code exchanged, the ID token checked,
 *   its claims mapped by the config's rules, and the same sealed session as a
 *   token sign-in opened (holding the caller, see session.ts).
 *
 * Cookies and SameSite: the callback is a cross-site navigation (from the issuer),
 * so the flow cookie is SameSite=Lax (sent on a top-level GET from elsewhere, not
 * on a cross-site POST or a subresource) and scoped to the callback's path. The
 * session cookie stays SameSite=Strict. Chromium does not send a Strict cookie
 * on a redirect made by the answer to a cross-site navigation (the chain stays
 * cross-site): with a plain 303, the landing request for `next` goes without the
 * session (measured: only the page's own later requests carry it). So the
 * callback answers a tiny page of this site that moves on by itself (meta
 * refresh, no script: the CSP allows none inline); that navigation starts here,
 * is same-site, and the landing request itself carries the session.
 *
 * Failures go back to the sign-in page as `/sign-in?oidc-error=TYPE` (a fixed
 * word, never text from the issuer), which says what happened and what to do.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from './context.js';
import type { OidcFlow, OidcSignIn } from './oidc-sign-in.js';
import {
  OIDC_CALLBACK_PATH,
  OIDC_FLOW_TTL_MS,
  OIDC_START_PATH,
  OidcSignInError,
} from './oidc-sign-in.js';
import { Problem } from './problems.js';
import type { WebSessions } from './session.js';
import { sessionCookieHeader } from './session.js';

export const OIDC_FLOW_COOKIE = 'lightsout_oidc';
export const METHODS_PATH = '/api/v1/session/methods';

/** What `GET /api/v1/session/methods` answers. */
export interface SignInMethods {
  readonly token: true;
  readonly oidc: { readonly name: string; readonly start: string } | null;
}

export function registerOidcSignIn(
  http: FastifyInstance,
  context: ApiContext,
  sessions: WebSessions,
  logError: (error: unknown) => void = () => undefined,
): void {
  const signIn = context.deps.oidcSignIn;

  http.get(METHODS_PATH, async (_request, reply): Promise<SignInMethods> => {
    void reply.header('cache-control', 'no-store');
    return {
      token: true,
      oidc: signIn === undefined ? null : { name: signIn.name, start: OIDC_START_PATH },
    };
  });

  http.get(OIDC_START_PATH, async (request, reply) => {
    const oidc = configured(signIn);
    const next = sameSitePath((request.query as Record<string, unknown> | undefined)?.next);
    void reply.header('cache-control', 'no-store');
    let started: { url: URL; flow: OidcFlow };
    try {
      started = await oidc.start(next);
    } catch (error) {
      if (!(error instanceof OidcSignInError)) throw error;
      logError(new Error(`OpenID Connect sign-in: ${error.message}`, { cause: error }));
      return failed(reply, error.failure, next);
    }
    const sealed = await sessions.seal({ oidc: started.flow }, Date.now() + OIDC_FLOW_TTL_MS);
    void reply.header('set-cookie', flowCookieHeader(request, sealed, OIDC_FLOW_TTL_MS));
    return reply.redirect(started.url.href, 303);
  });

  http.get(OIDC_CALLBACK_PATH, async (request, reply) => {
    const oidc = configured(signIn);
    void reply.header('cache-control', 'no-store');
    // The flow is used once: its cookie goes, whatever the outcome.
    void reply.header('set-cookie', flowCookieHeader(request, '', 0));
    const sealed = cookieOf(request, OIDC_FLOW_COOKIE);
    const flow = flowOf(sealed === undefined ? undefined : await sessions.unseal(sealed));
    if (flow === undefined) return failed(reply, 'expired-flow', '/');
    const query = new URL(request.url, 'http://callback.invalid').searchParams;
    let outcome: Awaited<ReturnType<OidcSignIn['finish']>>;
    try {
      outcome = await oidc.finish(query, flow);
    } catch (error) {
      if (!(error instanceof OidcSignInError)) throw error;
      if (error.failure === 'exchange-failed' || error.failure === 'issuer-unreachable')
        logError(new Error(`OpenID Connect sign-in: ${error.message}`, { cause: error }));
      return failed(reply, error.failure, flow.next);
    }
    const { cookie, session } = await sessions.openFor(outcome.principal, outcome.until);
    void reply.header('set-cookie', [
      flowCookieHeader(request, '', 0),
      sessionCookieHeader(request, cookie, session.expiresAt - Date.now()),
    ]);
    return reply.type('text/html; charset=utf-8').send(landingPage(flow.next));
  });
}

function configured(signIn: OidcSignIn | undefined): OidcSignIn {
  if (signIn === undefined)
    throw new Problem(
      404,
      'oidc-not-configured',
      'OpenID Connect sign-in is not configured',
      'this lightsout has no api.oidc.sign_in in its config; sign in with an API token',
    );
  return signIn;
}

/** Back to the sign-in page, which names the failure and what to do. */
function failed(reply: FastifyReply, failure: string, next: string): FastifyReply {
  const query = new URLSearchParams({ 'oidc-error': failure });
  if (next !== '/') query.set('next', next);
  return reply.redirect(`/sign-in?${query.toString()}`, 303);
}

/**
 * A path of this site to go to after sign-in, or `/`: never another host
 * (`//evil.example`, `/\evil.example`, `https://...`), never control characters.
 */
export function sameSitePath(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/';
  // Control characters (which browsers strip, turning `/\t/evil` into `//evil`) and backslashes.
  // eslint-disable-next-line no-control-regex
  if (!next.startsWith('/') || /^\/[/\\]/.test(next) || /[\u0000-\u001f\u007f\\]/.test(next))
    return '/';
  const base = 'http://here.invalid';
  const url = new URL(next, base);
  if (url.origin !== base || url.pathname === '/sign-in') return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments collapse once parsed: `/.//evil.example` becomes `//evil.example`,
  // another host again. Checked after the parse, on what would be sent.
  return path.startsWith('//') ? '/' : path;
}

/** The flow cookie: HttpOnly, SameSite=Lax, only sent to the callback, Secure over HTTPS. */
function flowCookieHeader(request: FastifyRequest, value: string, maxAgeMs: number): string {
  const secure =
    request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https'
      ? '; Secure'
      : '';
  return `${OIDC_FLOW_COOKIE}=${value}; Path=${OIDC_CALLBACK_PATH}; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure}`;
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** The flow a sealed cookie held, checked field by field. */
function flowOf(claims: Record<string, unknown> | undefined): OidcFlow | undefined {
  const flow: unknown = claims?.oidc;
  if (typeof flow !== 'object' || flow === null) return undefined;
  const { verifier, state, nonce, next } = flow as Record<string, unknown>;
  if (
    typeof verifier !== 'string' ||
    typeof state !== 'string' ||
    typeof nonce !== 'string' ||
    typeof next !== 'string'
  )
    return undefined;
  return { verifier, state, nonce, next: sameSitePath(next) };
}

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A page of this site that moves on to `next` by itself (see the top of this file for why). */
function landingPage(next: string): string {
  const href = escape(next);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url=${href}">
<title>Signed in · lightsout</title>
</head>
<body>
<main>
<h1>Signed in</h1>
<p><a href="${href}">Continue to lightsout</a></p>
</main>
</body>
</html>
`;
}

/** The OpenAPI description of these routes (merged into /openapi.json by openapi.ts). */
export function signInPaths(): Record<string, Record<string, unknown>> {
  const redirect = (description: string) => ({ '303': { description } });
  return {
    [METHODS_PATH]: {
      get: {
        summary:
          'How one may sign in to the dashboard: always a token; OpenID Connect if configured',
        description: 'Open to all. Answers { token: true, oidc: { name, start } | null }.',
        security: [],
        responses: { '200': { description: 'The sign-in methods' } },
      },
    },
    [OIDC_START_PATH]: {
      get: {
        summary: 'Sign in with OpenID Connect: to the issuer (authorization code with PKCE)',
        description:
          'Open to all. Sets a short-lived flow cookie and redirects to the issuer; `next` is the path to land on afterwards (this site only). 404 oidc-not-configured without api.oidc.sign_in.',
        security: [],
        parameters: [{ name: 'next', in: 'query', required: false, schema: { type: 'string' } }],
        responses: redirect('To the issuer, or back to /sign-in?oidc-error=TYPE'),
      },
    },
    [OIDC_CALLBACK_PATH]: {
      get: {
        summary: 'Where the issuer sends the browser back: opens the session',
        description:
          'Open to all; needs the flow cookie. Answers a page that moves on to `next` (200, Set-Cookie holds the session), or redirects to /sign-in?oidc-error=TYPE.',
        security: [],
        responses: {
          '200': { description: 'Signed in; Set-Cookie holds the session' },
          ...redirect('Back to /sign-in?oidc-error=TYPE'),
        },
      },
    },
  };
}

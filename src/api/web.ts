/**
 * The dashboard: its sign-in and sign-out (`/api/v1/session`, see session.ts) and
 * its files, built by Vite into dist/web. Hashed files under /assets/ are cached
 * for a year; the page itself (index.html, answered at every client route) is
 * revalidated each time, so a new version shows at the next load.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { principalOfHash } from './auth.js';
import { sessionBody } from './bodies.js';
import type { ApiContext } from './context.js';
import { parse } from './context.js';
import { Problem } from './problems.js';
import type { WebSessions } from './session.js';
import { SESSION_TTL_MS, sessionCookieHeader, sessionCookieOf } from './session.js';
import { hashToken, TOKEN_PREFIX } from './tokens.js';

/** src/api and dist/api both sit two levels below the package: the build is dist/web. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Paths the page routes itself: each answers index.html. */
export const CLIENT_ROUTES = [
  '/',
  '/sign-in',
  '/environments/:name',
  '/runs/:id',
  '/events',
  '/savings',
];

export function registerSessions(
  http: FastifyInstance,
  context: ApiContext,
  sessions: WebSessions,
): void {
  const { store } = context.deps;
  const describe = (
    principal: { name: string; role: string; team: string | null },
    csrf: string,
    expiresAt: number,
  ) => ({
    name: principal.name,
    role: principal.role,
    team: principal.team,
    csrfToken: csrf,
    expiresAt: new Date(expiresAt).toISOString(),
  });

  http.post('/api/v1/session', async (request, reply) => {
    const body = parse(sessionBody, request.body);
    let hash: string | undefined;
    if (body.code !== undefined) {
      hash = sessions.redeem(body.code);
      if (hash === undefined)
        throw new Problem(
          401,
          'invalid-code',
          'Invalid sign-in code',
          'this sign-in link was used already, or is old; sign in with a token, or restart the demo for a new link',
          'code',
        );
    } else {
      const token = body.token ?? '';
      if (!token.startsWith(TOKEN_PREFIX))
        throw new Problem(
          401,
          'invalid-token',
          'Invalid token',
          `a lightsout API token starts with ${TOKEN_PREFIX} (create one with lightsout token create)`,
          'token',
        );
      hash = hashToken(token);
    }
    const principal = await principalOfHash(store, hash, context.deps.now());
    const { cookie, session } = await sessions.open(hash);
    void reply.header('set-cookie', sessionCookieHeader(request, cookie, SESSION_TTL_MS));
    void reply.header('cache-control', 'no-store');
    return describe(principal, session.csrf, session.expiresAt);
  });

  http.get('/api/v1/session', async (request, reply) => {
    const cookie = sessionCookieOf(request);
    const session = cookie === undefined ? undefined : await sessions.read(cookie);
    if (session === undefined)
      throw new Problem(401, 'unauthenticated', 'Unauthenticated', 'not signed in; sign in first');
    const principal =
      session.principal ?? (await principalOfHash(store, session.tokenHash, context.deps.now()));
    void reply.header('cache-control', 'no-store');
    return describe(principal, session.csrf, session.expiresAt);
  });

  // Signing out is a change: the cookie's CSRF token is checked like any other.
  http.delete('/api/v1/session', async (request, reply) => {
    await context.caller(request);
    void reply.header('set-cookie', sessionCookieHeader(request, '', 0));
    return reply.code(204).send();
  });
}

/** The built dashboard, if there is one (a source checkout before `npm run build` has none). */
export async function registerWebFiles(
  http: FastifyInstance,
  root: string = WEB_ROOT,
): Promise<boolean> {
  if (!existsSync(`${root}/index.html`)) return false;
  await http.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    // Our own cache-control below, not @fastify/static's max-age=0.
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  for (const route of CLIENT_ROUTES)
    http.get(route, (_request, reply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false }),
    );
  return true;
}

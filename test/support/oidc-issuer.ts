/**
 * A real OpenID provider in this process: panva's oidc-provider (v8: v9 supports
 * Node 22 and later only, and lightsout runs on 20) on a random
 * loopback port, with one confidential client (lightsout's dashboard) and its
 * development login form (any login, any password: the login is the subject).
 * Each user's claims come from USERS; an unknown login gets an email and no groups.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'lightsout-dashboard';
export const CLIENT_SECRET = 'test-client-secret-not-a-real-one';

/** Who may sign in, and the claims the issuer gives them (released with scope profile). */
export const USERS: Readonly<Record<string, { readonly groups: readonly string[] }>> = {
  ada: { groups: ['platform'] },
  pay: { groups: ['payments-devs'] },
  eve: { groups: ['marketing'] },
};

export interface Issuer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the issuer on 127.0.0.1 (0: any port); `redirectUri` is the client's one registered callback. */
export async function startIssuer(port: number, redirectUri: string): Promise<Issuer> {
  const server: Server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  // Named localhost, while lightsout is 127.0.0.1: another site, as a real issuer is, so the
  // way back from the issuer is a cross-site navigation (SameSite rules apply as in life).
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // Every authorization request must carry a PKCE challenge.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    // Claims in the ID token itself (lightsout reads them there, not at userinfo).
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({
        sub,
        email: `${sub}@example.com`,
        email_verified: true,
        name: sub,
        groups: [...(USERS[sub]?.groups ?? [])],
      }),
    }),
    cookies: { keys: ['a-test-key-for-the-issuer-cookies'] },
    // An hour for the ID token (lightsout's session ends with it).
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600 },
  });
  // Quiet: the development keys and interactions warn on every start.
  provider.on('server_error', () => undefined);
  const handle = provider.callback();
  server.on('request', (request, response) => {
    void handle(request, response);
  });
  return {
    url,
    stop: async () => {
      const closed = once(server, 'close');
      server.closeAllConnections();
      server.close();
      await closed;
    },
  };
}

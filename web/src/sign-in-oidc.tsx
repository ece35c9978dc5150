/**
 * Sign-in with OpenID Connect on the sign-in page: a "Sign in with NAME" link when
 * the service has one (GET /api/v1/session/methods says), and what went wrong when
 * the issuer's round trip came back as `/sign-in?oidc-error=TYPE` (a fixed word
 * from the server, never text from the issuer; the message is chosen here).
 */
import { useEffect, useState } from 'preact/hooks';
import { call } from './api';
import './sign-in-oidc.css';

interface Methods {
  readonly token: true;
  readonly oidc: { readonly name: string; readonly start: string } | null;
}

type Loaded =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly methods: Methods };

/** What each failure means for the person, and what to do next. */
const FAILURES: Readonly<Record<string, (issuer: string) => string>> = {
  'issuer-unreachable': (i) =>
    `${i} did not answer. Try again in a minute; if it goes on, ask your lightsout administrator to check the issuer (api.oidc.issuer).`,
  'access-denied': (i) =>
    `${i} did not let you in, or the sign-in was cancelled there. Sign in again, or ask your administrator for access.`,
  'issuer-error': (i) =>
    `${i} refused the sign-in. Try again; if it goes on, ask your lightsout administrator to check the client's settings (the server log says more).`,
  'expired-flow': () =>
    'The sign-in took more than 10 minutes, or was started in another browser or tab that has since signed in. Sign in again.',
  'state-mismatch': () =>
    'The answer that came back does not belong to the sign-in this browser started, so it was refused. Sign in again from this page.',
  'exchange-failed': (i) =>
    `lightsout could not confirm your sign-in with ${i}. Try again; if it goes on, ask your lightsout administrator (the server log says why).`,
  'no-role': () =>
    'You signed in, but no rule of this lightsout gives you a role. Ask your lightsout administrator to add a rule for you (api.oidc.rules), then sign in again.',
};

/** The page asked for before sign-in, on this site only (as app.tsx reads it). */
function nextOf(search: string): string {
  const next = new URLSearchParams(search).get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SingleSignOn() {
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  const failure = new URLSearchParams(location.search).get('oidc-error');

  const load = () => {
    setLoaded({ kind: 'loading' });
    call<Methods>('GET', '/api/v1/session/methods').then(
      (methods) => {
        setLoaded({ kind: 'ready', methods });
      },
      (error: unknown) => {
        setLoaded({
          kind: 'error',
          message: error instanceof Error ? error.message : String(error),
        });
      },
    );
  };
  useEffect(load, []);

  const issuer =
    loaded.kind === 'ready' ? (loaded.methods.oidc?.name ?? 'The issuer') : 'The issuer';
  const explain = failure === null ? undefined : FAILURES[failure];
  return (
    <div class="sso">
      {failure === null ? null : (
        <p class="error" role="alert" data-oidc-error={failure}>
          Sign-in failed:{' '}
          {explain === undefined ? 'the sign-in did not finish. Sign in again.' : explain(issuer)}
        </p>
      )}
      {loaded.kind === 'loading' ? (
        <p class="hint" aria-busy="true">
          Looking for single sign-on…
        </p>
      ) : loaded.kind === 'error' ? (
        <p class="hint">
          Could not ask lightsout how to sign in ({loaded.message}).{' '}
          <button type="button" class="link" onClick={load}>
            Retry
          </button>{' '}
          or use an API token below.
        </p>
      ) : loaded.methods.oidc === null ? null : (
        <>
          <a
            class="sso-button"
            href={`${loaded.methods.oidc.start}?${new URLSearchParams({ next: nextOf(location.search) })}`}
          >
            Sign in with {loaded.methods.oidc.name}
          </a>
          <p class="sso-or">or with an API token</p>
        </>
      )}
    </div>
  );
}

/**
 * The dashboard's shell: who is signed in, and which page shows. Routes are the
 * path (history API); the server answers index.html at each of them.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Me } from './api';
import { ApiError, currentSession, signOut } from './api';
import { Overview } from './overview';
import { SignIn } from './sign-in';

type Shell =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'signed-in'; readonly me: Me };

function go(path: string): void {
  history.replaceState(null, '', path);
}

export function App() {
  const [shell, setShell] = useState<Shell>({ kind: 'loading' });
  const [notice, setNotice] = useState<string | undefined>();

  const load = () => {
    setShell({ kind: 'loading' });
    currentSession().then(
      (me) => {
        if (me === undefined) {
          // On /sign-in already, the URL keeps its fragment (the demo link's code).
          if (location.pathname !== '/sign-in') go('/sign-in');
          setShell({ kind: 'signed-out' });
        } else {
          if (location.pathname === '/sign-in') go('/');
          setShell({ kind: 'signed-in', me });
        }
      },
      (error: unknown) => {
        setShell({
          kind: 'error',
          message: error instanceof Error ? error.message : String(error),
        });
      },
    );
  };
  useEffect(load, []);

  if (shell.kind === 'loading')
    return (
      <main class="page" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (shell.kind === 'error')
    return (
      <main class="page">
        <h1>lightsout</h1>
        <div class="error" role="alert">
          <p>Could not reach lightsout: {shell.message}</p>
          <button type="button" onClick={load}>
            Retry
          </button>
        </div>
      </main>
    );
  if (shell.kind === 'signed-out')
    return (
      <SignIn
        notice={notice}
        onSignedIn={(me) => {
          setNotice(undefined);
          go('/');
          setShell({ kind: 'signed-in', me });
        }}
      />
    );
  const { me } = shell;
  const out = () => {
    signOut().then(
      () => {
        setNotice('You are signed out.');
        go('/sign-in');
        setShell({ kind: 'signed-out' });
      },
      (error: unknown) => {
        // A session already over is signed out all the same.
        if (error instanceof ApiError && error.status === 401) {
          go('/sign-in');
          setShell({ kind: 'signed-out' });
        } else setNotice(error instanceof Error ? error.message : String(error));
      },
    );
  };
  return (
    <>
      <header class="bar">
        <a class="brand" href="/">
          lightsout
        </a>
        <span class="who">
          {me.name} · {me.role}
          {me.team === null ? '' : ` · team ${me.team}`}
        </span>
        <button type="button" onClick={out}>
          Sign out
        </button>
      </header>
      {notice === undefined ? null : (
        <p class="error" role="alert">
          {notice}
        </p>
      )}
      <Overview />
    </>
  );
}

/**
 * The dashboard's shell: who is signed in, and which page shows. Routes are the
 * path (preact-iso's router on the history API); the server answers index.html
 * at each of them (CLIENT_ROUTES in src/api/web.ts). Pages other than the
 * overview load on first visit, so the overview ships the least JavaScript.
 */
import { useEffect, useState } from 'preact/hooks';
import { ErrorBoundary, lazy, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import type { Me } from './api';
import { ApiError, currentSession, signOut } from './api';
import { MeContext } from './me';
import { Overview } from './overview';
import { SignIn } from './sign-in';

const Environment = lazy(() => import('./environment'));
const Run = lazy(() => import('./run'));
const Events = lazy(() => import('./events'));
const Savings = lazy(() => import('./savings'));

/** The pages a signed-in user moves between, in the header's order. */
const SECTIONS = [
  { path: '/', label: 'Environments' },
  { path: '/events', label: 'Events' },
  { path: '/savings', label: 'Savings' },
] as const;

type Shell =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'signed-in'; readonly me: Me };

function go(path: string): void {
  history.replaceState(null, '', path);
}

/** Where to go once signed in: the page asked for before sign-in, on this site only. */
function afterSignIn(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
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
          if (location.pathname !== '/sign-in') {
            const asked = location.pathname + location.search;
            go(asked === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(asked)}`);
          }
          setShell({ kind: 'signed-out' });
        } else {
          if (location.pathname === '/sign-in') go(afterSignIn());
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
          go(afterSignIn());
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
    <MeContext.Provider value={me}>
      <LocationProvider>
        <header class="bar">
          <a class="brand" href="/">
            lightsout
          </a>
          <Navigation />
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
        <ErrorBoundary>
          <Router>
            <Route path="/" component={Overview} />
            <Route path="/environments/:name" component={Environment} />
            <Route path="/runs/:id" component={Run} />
            <Route path="/events" component={Events} />
            <Route path="/savings" component={Savings} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </LocationProvider>
    </MeContext.Provider>
  );
}

function Navigation() {
  const { path } = useLocation();
  const current = (section: string) =>
    section === '/' ? path === '/' || path.startsWith('/environments/') : path.startsWith(section);
  return (
    <nav aria-label="Sections">
      {SECTIONS.map((s) => (
        <a key={s.path} href={s.path} aria-current={current(s.path) ? 'page' : undefined}>
          {s.label}
        </a>
      ))}
    </nav>
  );
}

function NotFound() {
  return (
    <main class="page">
      <h1>Not found</h1>
      <p>
        There is no page here. <a href="/">See the environments</a>.
      </p>
    </main>
  );
}

/**
 * Sign-in with an API token, with OpenID Connect when configured (sign-in-oidc.tsx), or with the one-time code of the demo's link (in the
 * URL's fragment, which the browser never sends; it is wiped from the address
 * bar and history at once).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Me } from './api';
import { signIn } from './api';
import { SingleSignOn } from './sign-in-oidc';

export function SignIn({
  notice,
  onSignedIn,
}: {
  notice: string | undefined;
  onSignedIn: (me: Me) => void;
}) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const attempt = (credentials: { token: string } | { code: string }) => {
    setBusy(true);
    setError(undefined);
    signIn(credentials).then(onSignedIn, (e: unknown) => {
      setBusy(false);
      setError(e instanceof Error ? e.message : String(e));
    });
  };

  useEffect(() => {
    const code = new URLSearchParams(location.hash.slice(1)).get('code');
    if (code !== null) {
      history.replaceState(null, '', '/sign-in');
      attempt({ code });
    }
  }, []);

  return (
    <main class="page narrow">
      <h1>Sign in to lightsout</h1>
      {notice === undefined ? null : <p role="status">{notice}</p>}
      <SingleSignOn />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          attempt({ token: token.trim() });
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => {
            setToken(e.currentTarget.value);
          }}
        />
        <p class="hint" id="token-hint">
          A token from <code>lightsout token create</code>. It opens a session in this browser and
          is not kept here.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error === undefined ? null : (
        <p class="error" role="alert">
          Sign-in failed: {error}
        </p>
      )}
    </main>
  );
}

import { useState } from 'preact/hooks';
import { navigate } from '../router.js';
import { signIn } from '../session.js';

/** The sign-in a server that requires keys asks for: the key goes to the server, which keeps it in an HttpOnly cookie. */
export function SignInPage() {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(key.trim());
      // From the sign-in page itself, go where the link that led here said (a path of this UI), else to the runs.
      if (window.location.pathname === '/sign-in') {
        const next = new URLSearchParams(window.location.search).get('next') ?? '/';
        navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/');
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Sign in</h1>
      <p>Sign in with an API key (`fluxops keys create NAME --role viewer` makes one); it is kept in a cookie that scripts cannot read, for 12 hours.</p>
      <form class="toolbar" onSubmit={(e) => void submit(e)}>
        <label>
          API key
          <input type="password" name="key" autoComplete="off" required value={key} onInput={(e) => setKey((e.currentTarget).value)} />
        </label>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="error" role="alert">
        {error ?? ''}
      </p>
    </section>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { api, v1 } from '../api.js';
import { onLink } from '../router.js';
import { lacks, useSession } from '../session.js';

interface KeyInfo {
  keyId: string;
  name: string;
  role: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

interface AuditEntry {
  seq?: number;
  time: number;
  keyName: string | null;
  role: string;
  method: string;
  route: string;
  target: string;
  status: number;
}

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toLocaleString());

/** Keys and roles, and the audit log of state-changing calls (admin keys only, as in the API). */
export function AdminPage() {
  const { session } = useSession();
  const why = lacks(session, 'admin', 'see the keys and the audit log');
  const [keys, setKeys] = useState<KeyInfo[] | null>(null);
  const [audit, setAudit] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (why !== null) return;
    const ctl = new AbortController();
    Promise.all([api<{ keys: KeyInfo[] }>(v1('/keys'), { signal: ctl.signal }), api<{ entries: AuditEntry[] }>(v1(`/audit?since=${Date.now() - 7 * 86_400_000}&limit=10000`), { signal: ctl.signal })])
      .then(([k, a]) => {
        setKeys(k.keys);
        setAudit([...a.entries].reverse().slice(0, 200));
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [why]);
  if (why !== null) {
    return (
      <section>
        <h1>Admin</h1>
        <p>{why}</p>
        <p>
          <a href="/sign-in?next=/admin" onClick={onLink}>
            Sign in with an admin key
          </a>
          .
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>Admin</h1>
      {error !== null ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : keys === null || audit === null ? (
        <p class="muted">Loading the keys and the audit log…</p>
      ) : (
        <>
          <h2>API keys</h2>
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              {keys.length} key{keys.length === 1 ? '' : 's'} (their secrets are never shown again); create and revoke them with `fluxops keys`
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.keyId} data-key={k.name}>
                  <th scope="row">{k.name}</th>
                  <td>{k.role}</td>
                  <td>{k.scopes.join(', ') || 'all'}</td>
                  <td>{when(k.createdAt)}</td>
                  <td>{when(k.lastUsedAt)}</td>
                  <td>{k.revokedAt !== null ? `revoked ${when(k.revokedAt)}` : k.expiresAt !== null && k.expiresAt < Date.now() ? 'expired' : k.expiresAt !== null ? `expires ${when(k.expiresAt)}` : 'active'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Audit log</h2>
          {audit.length === 0 ? (
            <p class="muted">No state-changing call in the last 7 days.</p>
          ) : (
            <table>
              <caption class="muted" style={{ textAlign: 'left' }}>
                The last {audit.length} state-changing calls of the past 7 days, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Key</th>
                  <th scope="col">Call</th>
                  <th scope="col">Target</th>
                  <th scope="col" class="num">
                    Status
                  </th>
                </tr>
              </thead>
              <tbody>
                {audit.map((a, i) => (
                  <tr key={a.seq ?? i}>
                    <td>{when(a.time)}</td>
                    <td>{a.keyName === null ? 'anonymous' : `${a.keyName} (${a.role})`}</td>
                    <td>
                      <code>
                        {a.method} {a.route}
                      </code>
                    </td>
                    <td>{a.target}</td>
                    <td class="num">{a.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

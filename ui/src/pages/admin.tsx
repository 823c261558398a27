import { api, v1 } from '../api.js';
import { formatDuration, formatTime, plural } from '../format.js';
import { Pending, Status } from '../pending.js';
import { onLink, navigate, urlOf } from '../router.js';
import { lacks, useSession } from '../session.js';
import { useAction, useApi } from '../use-api.js';

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

interface Webhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  filter: { model: string | null; endpoint: string | null };
  format: string;
  enabled: boolean;
  createdAt: number;
}

interface Delivery {
  id: string;
  eventSeq: number | null;
  eventType: string;
  state: string;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  history: Array<{ attempt: number; at: number; status: number | null; error: string | null; durationMs: number }>;
  createdAt: number;
  finishedAt: number | null;
}

function Keys() {
  const keys = useApi<{ keys: KeyInfo[] }>(v1('/keys'));
  return (
    <Pending of={keys} what="the keys">
      {(k) => (
        <table>
          <caption class="muted" style={{ textAlign: 'left' }}>
            {plural(k.keys.length, 'key')} (their secrets are never shown again); create and revoke them with `fluxops keys`
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
            {k.keys.map((key) => (
              <tr key={key.keyId} data-key={key.name}>
                <th scope="row">{key.name}</th>
                <td>{key.role}</td>
                <td>{key.scopes.join(', ') || 'all'}</td>
                <td>{formatTime(key.createdAt)}</td>
                <td>{formatTime(key.lastUsedAt)}</td>
                <td>{key.revokedAt !== null ? `revoked ${formatTime(key.revokedAt)}` : key.expiresAt !== null && key.expiresAt < Date.now() ? 'expired' : key.expiresAt !== null ? `expires ${formatTime(key.expiresAt)}` : 'active'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Pending>
  );
}

function Audit() {
  const audit = useApi<{ entries: AuditEntry[] }>(v1(`/audit?since=${Date.now() - 7 * 86_400_000}&limit=10000`));
  return (
    <Pending of={audit} what="the audit log" empty={(a) => (a.entries.length === 0 ? 'No state-changing call in the last 7 days.' : null)}>
      {(a) => {
        const newest = [...a.entries].reverse().slice(0, 200);
        return (
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              The last {newest.length} state-changing calls of the past 7 days, newest first
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
              {newest.map((e, i) => (
                <tr key={e.seq ?? i}>
                  <td>{formatTime(e.time)}</td>
                  <td>{e.keyName === null ? 'anonymous' : `${e.keyName} (${e.role})`}</td>
                  <td>
                    <code>
                      {e.method} {e.route}
                    </code>
                  </td>
                  <td>{e.target}</td>
                  <td class="num">{e.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    </Pending>
  );
}

/** One webhook's deliveries, newest first, with every attempt; "Send a test" posts a signed webhook.test now. */
function Deliveries({ hook }: { hook: Webhook }) {
  const deliveries = useApi<{ deliveries: Delivery[] }>(v1(`/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=50`), { pollMs: 3000 });
  const action = useAction();
  const test = () =>
    void action.run(async () => {
      const d = await api<Delivery>(v1(`/webhooks/${encodeURIComponent(hook.id)}/test`), { method: 'POST' });
      deliveries.reload();
      return d.state === 'succeeded' ? `The test delivery succeeded (HTTP ${d.lastStatus ?? ''}).` : `The test delivery ${d.state}: ${d.lastError ?? (d.lastStatus !== null ? `HTTP ${d.lastStatus}` : 'no answer')}.`;
    });
  return (
    <section aria-label={`Deliveries of ${hook.name}`}>
      <h3>Deliveries of {hook.name}</h3>
      <div class="toolbar">
        <button type="button" onClick={test} disabled={action.busy}>
          {action.busy ? 'Sending…' : 'Send a test delivery'}
        </button>
      </div>
      <Status said={action.said} />
      <Pending of={deliveries} what="the deliveries" empty={(d) => (d.deliveries.length === 0 ? 'Nothing has been delivered to this webhook yet.' : null)}>
        {(d) => (
          <table>
            <caption class="muted" style={{ textAlign: 'left' }}>
              The newest {plural(d.deliveries.length, 'delivery', 'deliveries')}
            </caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Last answer</th>
                <th scope="col">Next attempt</th>
              </tr>
            </thead>
            <tbody>
              {d.deliveries.map((x) => (
                <tr key={x.id} data-delivery={x.id} data-state={x.state}>
                  <td>{formatTime(x.createdAt)}</td>
                  <td>
                    {x.eventType}
                    {x.eventSeq !== null ? ` #${x.eventSeq}` : ''}
                  </td>
                  <td>{x.state}</td>
                  <td class="num">
                    {x.attempts}/{x.maxAttempts}
                  </td>
                  <td>
                    {x.lastStatus !== null ? `HTTP ${x.lastStatus}` : (x.lastError ?? '—')}
                    {x.history.length > 0 ? ` in ${formatDuration(x.history[x.history.length - 1]!.durationMs)}` : ''}
                  </td>
                  <td>{x.state === 'pending' ? formatTime(x.nextAttemptAt) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Pending>
    </section>
  );
}

function Webhooks({ query }: { query: URLSearchParams }) {
  const hooks = useApi<{ webhooks: Webhook[] }>(v1('/webhooks'));
  const chosen = query.get('webhook');
  return (
    <Pending of={hooks} what="the webhooks" empty={(h) => (h.webhooks.length === 0 ? 'No webhook is subscribed: add one with `fluxops webhooks create NAME --url URL --events "model.*"`.' : null)}>
      {(h) => {
        const hook = h.webhooks.find((w) => w.id === chosen || w.name === chosen);
        return (
          <>
            <table>
              <caption class="muted" style={{ textAlign: 'left' }}>
                {plural(h.webhooks.length, 'webhook')}; choose one to see its deliveries
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Only about</th>
                  <th scope="col">Format</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {h.webhooks.map((w) => (
                  <tr key={w.id} data-webhook={w.name} aria-selected={w === hook ? 'true' : undefined}>
                    <th scope="row">
                      <a href={urlOf('/admin', { webhook: w.name })} onClick={(e) => { e.preventDefault(); navigate(urlOf('/admin', { webhook: w.name }), true); }}>
                        {w.name}
                      </a>
                    </th>
                    <td>
                      <code>{w.url}</code>
                    </td>
                    <td>{w.events.join(', ')}</td>
                    <td>{[w.filter.model !== null ? `model ${w.filter.model}` : '', w.filter.endpoint !== null ? `endpoint ${w.filter.endpoint}` : ''].filter((x) => x !== '').join(', ') || 'anything'}</td>
                    <td>{w.format}</td>
                    <td>{w.enabled ? 'enabled' : 'disabled'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {hook !== undefined ? <Deliveries key={hook.id} hook={hook} /> : chosen !== null ? <p class="error">There is no webhook {chosen}.</p> : null}
          </>
        );
      }}
    </Pending>
  );
}

/** Keys and roles, the audit log of state-changing calls, webhooks and their deliveries (admin keys only, as in the API). */
export function AdminPage({ query }: { query: URLSearchParams }) {
  const { session } = useSession();
  const why = lacks(session, 'admin', 'see the keys, the audit log and the webhooks');
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
      <h2>API keys</h2>
      <Keys />
      <h2>Audit log</h2>
      <Audit />
      <h2>Webhooks</h2>
      <Webhooks query={query} />
    </section>
  );
}

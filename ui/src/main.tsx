import { render } from 'preact';
import { RunPage } from './pages/run.js';
import { RunsPage } from './pages/runs.js';
import { onLink, usePlace } from './router.js';
import { SignInPage } from './pages/sign-in.js';
import { signOut, useSession } from './session.js';
import './style.css';
import { lazyPage } from './lazy.js';

// Pages other than the runs are their own chunks, loaded on first use.
const AdminPage = lazyPage(() => import('./pages/admin.js').then((m) => m.AdminPage));
const ComparePage = lazyPage(() => import('./pages/compare.js').then((m) => m.ComparePage));
const EndpointPage = lazyPage(() => import('./pages/endpoints.js').then((m) => m.EndpointPage));
const EndpointsPage = lazyPage(() => import('./pages/endpoints.js').then((m) => m.EndpointsPage));
const ModelPage = lazyPage(() => import('./pages/model.js').then((m) => m.ModelPage));
const VersionPage = lazyPage(() => import('./pages/model.js').then((m) => m.VersionPage));
const ModelsPage = lazyPage(() => import('./pages/models.js').then((m) => m.ModelsPage));
const MonitoringPage = lazyPage(() => import('./pages/monitoring.js').then((m) => m.MonitoringPage));
const MonitorPage = lazyPage(() => import('./pages/monitoring.js').then((m) => m.MonitorPage));
const PipelineRunPage = lazyPage(() => import('./pages/pipelines.js').then((m) => m.PipelineRunPage));
const PipelinesPage = lazyPage(() => import('./pages/pipelines.js').then((m) => m.PipelinesPage));
const SweepPage = lazyPage(() => import('./pages/sweeps.js').then((m) => m.SweepPage));
const SweepsPage = lazyPage(() => import('./pages/sweeps.js').then((m) => m.SweepsPage));

/** The header's sections: where each goes, its name, and the paths it is the current section for. */
const SECTIONS: ReadonlyArray<readonly [string, string, (path: string) => boolean]> = [
  ['/', 'Runs', (p) => p === '/' || p.startsWith('/runs') || p === '/compare'],
  ...(['models', 'endpoints', 'pipelines', 'sweeps', 'monitoring', 'admin'] as const).map((s) => [`/${s}`, s.charAt(0).toUpperCase() + s.slice(1), (p: string) => p.startsWith(`/${s}`)] as const),
];

function NotFound({ path }: { path: string }) {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href="/" onClick={onLink}>Go to the runs</a>.
      </p>
    </section>
  );
}

function Who() {
  const { session } = useSession();
  if (session === null) return null;
  if (session.key !== null) {
    return (
      <p class="who">
        Signed in as {session.key.name} ({session.key.role}){' '}
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    );
  }
  return (
    <p class="who muted">
      {session.auth === 'off' ? 'Auth is off on this server (loopback): no sign-in needed. ' : 'Not signed in. '}
      <a href="/sign-in" onClick={onLink}>
        Sign in with a key
      </a>
    </p>
  );
}

function App() {
  const place = usePlace();
  const { session, error } = useSession();
  const runMatch = /^\/runs\/([^/]+)$/.exec(place.path);
  let page;
  let m: RegExpExecArray | null;
  if (place.path === '/' || place.path === '/runs') page = <RunsPage query={place.query} />;
  else if (runMatch !== null) page = <RunPage runId={decodeURIComponent(runMatch[1]!)} />;
  else if (place.path === '/compare') page = <ComparePage query={place.query} />;
  else if (place.path === '/models') page = <ModelsPage />;
  else if (place.path === '/endpoints') page = <EndpointsPage />;
  else if (place.path === '/pipelines') page = <PipelinesPage query={place.query} />;
  else if (place.path === '/sweeps') page = <SweepsPage />;
  else if (place.path === '/monitoring') page = <MonitoringPage />;
  else if (place.path === '/admin') page = <AdminPage query={place.query} />;
  else if (place.path === '/sign-in') page = <SignInPage />;
  else if ((m = /^\/endpoints\/([^/]+)$/.exec(place.path)) !== null) page = <EndpointPage name={decodeURIComponent(m[1]!)} />;
  else if ((m = /^\/pipelines\/runs\/([^/]+)$/.exec(place.path)) !== null) page = <PipelineRunPage id={decodeURIComponent(m[1]!)} query={place.query} />;
  else if ((m = /^\/sweeps\/([^/]+)$/.exec(place.path)) !== null) page = <SweepPage id={decodeURIComponent(m[1]!)} query={place.query} />;
  else if ((m = /^\/monitoring\/([^/]+)$/.exec(place.path)) !== null) page = <MonitorPage name={decodeURIComponent(m[1]!)} query={place.query} />;
  else if ((m = /^\/models\/([^/]+)$/.exec(place.path)) !== null) page = <ModelPage name={decodeURIComponent(m[1]!)} />;
  else if ((m = /^\/models\/([^/]+)\/versions\/([^/]+)$/.exec(place.path)) !== null) page = <VersionPage name={decodeURIComponent(m[1]!)} version={decodeURIComponent(m[2]!)} />;
  else page = <NotFound path={place.path} />;
  if (error !== null && session === null) {
    page = (
      <p class="error" role="alert">
        {error}
      </p>
    );
  } else if (session === null) page = <p class="muted">Loading…</p>;
  else if (session.auth === 'required' && !session.signedIn) page = <SignInPage />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <a class="brand" href="/" onClick={onLink}>
          FluxOps
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map(([href, label, here]) => (
            <a key={href} href={href} onClick={onLink} aria-current={here(place.path) ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <Who />
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

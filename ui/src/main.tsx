import { render } from 'preact';
import { ModelPage, VersionPage } from './pages/model.js';
import { ModelsPage } from './pages/models.js';
import { RunPage } from './pages/run.js';
import { RunsPage } from './pages/runs.js';
import { onLink, usePlace } from './router.js';
import './style.css';

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

function App() {
  const place = usePlace();
  const runMatch = /^\/runs\/([^/]+)$/.exec(place.path);
  let page;
  let m: RegExpExecArray | null;
  if (place.path === '/' || place.path === '/runs') page = <RunsPage query={place.query} />;
  else if (runMatch !== null) page = <RunPage runId={decodeURIComponent(runMatch[1]!)} />;
  else if (place.path === '/models') page = <ModelsPage />;
  else if ((m = /^\/models\/([^/]+)$/.exec(place.path)) !== null) page = <ModelPage name={decodeURIComponent(m[1]!)} />;
  else if ((m = /^\/models\/([^/]+)\/versions\/([^/]+)$/.exec(place.path)) !== null) page = <VersionPage name={decodeURIComponent(m[1]!)} version={decodeURIComponent(m[2]!)} />;
  else page = <NotFound path={place.path} />;
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
          <a href="/" onClick={onLink} aria-current={place.path === '/' || place.path.startsWith('/runs') ? 'page' : undefined}>
            Runs
          </a>
          <a href="/models" onClick={onLink} aria-current={place.path.startsWith('/models') ? 'page' : undefined}>
            Models
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

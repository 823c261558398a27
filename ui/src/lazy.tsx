import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A page loaded on first use (its own chunk), so the entry bundle holds only the shell and the
 * runs pages; `load` imports the module and picks its page.
 */
export function lazyPage<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | null = null;
  let failed: string | null = null;
  return function LazyPage(props: P) {
    const [, tick] = useState(0);
    useEffect(() => {
      if (loaded !== null || failed !== null) return;
      load()
        .then((c) => (loaded = c))
        .catch((e: Error) => (failed = `This page could not be loaded (${e.message}). Reload to try again.`))
        .finally(() => tick((n) => n + 1));
    }, []);
    if (failed !== null) {
      return (
        <p class="error" role="alert">
          {failed}
        </p>
      );
    }
    if (loaded === null) return <p class="muted">Loading the page…</p>;
    const Page = loaded;
    return <Page {...props} />;
  };
}

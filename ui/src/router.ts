import { useEffect, useState } from 'preact/hooks';

/** Where the UI is: the path and the query string, which holds every filter and selection (shareable URLs). */
export interface Place {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function here(): Place {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

/** Goes to a URL of the UI without reloading; `replace` keeps the history entry (typing in a filter box). */
export function navigate(url: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

window.addEventListener('popstate', () => {
  for (const l of listeners) l();
});

export function usePlace(): Place {
  const [place, setPlace] = useState(here);
  useEffect(() => {
    const l = (): void => setPlace(here());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return place;
}

/** A path with query parameters; empty values are left out. */
export function urlOf(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** Follows a same-origin link without reloading (a modified click opens it the browser's way). */
export function onLink(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (a === null || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
}

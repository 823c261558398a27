import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

/** What a read of the API has come to: loading (data and error null), the data, or the server's sentence. */
export interface Loaded<T> {
  data: T | null;
  error: string | null;
  /** Reads again now (after a change the page made). */
  reload: () => void;
  /** Puts an answer the page already has (a write's answer) in place of the data. */
  set: (data: T) => void;
}

/**
 * Reads `path` (null: nothing to read yet) whenever it changes, aborting a read that is no longer
 * wanted; with `pollMs`, reads it again on that interval while `poll` holds (a run still going).
 * A failed poll keeps the last data and shows the error beside it.
 */
export function useApi<T>(path: string | null, opts: { pollMs?: number; poll?: (data: T) => boolean } = {}): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const pollRef = useRef(opts.poll);
  pollRef.current = opts.poll;
  useEffect(() => {
    if (path === null) return undefined;
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = (): void => {
      api<T>(path, { signal: ctl.signal })
        .then((d) => {
          setData(d);
          setError(null);
          if (opts.pollMs !== undefined && (pollRef.current?.(d) ?? true)) timer = setTimeout(read, opts.pollMs);
        })
        .catch((e: Error) => {
          if (e.name === 'AbortError') return;
          setError(e.message);
          if (opts.pollMs !== undefined) timer = setTimeout(read, opts.pollMs * 2);
        });
    };
    read();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [path, nonce, opts.pollMs]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, reload, set: setData };
}

/** What the last action said: done (with what changed) or refused (with the server's sentence). */
export interface Said {
  ok: boolean;
  text: string;
}

/**
 * A button's action: `run` marks it busy, awaits the call and keeps its sentence (the answer's
 * description, or the refusal), so every control reports the same way.
 */
export function useAction(): { busy: boolean; said: Said | null; run: (call: () => Promise<string>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<Said | null>(null);
  const run = useCallback(async (call: () => Promise<string>): Promise<boolean> => {
    setBusy(true);
    setSaid(null);
    try {
      setSaid({ ok: true, text: await call() });
      return true;
    } catch (e) {
      setSaid({ ok: false, text: (e as Error).message });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, said, run };
}

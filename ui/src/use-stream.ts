import { useEffect, useState } from 'preact/hooks';

/**
 * The newest event of a server-sent event stream (`event` names the event type), reconnecting
 * as EventSource does; `error` says when the stream is down, and clears when it is back.
 */
export function useStream<T>(path: string | null, event: string): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (path === null) return undefined;
    const source = new EventSource(path, { withCredentials: true });
    source.addEventListener(event, (e) => {
      setData(JSON.parse((e as MessageEvent<string>).data) as T);
      setError(null);
    });
    source.addEventListener('failed', (e) => {
      setError((JSON.parse((e as MessageEvent<string>).data) as { message: string }).message);
      source.close();
    });
    source.onerror = () => {
      if (source.readyState !== EventSource.OPEN) setError('The live figures are not coming through; trying again…');
    };
    return () => source.close();
  }, [path, event]);
  return { data, error };
}

import { useEffect, useState } from 'preact/hooks';
import { api, v1 } from './api.js';

/** Who the UI acts as (GET /api/v1/session): the server's policy, the key signed in, what it may do. */
export interface Session {
  auth: string;
  signedIn: boolean;
  key: { name: string; role: string } | null;
  permissions: string[];
}

let current: Session | null = null;
let failure: string | null = null;
const listeners = new Set<() => void>();
const changed = (): void => {
  for (const l of listeners) l();
};

/** Asks the server again (at start, after signing in or out). */
export async function refreshSession(): Promise<void> {
  try {
    current = await api<Session>(v1('/session'));
    failure = null;
  } catch (e) {
    failure = (e as Error).message;
  }
  changed();
}

export async function signIn(key: string): Promise<void> {
  current = await api<Session>(v1('/session'), { method: 'POST', body: { key } });
  changed();
}

export async function signOut(): Promise<void> {
  current = await api<Session>(v1('/session'), { method: 'DELETE' });
  changed();
}

export function useSession(): { session: Session | null; error: string | null } {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = (): void => tick((n) => n + 1);
    listeners.add(l);
    if (current === null && failure === null) void refreshSession();
    return () => void listeners.delete(l);
  }, []);
  return { session: current, error: failure };
}

/** Why the signed-in caller may not do something that needs `permission`, or null when it may. */
export function lacks(session: Session | null, permission: string, what: string): string | null {
  if (session === null || session.permissions.includes(permission)) return null;
  const who = session.key === null ? 'Without a key you' : `Your key ${session.key.name} (role ${session.key.role})`;
  return `${who} may not ${what}: that needs ${permission} permission.`;
}

import type { KeyIdentity } from './key-service.js';
import { roleGrants, type Capability, type Role, type Scope } from './roles.js';

/** Who is calling: a verified key, or nobody. */
export interface Principal {
  keyId: string | null;
  /** The key's name, recorded as the user of runs and versions and in the audit log. */
  name: string | null;
  role: Role | 'anonymous';
  scopes: readonly Scope[];
  grants: ReadonlySet<Capability>;
}

export function principalOf(k: KeyIdentity, extra: ReadonlySet<Capability> = new Set()): Principal {
  const grants = new Set(roleGrants(k.role));
  for (const c of extra) grants.add(c);
  return { keyId: k.keyId, name: k.name, role: k.role, scopes: k.scopes, grants };
}

export function anonymousPrincipal(grants: ReadonlySet<Capability>): Principal {
  return { keyId: null, name: null, role: 'anonymous', scopes: [], grants };
}

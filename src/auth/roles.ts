import { FluxError } from '../core/index.js';

/** The roles a key can have. */
export const ROLES = ['viewer', 'developer', 'predict', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route may require (declared on the route, GUIDE §2.12):
 * - `read`: tracking and registry reads;
 * - `write`: tracking writes, registration, and moving aliases that are not protected;
 * - `predict`: predictions;
 * - `approve`: the approval gates of rollouts and pipelines (which then move protected aliases);
 * - `admin`: keys, roles, the audit log and settings.
 */
export const PERMISSIONS = ['read', 'write', 'predict', 'approve', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A capability is a permission, or moving a protected alias (such as `production`). */
export type Capability = Permission | 'protected-alias';

const GRANTS: Record<Role, readonly Capability[]> = {
  viewer: ['read'],
  developer: ['read', 'write', 'predict'],
  predict: ['predict'],
  approver: ['read', 'approve'],
  admin: ['read', 'write', 'predict', 'approve', 'protected-alias', 'admin'],
};

export function roleGrants(role: Role): ReadonlySet<Capability> {
  return new Set(GRANTS[role]);
}

export function parseRole(v: unknown): Role {
  if (typeof v === 'string' && (ROLES as readonly string[]).includes(v)) return v as Role;
  throw new FluxError('INVALID_PARAMETER_VALUE', `role must be one of ${ROLES.join(', ')}; got ${JSON.stringify(v)}`, { field: 'role' });
}

/**
 * A key's scope: `model:<name>` or `endpoint:<name>` (a scoped predict key predicts only on
 * those), or `run:<run id>` (a developer key that writes only to that run and reads like a viewer:
 * the token a pipeline's `run:` step gets).
 */
export interface Scope {
  kind: 'model' | 'endpoint' | 'run';
  name: string;
}

const SCOPE = /^(model|endpoint):([A-Za-z0-9][\w.-]{0,199})$|^(run):([0-9a-f]{32})$/;

export function parseScope(v: unknown): Scope {
  const m = typeof v === 'string' ? SCOPE.exec(v) : null;
  if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `scope must be model:<name>, endpoint:<name> or run:<run id>; got ${JSON.stringify(v)}`, { field: 'scopes' });
  return m[3] !== undefined ? { kind: 'run', name: m[4]! } : { kind: m[1] as Scope['kind'], name: m[2]! };
}

export function formatScope(s: Scope): string {
  return `${s.kind}:${s.name}`;
}

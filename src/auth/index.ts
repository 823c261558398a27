export { KeyService, expiryOf, type ApiKeyInfo, type CreateKeyOptions, type KeyIdentity } from './key-service.js';
export { KyselyKeyStore, type KeyStore, type ApiKeyRecord } from './key-store.js';
export { AuditLog, KyselyAuditStore, type AuditEntry, type AuditQuery, type AuditStore } from './audit-log.js';
export { PERMISSIONS, ROLES, formatScope, parseRole, parseScope, roleGrants, type Capability, type Permission, type Role, type Scope } from './roles.js';
export { anonymousPrincipal, principalOf, type Principal } from './principal.js';

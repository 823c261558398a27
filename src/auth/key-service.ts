import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { FluxError } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import type { ApiKeyRecord, KeyStore } from './key-store.js';
import { formatScope, parseRole, parseScope, type Role, type Scope } from './roles.js';

export interface ApiKeyInfo {
  keyId: string;
  name: string;
  role: Role;
  /** `model:<name>` / `endpoint:<name>`; empty for an unscoped key. */
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface CreateKeyOptions {
  /** Default `predict`, the least a key can do. */
  role?: string | undefined;
  scopes?: string[] | undefined;
  /** Epoch ms, or a duration from now such as `30d`, `12h`. */
  expires?: number | string | undefined;
}

/** Who a verified key belongs to. */
export interface KeyIdentity {
  keyId: string;
  name: string;
  role: Role;
  scopes: Scope[];
}

const KEY_FORMAT = /^flx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** How long a verification result is reused; bounds how late a revocation from another process lands. */
const CACHE_MS = 1000;
/** `last_used_at` is written at most this often per key, so a busy key costs no write per request. */
const TOUCH_EVERY_MS = 60_000;
const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * API keys: `flx_<id>_<secret>`. The secret has 256 bits of entropy, so a plain SHA-256 of it is
 * a sound stored verifier (slow hashes exist for low-entropy passwords). Shown once at creation.
 * A key has one role, optional scopes (the models or endpoints it may predict on) and an expiry.
 */
export class KeyService {
  private readonly cache = new Map<string, { rec: ApiKeyRecord | undefined; identity: KeyIdentity | undefined; until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: KeyStore,
    private readonly onTouchError: (e: unknown) => void = () => undefined,
  ) {}

  async create(name: unknown, opts: CreateKeyOptions = {}, ctx?: WriteContext): Promise<{ key: string; info: ApiKeyInfo }> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'key name must be a non-empty string of at most 100 characters', { field: 'name' });
    }
    const role = parseRole(opts.role ?? 'predict');
    if (opts.scopes !== undefined && !Array.isArray(opts.scopes)) throw new FluxError('INVALID_PARAMETER_VALUE', 'scopes must be a list such as ["model:diabetes"]', { field: 'scopes' });
    const scopes = (opts.scopes ?? []).map(parseScope);
    const runScoped = scopes.filter((x) => x.kind === 'run').length;
    if (runScoped > 0 && (role !== 'developer' || runScoped !== scopes.length)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'run:<id> scopes limit what a developer key may write to; give them alone, to a developer key', { field: 'scopes' });
    }
    if (scopes.length > 0 && runScoped === 0 && role !== 'predict') {
      throw new FluxError('INVALID_PARAMETER_VALUE', `scopes limit what a predict key may predict on; a ${role} key cannot be scoped`, { field: 'scopes' });
    }
    const now = Date.now();
    const expiresAt = expiryOf(opts.expires, now);
    const keyId = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const rec: ApiKeyRecord = { keyId, name, secretHash: hash(secret), role, scopes, createdAt: now, expiresAt, revokedAt: null, lastUsedAt: null };
    await this.store.insert(rec, actorOf(ctx));
    return { key: `flx_${keyId}_${secret}`, info: toInfo(rec) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.list()).map(toInfo);
  }

  async get(keyId: string): Promise<ApiKeyInfo | undefined> {
    const rec = await this.store.get(keyId);
    return rec ? toInfo(rec) : undefined;
  }

  async revoke(keyId: unknown, ctx?: WriteContext): Promise<void> {
    if (typeof keyId !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'key id must be a string', { field: 'key_id' });
    const rec = await this.store.get(keyId);
    if (!rec) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `API key '${keyId}' does not exist`);
    await this.store.revoke(keyId, Date.now(), actorOf(ctx));
    for (const [k, v] of this.cache) if (v.rec?.keyId === keyId) this.cache.delete(k);
  }

  /** Verifies a key; throws UNAUTHENTICATED saying why otherwise. */
  async verify(key: string): Promise<KeyIdentity> {
    const cached = this.verifyCached(key);
    if (cached !== undefined) return cached;
    const now = Date.now();
    const m = KEY_FORMAT.exec(key);
    let rec: ApiKeyRecord | undefined;
    if (m !== null) {
      const found = await this.store.get(m[1]!);
      if (found !== undefined && timingSafeEqual(Buffer.from(found.secretHash, 'hex'), Buffer.from(hash(m[2]!), 'hex'))) rec = found;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    // One identity object per cache entry, so callers may key their own caches on it.
    const entry = { rec, identity: rec ? { keyId: rec.keyId, name: rec.name, role: rec.role, scopes: rec.scopes } : undefined, until: now + CACHE_MS };
    this.cache.set(key, entry);
    return this.accept(entry, now);
  }

  /**
   * `verify` without waiting, for a key checked within the last second: its identity, or the
   * refusal; undefined when the key must be looked up (then call `verify`).
   */
  verifyCached(key: string): KeyIdentity | undefined {
    const now = Date.now();
    const entry = this.cache.get(key);
    if (entry === undefined || entry.until <= now) return undefined;
    return this.accept(entry, now);
  }

  private accept(entry: { rec: ApiKeyRecord | undefined; identity: KeyIdentity | undefined }, now: number): KeyIdentity {
    const rec = entry.rec;
    if (rec === undefined || rec.revokedAt !== null) throw new FluxError('UNAUTHENTICATED', 'invalid or revoked API key');
    if (rec.expiresAt !== null && rec.expiresAt <= now) throw new FluxError('UNAUTHENTICATED', `API key ${rec.keyId} expired at ${new Date(rec.expiresAt).toISOString()}`);
    this.touch(rec.keyId, now);
    return entry.identity!;
  }

  private touch(keyId: string, now: number): void {
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(keyId, now);
    this.store.touch(keyId, now).catch(this.onTouchError);
  }
}

/** `30d`, `12h`, `90m`, `3600s`, `2w`, or epoch ms; must lie in the future. */
export function expiryOf(v: number | string | undefined, now: number): number | null {
  if (v === undefined) return null;
  let at: number;
  if (typeof v === 'number') at = v;
  else {
    const m = DURATION.exec(v.trim());
    if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `expires must be a duration such as 30d, 12h or 90m; got ${JSON.stringify(v)}`, { field: 'expires' });
    at = now + Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (!Number.isSafeInteger(at) || at <= now) throw new FluxError('INVALID_PARAMETER_VALUE', 'expires must lie in the future', { field: 'expires' });
  return at;
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toInfo(r: ApiKeyRecord): ApiKeyInfo {
  return {
    keyId: r.keyId,
    name: r.name,
    role: r.role,
    scopes: r.scopes.map(formatScope),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    lastUsedAt: r.lastUsedAt,
  };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { FluxError } from '../core/index.js';
import type { ApiKeyRecord, KeyStore } from './key-store.js';

export interface ApiKeyInfo {
  keyId: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

const KEY_FORMAT = /^flx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** How long a verification result is reused; bounds how late a revocation from another process lands. */
const CACHE_MS = 1000;

/**
 * API keys: `flx_<id>_<secret>`. The secret has 256 bits of entropy, so a plain SHA-256 of it is
 * a sound stored verifier (slow hashes exist for low-entropy passwords). Shown once at creation.
 */
export class KeyService {
  private readonly cache = new Map<string, { ok: boolean; keyId: string; until: number }>();

  constructor(private readonly store: KeyStore) {}

  async create(name: unknown): Promise<{ key: string; info: ApiKeyInfo }> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      throw new FluxError('INVALID_PARAMETER_VALUE', 'key name must be a non-empty string of at most 100 characters', { field: 'name' });
    }
    const keyId = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const rec: ApiKeyRecord = { keyId, name, secretHash: hash(secret), createdAt: Date.now(), revokedAt: null };
    await this.store.insert(rec);
    return { key: `flx_${keyId}_${secret}`, info: toInfo(rec) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.list()).map(toInfo);
  }

  async revoke(keyId: unknown): Promise<void> {
    if (typeof keyId !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'key id must be a string', { field: 'key_id' });
    const rec = await this.store.get(keyId);
    if (!rec) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `API key '${keyId}' does not exist`);
    await this.store.revoke(keyId, Date.now());
    for (const [k, v] of this.cache) if (v.keyId === keyId) this.cache.delete(k);
  }

  /** Verifies an `Authorization` header value; throws UNAUTHENTICATED with a reason otherwise. */
  async verifyHeader(header: string | undefined): Promise<string> {
    if (header === undefined || header === '') throw new FluxError('UNAUTHENTICATED', 'missing Authorization header: send "Authorization: Bearer <api key>"');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m === null) throw new FluxError('UNAUTHENTICATED', 'Authorization header must be "Bearer <api key>"');
    return this.verify(m[1]!);
  }

  async verify(key: string): Promise<string> {
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.until > now) {
      if (!cached.ok) throw invalidKey();
      return cached.keyId;
    }
    const m = KEY_FORMAT.exec(key);
    let ok = false;
    const keyId = m?.[1] ?? '';
    if (m !== null) {
      const rec = await this.store.get(keyId);
      if (rec !== undefined && rec.revokedAt === null) {
        ok = timingSafeEqual(Buffer.from(rec.secretHash, 'hex'), Buffer.from(hash(m[2]!), 'hex'));
      }
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { ok, keyId, until: now + CACHE_MS });
    if (!ok) throw invalidKey();
    return keyId;
  }
}

function invalidKey(): FluxError {
  return new FluxError('UNAUTHENTICATED', 'invalid or revoked API key');
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toInfo(r: ApiKeyRecord): ApiKeyInfo {
  return { keyId: r.keyId, name: r.name, createdAt: r.createdAt, revokedAt: r.revokedAt };
}

import type { Kysely } from 'kysely';
import { outboxFor, type Actor, type Outbox } from '../events/index.js';
import type { Database, MetadataDb } from '../storage/db/index.js';
import { parseRole, parseScope, type Role, type Scope } from './roles.js';

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  secretHash: string;
  role: Role;
  scopes: Scope[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** Port for API key records; only hashes of secrets are stored. */
export interface KeyStore {
  insert(rec: ApiKeyRecord, actor: Actor): Promise<void>;
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(keyId: string, at: number, actor: Actor): Promise<boolean>;
  /** Records use; only ever moves the time forward, so concurrent writers cannot move it back. */
  touch(keyId: string, at: number): Promise<void>;
}

export class KyselyKeyStore implements KeyStore {
  private readonly db: Kysely<Database>;
  private readonly outbox: Outbox;
  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }
  async insert(rec: ApiKeyRecord, actor: Actor): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      await trx
        .insertInto('api_keys')
        .values({
          key_id: rec.keyId,
          name: rec.name,
          secret_hash: rec.secretHash,
          role: rec.role,
          scopes: JSON.stringify(rec.scopes.map((s) => `${s.kind}:${s.name}`)),
          created_at: rec.createdAt,
          expires_at: rec.expiresAt,
          revoked_at: rec.revokedAt,
          last_used_at: rec.lastUsedAt,
        })
        .execute();
      await this.outbox.append(trx, { type: 'key.created', payload: { key_id: rec.keyId, name: rec.name, role: rec.role }, actor });
    });
  }
  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('key_id').execute()).map(toRecord);
  }
  async revoke(keyId: string, at: number, actor: Actor): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const revoked = await trx.updateTable('api_keys').set({ revoked_at: at }).where('key_id', '=', keyId).where('revoked_at', 'is', null).returning('name').execute();
      for (const r of revoked) await this.outbox.append(trx, { type: 'key.revoked', payload: { key_id: keyId, name: r.name }, actor });
      return revoked.length > 0;
    });
  }
  async touch(keyId: string, at: number): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('key_id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}

const UNREADABLE: Scope = { kind: 'model', name: '' };

function toRecord(r: Database['api_keys']): ApiKeyRecord {
  // Fails closed: scopes that cannot be read give a scope that matches nothing, never none.
  let scopes: Scope[];
  try {
    const parsed: unknown = JSON.parse(r.scopes);
    scopes = Array.isArray(parsed) ? parsed.map(parseScope) : [UNREADABLE];
  } catch {
    scopes = [UNREADABLE];
  }
  return {
    keyId: r.key_id,
    name: r.name,
    secretHash: r.secret_hash,
    role: parseRole(r.role),
    scopes,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

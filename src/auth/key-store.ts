import type { Kysely } from 'kysely';
import type { Database, MetadataDb } from '../storage/db/index.js';

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** Port for API key records; only hashes of secrets are stored. */
export interface KeyStore {
  insert(rec: ApiKeyRecord): Promise<void>;
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(keyId: string, at: number): Promise<boolean>;
}

export class KyselyKeyStore implements KeyStore {
  private readonly db: Kysely<Database>;
  constructor(m: MetadataDb) {
    this.db = m.db;
  }
  async insert(rec: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({ key_id: rec.keyId, name: rec.name, secret_hash: rec.secretHash, created_at: rec.createdAt, revoked_at: rec.revokedAt })
      .execute();
  }
  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()).map(toRecord);
  }
  async revoke(keyId: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('api_keys').set({ revoked_at: at }).where('key_id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}

function toRecord(r: Database['api_keys']): ApiKeyRecord {
  return { keyId: r.key_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at };
}

import type { Kysely } from 'kysely';
import { outboxFor, type Outbox } from '../events/index.js';
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
  private readonly outbox: Outbox;
  constructor(m: MetadataDb) {
    this.db = m.db;
    this.outbox = outboxFor(m);
  }
  async insert(rec: ApiKeyRecord): Promise<void> {
    await this.outbox.transaction(async (trx) => {
      await trx
        .insertInto('api_keys')
        .values({ key_id: rec.keyId, name: rec.name, secret_hash: rec.secretHash, created_at: rec.createdAt, revoked_at: rec.revokedAt })
        .execute();
      await this.outbox.append(trx, { type: 'key.created', payload: { key_id: rec.keyId, name: rec.name } });
    });
  }
  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()).map(toRecord);
  }
  async revoke(keyId: string, at: number): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const revoked = await trx.updateTable('api_keys').set({ revoked_at: at }).where('key_id', '=', keyId).where('revoked_at', 'is', null).returning('name').execute();
      for (const r of revoked) await this.outbox.append(trx, { type: 'key.revoked', payload: { key_id: keyId, name: r.name } });
      return revoked.length > 0;
    });
  }
}

function toRecord(r: Database['api_keys']): ApiKeyRecord {
  return { keyId: r.key_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at };
}
